"""The workflow rules DOMAIN §3.1 marks [cfg] are admin settings: each is obeyed at its default
and at a changed value, and every change is validated and audited."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from app.core.audit import AuditEvent
from app.core.errors import PermissionDenied, ValidationFailed
from app.core.permissions import Role
from app.sla import services as sla
from app.tickets import services
from app.tickets.models import SupervisionOrder, TicketStatus
from app.tickets.services import transition
from tests.helpers import post_form

S = TicketStatus


def settings_data(**changes) -> sla.SettingsData:
    current = sla.get_settings()
    values = {name: getattr(current, name) for name in sla.SettingsData.__dataclass_fields__}
    return sla.SettingsData(**{**values, **changes})


def reopen_cycle(ticket, cast, actor) -> None:
    transition(ticket, "reopen", actor, reason="企业不满意")
    transition(ticket, "reply", cast.handler, text="再次答复")
    transition(ticket, "approve_reply", cast.dispatcher)


@pytest.mark.parametrize("limit", [0, 1, 2, 3])
def test_the_dispatcher_may_reopen_exactly_as_often_as_the_setting_says(limit, ticket_in, cast):
    sla.update_settings(settings_data(reopen_limit=limit), cast.admin)
    ticket = ticket_in(S.FOLLOW_UP)
    for _ in range(limit):
        reopen_cycle(ticket, cast, cast.dispatcher)
    with pytest.raises(PermissionDenied):
        transition(ticket, "reopen", cast.dispatcher, reason="仍不满意")
    transition(ticket, "reopen", cast.supervisor, reason="督办复核")
    assert ticket.reopen_count == limit + 1


def test_the_default_reopen_limit_is_two(ticket_in, cast):
    assert sla.get_settings().reopen_limit == 2


@pytest.mark.parametrize(("days", "due_local_day"), [(3, "2026-03-05"), (5, "2026-03-09")])
def test_a_supervision_order_without_a_date_gets_the_configured_working_days(
        days, due_local_day, ticket_in, cast, frozen_clock):
    from app.core.clock import to_local

    sla.update_settings(settings_data(supervision_order_days=days), cast.admin)
    ticket = ticket_in(S.IN_PROGRESS)  # Monday 2026-03-02
    transition(ticket, "supervise", cast.supervisor, reason="超期未办")
    order = ticket_order(ticket)
    assert to_local(order.due_at).date().isoformat() == due_local_day


def ticket_order(ticket):
    from app.extensions import db

    return db.session.scalars(sa.select(SupervisionOrder)
                              .where(SupervisionOrder.ticket_id == ticket.id)).one()


@pytest.mark.parametrize("changes", [{"reopen_limit": -1}, {"supervision_order_days": 0}])
def test_out_of_range_workflow_rules_are_refused(changes, cast):
    with pytest.raises(ValidationFailed):
        sla.update_settings(settings_data(**changes), cast.admin)


def test_follow_up_attempts_stay_fixed_by_domain():
    """DOMAIN §3.1 fixes "3 attempts on different days" (not [cfg]): no setting changes it."""
    assert services.FOLLOW_UP_ATTEMPTS == 3
    assert not hasattr(sla.get_settings(), "follow_up_attempts")


def test_the_admin_page_changes_the_workflow_rules_and_audits_before_and_after(
        client, make, login_as, db):
    login_as(make.user(Role.ADMIN))
    form = {"morning_start": "08:30", "morning_end": "12:00", "afternoon_start": "13:30",
            "afternoon_end": "17:30", "extension_max_requests": "2",
            "extension_max_total_days": "10", "extension_request_lead_days": "1",
            "reopen_limit": "3", "supervision_order_days": "5",
            "reply_needs_unit_lead_approval": "y"}
    bad = post_form(client, "/admin/sla/settings", dict(form, supervision_order_days="0"))
    assert bad.status_code == 200 and sla.get_settings().supervision_order_days == 3
    assert post_form(client, "/admin/sla/settings", form).status_code == 302
    settings = sla.get_settings()
    assert (settings.reopen_limit, settings.supervision_order_days,
            settings.reply_needs_unit_lead_approval) == (3, 5, True)
    event = db.session.scalars(sa.select(AuditEvent).where(
        AuditEvent.action == "sla.settings_update").order_by(AuditEvent.id.desc())).first()
    assert event.details["changes"]["reopen_limit"] == ["2", "3"]
    assert event.details["changes"]["reply_needs_unit_lead_approval"] == ["False", "True"]
    policies = client.get("/admin/sla/policies", headers={"Accept-Language": "en"})
    assert "Replies need the unit lead" in policies.get_data(as_text=True)


def test_a_non_admin_cannot_change_the_settings(client, make, login_as):
    login_as(make.user(Role.SUPERVISOR))
    assert client.get("/admin/sla/settings").status_code == 403
