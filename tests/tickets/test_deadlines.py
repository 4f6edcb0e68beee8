"""Deadlines follow DOMAIN §3.2 on the official calendar: counted from dispatch, suspended and
misrouted time excluded, extensions within their limits, late acknowledgement recorded."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from app.core import clock, mail
from app.core.errors import PermissionDenied
from app.extensions import db
from app.tickets.models import (
    ClosureKind,
    DemandType,
    ExtensionStatus,
    ServiceMode,
    TicketEvent,
    TicketStatus,
    Urgency,
)
from app.tickets.services import (
    InvalidTransition,
    allowed_actions,
    supply_information,
    transition,
)

S = TicketStatus
BEIJING = ZoneInfo("Asia/Shanghai")


def local(*args) -> datetime:
    """An instant given in Beijing time."""
    return datetime(*args, tzinfo=BEIJING).astimezone(UTC)


def end_of(y, m, d) -> datetime:
    return local(y, m, d, 23, 59, 59)


def at(*args) -> None:
    clock.freeze(local(*args))


def last_event(ticket) -> TicketEvent:
    return db.session.scalars(sa.select(TicketEvent).where(TicketEvent.ticket_id == ticket.id)
                              .order_by(TicketEvent.id.desc())).first()


def dispatched(make, cast, when, **kwargs):
    at(*when)
    kwargs.setdefault("actor", cast.dispatcher)
    ticket = make.ticket(**kwargs)
    transition(ticket, "dispatch", cast.dispatcher, lead_unit=cast.unit)
    return ticket


def test_dispatch_over_spring_festival_counts_official_working_days(make, cast):
    ticket = dispatched(make, cast, (2026, 2, 13, 10, 0))  # Friday before 春节
    assert ticket.handle_due_at == end_of(2026, 2, 27)  # 5 WD: 02-14 (Sat, 调休), 24, 25, 26, 27
    assert ticket.acknowledge_due_at == end_of(2026, 2, 14)  # the make-up Saturday
    assert ticket.return_window_ends_at == end_of(2026, 2, 14)
    assert ticket.due_at == ticket.acknowledge_due_at


def test_consultation_before_national_day_is_due_on_make_up_saturday(make, cast):
    ticket = dispatched(make, cast, (2026, 9, 30, 10, 0), demand_type=DemandType.CONSULT)
    assert ticket.handle_due_at == end_of(2026, 10, 10)


def test_complex_flag_at_dispatch_selects_fifteen_working_days(make, cast):
    at(2026, 3, 2, 10, 0)
    ticket = make.ticket(actor=cast.dispatcher)
    transition(ticket, "dispatch", cast.dispatcher, lead_unit=cast.unit, is_complex=True)
    assert ticket.is_complex
    assert ticket.handle_due_at == end_of(2026, 3, 23)


def test_handle_now_created_after_three_is_due_next_working_day(make, cast):
    ticket = dispatched(make, cast, (2026, 3, 2, 16, 0), service_mode=ServiceMode.HANDLE_NOW)
    assert ticket.handle_due_at == end_of(2026, 3, 3)


def test_critical_acknowledge_counts_natural_minutes(make, cast):
    ticket = dispatched(make, cast, (2026, 2, 15, 22, 0), urgency=Urgency.CRITICAL)  # holiday
    assert ticket.acknowledge_due_at == local(2026, 2, 15, 22, 30)


def test_intake_deadline_is_half_a_working_day(make, cast):
    at(2026, 3, 2, 10, 0)
    ticket = make.ticket(actor=cast.dispatcher)
    assert ticket.intake_due_at == local(2026, 3, 2, 15, 15)  # 3h45 of office time later


def test_late_acknowledge_is_recorded_and_handling_still_runs_from_dispatch(make, cast):
    ticket = dispatched(make, cast, (2026, 3, 2, 10, 0))
    due = ticket.handle_due_at
    assert due == end_of(2026, 3, 9)
    at(2026, 3, 4, 9, 0)  # acknowledge was due at the end of 03-03
    transition(ticket, "acknowledge", cast.handler)
    assert ticket.status == S.IN_PROGRESS
    assert ticket.handle_due_at == due
    assert last_event(ticket).data["met"] is False
    assert ticket.assignee == cast.handler


def test_suspended_working_days_do_not_count(make, cast):
    ticket = dispatched(make, cast, (2026, 3, 2, 10, 0))
    transition(ticket, "acknowledge", cast.handler)
    at(2026, 3, 3, 10, 0)
    transition(ticket, "suspend", cast.handler, missing_info="环评批复",
               contact_attempt="03-03 电话联系王经理")
    assert ticket.due_at is None and ticket.paused_at is not None
    at(2026, 3, 5, 10, 0)
    transition(ticket, "resume", cast.handler)
    assert ticket.handle_due_at == end_of(2026, 3, 11)  # two working days given back
    assert ticket.paused_seconds == 2 * 86400
    assert ticket.paused_at is None


def test_suspension_over_a_weekend_gives_back_only_working_days(make, cast):
    ticket = dispatched(make, cast, (2026, 3, 2, 10, 0))
    transition(ticket, "acknowledge", cast.handler)
    at(2026, 3, 6, 16, 0)  # Friday
    transition(ticket, "suspend", cast.handler, missing_info="x", contact_attempt="电话")
    at(2026, 3, 9, 9, 0)  # Monday
    transition(ticket, "resume", cast.handler)
    assert ticket.handle_due_at == end_of(2026, 3, 10)


def test_firm_supplying_information_resumes_a_suspended_ticket(make, cast):
    ticket = dispatched(make, cast, (2026, 3, 2, 10, 0), actor=cast.firm_user)
    transition(ticket, "acknowledge", cast.handler)
    transition(ticket, "suspend", cast.handler, missing_info="营业执照", contact_attempt="电话")
    supply_information(ticket, cast.firm_user, "已上传营业执照")
    assert ticket.status == S.IN_PROGRESS
    resume = last_event(ticket)
    assert resume.action == "resume" and resume.actor_id is None


def test_approved_return_time_does_not_count(make, cast):
    ticket = dispatched(make, cast, (2026, 3, 2, 10, 0))
    at(2026, 3, 2, 11, 0)
    transition(ticket, "request_return", cast.handler, reason="不属本单位",
               legal_basis="三定方案", suggested_unit=cast.other_unit)
    at(2026, 3, 3, 10, 0)
    transition(ticket, "approve_return", cast.dispatcher)
    assert ticket.status == S.SUBMITTED and ticket.lead_unit_id is None
    assert ticket.returned_seconds == 24 * 3600
    assert ticket.handle_due_at is None
    assert ticket.intake_due_at == local(2026, 3, 3, 15, 15)
    at(2026, 3, 3, 14, 0)
    transition(ticket, "dispatch", cast.dispatcher, lead_unit=cast.other_unit)
    assert ticket.handle_due_at == end_of(2026, 3, 10)  # from the new dispatch


def test_rejected_return_keeps_the_clock_of_the_original_dispatch(make, cast):
    ticket = dispatched(make, cast, (2026, 3, 2, 10, 0))
    transition(ticket, "request_return", cast.handler, reason="x", legal_basis="y",
               suggested_unit=cast.other_unit)
    at(2026, 3, 3, 16, 0)
    transition(ticket, "reject_return", cast.dispatcher, reason="首办负责")
    assert ticket.status == S.IN_PROGRESS
    assert ticket.lead_unit == cast.unit
    assert ticket.handle_due_at == end_of(2026, 3, 9)


def test_return_after_the_window_is_refused(make, cast):
    ticket = dispatched(make, cast, (2026, 3, 2, 10, 0))
    at(2026, 3, 4, 9, 0)
    assert "request_return" not in {a.name for a in allowed_actions(ticket, cast.handler)}
    with pytest.raises(InvalidTransition) as refused:
        transition(ticket, "request_return", cast.handler, reason="x", legal_basis="y",
                   suggested_unit=cast.other_unit)
    assert ticket.status == S.DISPATCHED
    # the refusal, lazy until shown, is given as text in the current language
    assert type(refused.value.args[0]) is str
    assert "首办负责" in refused.value.args[0] and "2026-03-03 " in refused.value.args[0]


def in_progress(make, cast):
    ticket = dispatched(make, cast, (2026, 3, 2, 10, 0))
    transition(ticket, "acknowledge", cast.handler)
    return ticket


def test_extension_asked_endorsed_and_approved_moves_the_deadline(make, cast):
    ticket = in_progress(make, cast)
    transition(ticket, "request_extension", cast.handler, days=3, reason="需现场核查")
    transition(ticket, "endorse_extension", cast.lead)
    transition(ticket, "approve_extension", cast.supervisor)
    assert ticket.handle_due_at == end_of(2026, 3, 12)
    assert (ticket.extension_count, ticket.extension_days) == (1, 3)
    told = [m for m in mail.pending() if m.to == (ticket.requester_email,)]
    assert told and told[-1].tags["ticket"] == ticket.reference


def test_supervisor_cannot_decide_before_the_unit_lead_endorses(make, cast):
    ticket = in_progress(make, cast)
    transition(ticket, "request_extension", cast.handler, days=3, reason="x")
    with pytest.raises(InvalidTransition):
        transition(ticket, "approve_extension", cast.supervisor)


def test_unit_lead_request_needs_no_separate_endorsement(make, cast):
    ticket = in_progress(make, cast)
    transition(ticket, "request_extension", cast.lead, days=2, reason="x")
    transition(ticket, "approve_extension", cast.supervisor)
    assert ticket.handle_due_at == end_of(2026, 3, 11)


def test_at_most_two_extension_requests(make, cast):
    ticket = in_progress(make, cast)
    for _ in range(2):
        transition(ticket, "request_extension", cast.lead, days=1, reason="x")
        transition(ticket, "reject_extension", cast.supervisor, reason="no")
    with pytest.raises(InvalidTransition):
        transition(ticket, "request_extension", cast.lead, days=1, reason="x")


def test_extensions_total_at_most_ten_working_days(make, cast):
    ticket = in_progress(make, cast)
    with pytest.raises(InvalidTransition):
        transition(ticket, "request_extension", cast.lead, days=11, reason="x")
    transition(ticket, "request_extension", cast.lead, days=8, reason="x")
    transition(ticket, "approve_extension", cast.supervisor)
    with pytest.raises(InvalidTransition):
        transition(ticket, "request_extension", cast.lead, days=3, reason="x")
    transition(ticket, "request_extension", cast.lead, days=2, reason="x")


def test_extension_must_be_asked_a_working_day_before_the_deadline(make, cast):
    ticket = in_progress(make, cast)  # due end of Monday 03-09
    at(2026, 3, 9, 9, 0)
    assert "request_extension" not in {a.name for a in allowed_actions(ticket, cast.handler)}
    with pytest.raises(InvalidTransition):
        transition(ticket, "request_extension", cast.handler, days=2, reason="x")
    assert ticket.extension_count == 0


def test_reopen_after_two_reopens_needs_a_supervisor(ticket_in, cast):
    ticket = ticket_in(S.FOLLOW_UP)
    for _ in range(2):
        transition(ticket, "reopen", cast.dispatcher, reason="企业不满意")
        transition(ticket, "reply", cast.handler, text="再次答复")
        transition(ticket, "approve_reply", cast.dispatcher)
    with pytest.raises(PermissionDenied):
        transition(ticket, "reopen", cast.dispatcher, reason="仍不满意")
    transition(ticket, "reopen", cast.supervisor, reason="督办复核")
    assert ticket.status == S.IN_PROGRESS and ticket.reopen_count == 3


def test_unreachable_needs_three_attempts_on_different_days(ticket_in, cast, frozen_clock):
    ticket = ticket_in(S.FOLLOW_UP)
    for day in range(3):
        transition(ticket, "log_follow_up_attempt", cast.dispatcher, note="无人接听")
        if day < 2:
            transition(ticket, "log_follow_up_attempt", cast.dispatcher, note="再拨无人接听")
            with pytest.raises(InvalidTransition):
                transition(ticket, "record_follow_up", cast.dispatcher, outcome="unreachable")
        clock.advance(timedelta(days=1))
    transition(ticket, "record_follow_up", cast.dispatcher, outcome="unreachable")
    assert ticket.closure_kind == ClosureKind.UNREACHABLE


def test_final_reply_needs_the_unit_lead_signature_then_a_supervisor(ticket_in, cast):
    ticket = ticket_in(S.IN_PROGRESS)
    with pytest.raises(InvalidTransition):
        transition(ticket, "final_reply", cast.supervisor)
    transition(ticket, "sign_final_reply", cast.lead, text="诉求无法律依据，已解释。")
    transition(ticket, "final_reply", cast.supervisor)
    assert ticket.status == S.CLOSED and ticket.closure_kind == ClosureKind.FINAL_REPLY


def test_withdrawing_a_suspended_ticket_ends_the_pause(ticket_in, cast, frozen_clock):
    ticket = ticket_in(S.SUSPENDED)
    clock.advance(timedelta(hours=2))
    transition(ticket, "withdraw", cast.firm_user, reason="已自行解决")
    assert ticket.status == S.WITHDRAWN
    assert ticket.paused_at is None and ticket.paused_seconds == 7200


def test_extension_request_row_tracks_the_decision(make, cast):
    ticket = in_progress(make, cast)
    transition(ticket, "request_extension", cast.handler, days=3, reason="x")
    transition(ticket, "decline_extension", cast.lead, reason="理由不足")
    from app.tickets.models import ExtensionRequest

    row = db.session.scalar(sa.select(ExtensionRequest).where(
        ExtensionRequest.ticket_id == ticket.id))
    assert row.status == ExtensionStatus.REJECTED and row.decided_by_id == cast.lead.id


def test_assisting_units_get_their_own_sub_deadline(make, cast):
    at(2026, 3, 2, 10, 0)
    ticket = make.ticket(actor=cast.dispatcher)
    transition(ticket, "dispatch", cast.dispatcher, lead_unit=cast.unit,
               assisting_units=[cast.other_unit], assisting_days=2)
    assert ticket.assisting_units[0].due_at == end_of(2026, 3, 4)
    assert ticket.handle_due_at == end_of(2026, 3, 9)


def test_lead_unit_cannot_also_assist(make, cast):
    from app.core.errors import ValidationFailed

    at(2026, 3, 2, 10, 0)
    ticket = make.ticket(actor=cast.dispatcher)
    with pytest.raises(ValidationFailed):
        transition(ticket, "dispatch", cast.dispatcher, lead_unit=cast.unit,
                   assisting_units=[cast.unit])


def test_a_deadline_beyond_next_year_refuses_clearly_instead_of_guessing(make, cast):
    """Next year is provisional; the year after it is nobody's guess (DOMAIN §3.2)."""
    from app.sla import services as sla_services
    from app.sla.calendar import CalendarNotConfigured
    from app.sla.enums import LimitUnit, SlaStep
    from app.sla.models import Limit
    from app.tickets.models import Ticket

    at(2026, 12, 28, 10, 0)
    ticket = make.ticket(actor=cast.dispatcher)
    policy = sla_services.policy_for(ticket.service_mode, ticket.demand_type, ticket.urgency)
    policy.set_limit(SlaStep.HANDLE, Limit(Decimal(250), LimitUnit.WORKING_DAYS))
    sla_services._bump(policies=True)
    transition(ticket, "dispatch", cast.dispatcher, lead_unit=cast.unit)
    transition(ticket, "acknowledge", cast.handler)
    db.session.commit()
    # 3 working days left in 2026 and 247 of the provisional 2027's 248
    assert ticket.handle_due_at == end_of(2027, 12, 30)
    assert ticket.is_provisional("handle_due_at")
    version = ticket.version
    with pytest.raises(CalendarNotConfigured) as error:  # 10 more: into 2028
        transition(ticket, "request_extension", cast.handler, days=10, reason="跨年")
    assert error.value.year == 2028
    db.session.rollback()
    assert db.session.get(Ticket, ticket.id).version == version
