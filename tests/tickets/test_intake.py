"""Staff record phone, walk-in and visit demands: a registered firm found by USCC or name, or
an unregistered requester with a way to reply; bad input keeps the form and writes nothing."""

from __future__ import annotations

import sqlalchemy as sa

from app.extensions import db
from app.tickets.models import Channel, Ticket, TicketStatus
from tests.helpers import post_form

FORM = {"channel": "phone", "service_mode": "standard", "demand_type": "help",
        "urgency": "normal", "category": "0", "title": "用工招聘困难",
        "description": "企业急需熟练焊工二十名，希望协助对接职业院校。"}


def count() -> int:
    return db.session.scalar(sa.select(sa.func.count(Ticket.id)))


def test_dispatcher_records_phone_request_of_unregistered_requester(cast, login_as):
    client = login_as(cast.dispatcher)
    response = post_form(client, "/tickets/new", {**FORM, "requester_name": "王先生",
                                                  "requester_mobile": "138 1234 5678"})
    assert response.status_code == 302
    ticket = db.session.scalar(sa.select(Ticket).order_by(Ticket.id.desc()))
    assert response.headers["Location"].endswith(f"/tickets/{ticket.reference}")
    assert ticket.status == TicketStatus.SUBMITTED and ticket.channel == Channel.PHONE
    assert ticket.firm_id is None and ticket.requester_name == "王先生"
    assert ticket.created_by_id == cast.dispatcher.id


def test_registered_firm_is_found_by_uscc_typed_with_spaces(cast, login_as, make):
    firm = make.firm()
    client = login_as(cast.handler)
    typed = " ".join([firm.uscc[:6], firm.uscc[6:12], firm.uscc[12:]]).lower()
    response = post_form(client, "/tickets/new", {**FORM, "channel": "visit",
                                                  "firm_lookup": typed})
    assert response.status_code == 302
    ticket = db.session.scalar(sa.select(Ticket).order_by(Ticket.id.desc()))
    assert ticket.firm_id == firm.id


def test_requester_without_contact_is_refused_and_input_kept(cast, login_as):
    client = login_as(cast.dispatcher)
    before = count()
    response = post_form(client, "/tickets/new", {**FORM, "requester_name": "王先生"})
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "企业急需熟练焊工二十名" in page
    assert count() == before


def test_unknown_firm_is_reported_next_to_the_field(cast, login_as):
    client = login_as(cast.dispatcher)
    before = count()
    response = post_form(client, "/tickets/new", {**FORM, "firm_lookup": "不存在的公司"})
    assert "invalid-feedback" in response.get_data(as_text=True)
    assert count() == before


def test_firm_users_and_admins_cannot_use_staff_intake(cast, login_as):
    assert login_as(cast.firm_user).get("/tickets/new").status_code == 403
    assert login_as(cast.admin).get("/tickets/new").status_code == 403


def test_a_firm_accounts_ticket_belongs_to_its_firm_when_no_firm_is_named(make):
    """create_ticket for a firm user without an explicit firm: the account's own firm, stored."""
    from app.tickets import services
    from app.tickets.models import DemandType, ServiceMode, Urgency

    firm_user = make.user(role="firm_user")
    ticket = services.create_ticket(
        firm_user, channel=Channel.PORTAL, service_mode=ServiceMode.STANDARD,
        demand_type=DemandType.CONSULT, urgency=Urgency.NORMAL, title="用地咨询",
        description="想了解厂房用地手续。")
    db.session.expire_all()
    assert db.session.get(Ticket, ticket.id).firm_id == firm_user.firm_id is not None
