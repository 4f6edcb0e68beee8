"""The ticket pages: hidden tickets answer 404 and never appear in a list, the page offers only
allowed actions, actions are POST forms, and a stale form is refused with the text kept."""

from __future__ import annotations

import pytest
from markupsafe import escape

from app.core.permissions import Role
from app.extensions import db
from app.tickets.models import Ticket, TicketStatus
from app.tickets.queries import visible_tickets
from app.tickets.services import ConcurrentChange
from tests.helpers import csrf_token

S = TicketStatus


def test_handler_of_another_unit_gets_404_and_no_list_entry(ticket_in, cast, login_as):
    ticket = ticket_in(S.DISPATCHED)
    client = login_as(cast.stranger)
    assert client.get(f"/tickets/{ticket.reference}").status_code == 404
    listing = client.get("/tickets/?queue=all").get_data(as_text=True)
    assert ticket.reference not in listing
    token = csrf_token(client, "/tickets/")
    response = client.post(f"/tickets/{ticket.reference}/act/acknowledge",
                           data={"csrf_token": token, "version": ticket.version})
    assert response.status_code == 404
    assert ticket.status == S.DISPATCHED


def test_lead_unit_handler_sees_ticket_in_list_and_page(ticket_in, cast, login_as):
    ticket = ticket_in(S.DISPATCHED)
    client = login_as(cast.handler)
    assert ticket.reference in client.get("/tickets/?queue=to_acknowledge").get_data(as_text=True)
    page = client.get(f"/tickets/{ticket.reference}").get_data(as_text=True)
    assert 'data-action="acknowledge"' in page
    assert 'data-action="dispatch"' not in page


@pytest.mark.parametrize("role", ["firm_user", "handler", "lead", "dispatcher", "supervisor",
                                  "stranger", "admin", "auditor"])
def test_list_and_detail_agree_for_every_role(role, ticket_in, cast, make):
    tickets = [ticket_in(S.SUBMITTED), ticket_in(S.IN_PROGRESS),
               make.ticket(actor=cast.dispatcher)]
    user = getattr(cast, role)
    listed = set(db.session.scalars(visible_tickets(user).where(
        Ticket.id.in_([t.id for t in tickets]))))
    for ticket in tickets:
        assert (ticket in listed) == ticket.can_view(user)


def test_assisting_unit_sees_the_ticket(make, cast):
    from app.tickets.services import transition

    ticket = make.ticket(actor=cast.dispatcher)
    transition(ticket, "dispatch", cast.dispatcher, lead_unit=cast.unit,
               assisting_units=[cast.other_unit])
    assert ticket.can_view(cast.stranger)
    assert db.session.scalar(visible_tickets(cast.stranger).where(Ticket.id == ticket.id))


def test_admin_and_auditor_are_refused_the_ticket_pages(cast, login_as):
    for user in (cast.admin, cast.auditor):
        assert login_as(user).get("/tickets/").status_code == 403


def test_acknowledge_through_the_page(ticket_in, cast, login_as):
    ticket = ticket_in(S.DISPATCHED)
    client = login_as(cast.handler)
    token = csrf_token(client, f"/tickets/{ticket.reference}")
    response = client.post(f"/tickets/{ticket.reference}/act/acknowledge",
                           data={"csrf_token": token, "version": ticket.version})
    assert response.status_code == 302
    assert ticket.status == S.IN_PROGRESS


def test_stale_form_gets_reload_message_and_keeps_text(ticket_in, cast, login_as):
    from app.tickets.services import transition

    ticket = ticket_in(S.IN_PROGRESS)
    seen = ticket.version
    client = login_as(cast.handler)
    token = csrf_token(client, f"/tickets/{ticket.reference}")
    transition(ticket, "urge", cast.dispatcher)  # someone else acts meanwhile
    response = client.post(f"/tickets/{ticket.reference}/act/reply",
                           data={"csrf_token": token, "version": seen,
                                 "text": "我的长篇答复草稿"})
    assert response.status_code == 409
    page = response.get_data(as_text=True)
    assert "我的长篇答复草稿" in page
    assert str(escape(str(ConcurrentChange()))) in page
    assert ticket.status == S.IN_PROGRESS


def test_refused_data_is_shown_with_input_kept(ticket_in, cast, login_as):
    ticket = ticket_in(S.SUBMITTED)
    client = login_as(cast.dispatcher)
    token = csrf_token(client, f"/tickets/{ticket.reference}")
    response = client.post(f"/tickets/{ticket.reference}/act/reject_intake",
                           data={"csrf_token": token, "version": ticket.version,
                                 "reason": "非涉企诉求"})
    assert response.status_code == 400
    assert "非涉企诉求" in response.get_data(as_text=True)
    assert ticket.status == S.SUBMITTED


def test_firm_user_does_not_see_internal_comments(ticket_in, cast, login_as):
    from app.tickets.services import add_comment

    ticket = ticket_in(S.IN_PROGRESS)
    add_comment(ticket, cast.handler, "内部备注：需协调", "internal")
    add_comment(ticket, cast.handler, "已联系贵司", "public")
    page = login_as(cast.firm_user).get(f"/tickets/{ticket.reference}").get_data(as_text=True)
    assert "已联系贵司" in page and "内部备注" not in page
    assert cast.firm_user.role == Role.FIRM_USER


