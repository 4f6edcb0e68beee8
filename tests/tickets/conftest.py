"""Ticket fixtures: the official calendar and default policies, and tickets in any state."""

from __future__ import annotations

import pytest

from app.core import mail
from app.core.permissions import Role
from app.extensions import db
from app.sla import services as sla_services
from app.tickets import services
from app.tickets.models import TicketStatus

S = TicketStatus


@pytest.fixture(autouse=True)
def sla_ready(db):
    """Seed the official 2026 calendar and the default SLA policies of DOMAIN §3.2."""
    sla_services.seed_calendar([2026])
    sla_services.seed_policies()
    mail.outbox.clear()
    yield
    mail.outbox.clear()


@pytest.fixture
def cast(make):
    """One user per role; the handler and the unit lead share the lead unit ``unit``."""

    class Cast:
        unit = make.unit(name="商务局测试", code="SWJT")
        other_unit = make.unit(name="工信局测试", code="GXJT")
        handler = make.user(Role.HANDLER, unit=unit, email="handler@example.com")
        lead = make.user(Role.UNIT_LEAD, unit=unit, email="lead@example.com")
        stranger = make.user(Role.HANDLER, unit=other_unit, email="other@example.com")
        dispatcher = make.user(Role.DISPATCHER)
        supervisor = make.user(Role.SUPERVISOR)
        firm_user = make.user(Role.FIRM_USER, email="firm@example.com")
        admin = make.user(Role.ADMIN)
        auditor = make.user(Role.AUDITOR)

    return Cast


#: The actions that bring a fresh ticket into each state (actor attribute, action, data).
PATHS = {
    S.SUBMITTED: [],
    S.DISPATCHED: [("dispatcher", "dispatch", {"lead_unit": "unit"})],
    S.IN_PROGRESS: [("dispatcher", "dispatch", {"lead_unit": "unit"}),
                    ("handler", "acknowledge", {})],
    S.RETURN_REQUESTED: [("dispatcher", "dispatch", {"lead_unit": "unit"}),
                         ("handler", "request_return",
                          {"reason": "不属本单位职责", "legal_basis": "三定方案",
                           "suggested_unit": "other_unit"})],
    S.SUSPENDED: [("dispatcher", "dispatch", {"lead_unit": "unit"}),
                  ("handler", "acknowledge", {}),
                  ("handler", "suspend", {"missing_info": "营业执照复印件",
                                          "contact_attempt": "电话联系企业联系人"})],
    S.REPLIED: [("dispatcher", "dispatch", {"lead_unit": "unit"}),
                ("handler", "acknowledge", {}),
                ("handler", "reply", {"text": "已协调人社局组织专场招聘会。"})],
    S.FOLLOW_UP: [("dispatcher", "dispatch", {"lead_unit": "unit"}),
                  ("handler", "acknowledge", {}),
                  ("handler", "reply", {"text": "已协调人社局组织专场招聘会。"}),
                  ("dispatcher", "approve_reply", {})],
    S.CLOSED: [("dispatcher", "dispatch", {"lead_unit": "unit"}),
               ("handler", "acknowledge", {}),
               ("handler", "reply", {"text": "已协调人社局组织专场招聘会。"}),
               ("dispatcher", "approve_reply", {}),
               ("firm_user", "rate", {"level": 5})],
    S.REJECTED: [("dispatcher", "reject_intake", {"reason": "不属于涉企诉求",
                                                  "proper_channel": "12345热线"})],
    S.WITHDRAWN: [("firm_user", "withdraw", {"reason": "问题已自行解决"})],
}


@pytest.fixture
def ticket_in(make, cast):
    """``ticket_in(state)``: a ticket of the cast's firm user walked to ``state`` for real."""

    def build(state: TicketStatus, **overrides):
        overrides.setdefault("actor", cast.firm_user)
        ticket = make.ticket(**overrides)
        if state == S.MERGED:
            other = make.ticket(actor=cast.firm_user)
            services.transition(ticket, "merge", cast.dispatcher, target=other)
            db.session.commit()
            return ticket
        for who, name, data in PATHS[state]:
            values = {k: getattr(cast, v) if k in ("lead_unit", "suggested_unit") else v
                      for k, v in data.items()}
            services.transition(ticket, name, getattr(cast, who), **values)
        assert ticket.status == state
        db.session.commit()
        return ticket

    return build