def test_ticket_page_lists_the_extension_awaiting_the_supervisor(ticket_in, cast, login_as):
    from app.tickets.services import transition

    ticket = ticket_in(S.IN_PROGRESS)
    transition(ticket, "request_extension", cast.handler, days=3, reason="需现场核查环评")
    transition(ticket, "endorse_extension", cast.lead)
    db.session.commit()
    page = login_as(cast.supervisor).get(f"/tickets/{ticket.reference}").get_data(as_text=True)
    assert 'data-testid="requests"' in page and "需现场核查环评" in page
    assert 'data-action="approve_extension"' in page
    firm_page = login_as(cast.firm_user).get(f"/tickets/{ticket.reference}")
    assert "需现场核查环评" not in firm_page.get_data(as_text=True)


def test_deadlines_show_working_days_left(ticket_in, cast, login_as, frozen_clock):
    ticket = ticket_in(S.IN_PROGRESS)  # dispatched Monday 2026-03-02 10:00, due end of 03-09
    page = login_as(cast.handler).get(f"/tickets/{ticket.reference}",
                                      headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert 'data-testid="deadlines"' in page
    # office hours only: Monday 10:00–12:00 and 13:30–17:30, then five whole working days
    assert "5 working days 6 h left" in page


def test_firm_sees_the_reply_only_once_approved(ticket_in, cast, login_as):
    from app.tickets.services import transition

    ticket = ticket_in(S.REPLIED)
    client = login_as(cast.firm_user)
    assert "已协调人社局" not in client.get(f"/tickets/{ticket.reference}").get_data(as_text=True)
    transition(ticket, "approve_reply", cast.dispatcher)
    db.session.commit()
    assert "已协调人社局" in client.get(f"/tickets/{ticket.reference}").get_data(as_text=True)


def test_unit_lead_approves_a_submitted_reply_through_the_pages(ticket_in, cast, login_as):
    from app.sla import services as sla

    sla.get_settings().reply_needs_unit_lead_approval = True
    ticket = ticket_in(S.IN_PROGRESS)
    handler = login_as(cast.handler)
    page = handler.get(f"/tickets/{ticket.reference}").get_data(as_text=True)
    assert 'data-action="submit_reply"' in page and 'data-action="reply"' not in page
    response = handler.post(f"/tickets/{ticket.reference}/act/submit_reply",
                            data={"csrf_token": csrf_token(handler, f"/tickets/{ticket.reference}"),
                                  "version": ticket.version, "text": "已协调人社局专场招聘"})
    assert response.status_code == 302 and ticket.status == S.IN_PROGRESS
    lead = login_as(cast.lead)
    page = lead.get(f"/tickets/{ticket.reference}").get_data(as_text=True)
    assert 'data-testid="reply-approval"' in page and "已协调人社局专场招聘" in page
    assert 'data-action="approve_unit_reply"' in page
    response = lead.post(f"/tickets/{ticket.reference}/act/approve_unit_reply",
                         data={"csrf_token": csrf_token(lead, f"/tickets/{ticket.reference}"),
                               "version": ticket.version})
    assert response.status_code == 302
    assert ticket.status == S.REPLIED and ticket.reply_text == "已协调人社局专场招聘"


def test_kept_dialog_fields_never_show_another_request_s_input(ticket_in, cast, login_as):
    """The dialogs' fields are kept rendered per field state: a refused action shows its own
    input and error, and the next page the empty fields again, in the page's language."""
    ticket = ticket_in(S.IN_PROGRESS)
    client = login_as(cast.handler)
    page = f"/tickets/{ticket.reference}"
    empty = client.get(page).get_data(as_text=True)
    assert 'name="days" type="number" value=""' in empty
    refused = client.post(f"{page}/act/request_extension", data={
        "csrf_token": csrf_token(client, page), "version": ticket.version, "days": "99",
        "reason": "需要更多时间"})
    assert refused.status_code == 400
    shown = refused.get_data(as_text=True)
    assert 'value="99"' in shown and "需要更多时间" in shown and "is-invalid" in shown
    again = client.get(page).get_data(as_text=True)
    assert 'value="99"' not in again and "需要更多时间" not in again
    assert 'name="days" type="number" value=""' in again
    english = client.get(page, headers={"Accept-Language": "en"}).get_data(as_text=True)
    chinese = client.get(page, headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
    assert "Working days" in english and "Working days" not in chinese


def test_page_form_has_only_its_dialogs_fields_rendered_as_the_full_form(app):
    from app.tickets.forms import ActionForm, dialogs_action_form

    with app.test_request_context("/"):
        form, full = dialogs_action_form(frozenset({"reason", "days"}))(), ActionForm()
        assert [field.name for field in form] == ["version", "reason", "days", "csrf_token"]
        assert type(form).__name__ == "ActionForm"  # the kept fragments' key
        for name in ("version", "reason", "days"):
            assert form[name]() == full[name]() and form[name].label() == full[name].label()
    assert dialogs_action_form(frozenset({"reason"})) is dialogs_action_form(frozenset({"reason"}))


def test_refused_action_page_shows_every_dialog_with_its_fields(ticket_in, cast, login_as):
    """The page's form holds only its dialogs' fields; a posted form holds all of them, so the
    page shown again after a refusal has every dialog the user may open, fields included."""
    ticket = ticket_in(S.IN_PROGRESS)
    client = login_as(cast.handler)
    page = f"/tickets/{ticket.reference}"
    shown = client.get(page).get_data(as_text=True)
    refused = client.post(f"{page}/act/request_extension", data={
        "csrf_token": csrf_token(client, page), "version": ticket.version, "days": "99"})
    assert refused.status_code == 400
    again = refused.get_data(as_text=True)
    for name in ("text", "days", "reason", "legal_basis"):
        assert f'name="{name}"' in shown and f'name="{name}"' in again
    assert 'name="target"' not in shown and 'name="lead_unit"' not in shown
