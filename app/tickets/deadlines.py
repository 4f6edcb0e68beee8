"""The ticket side of the SLA engine: one object holding what a ticket's deadlines need.

The arithmetic lives in :mod:`app.sla` (pure functions on the official calendar); this module
only picks the policy for a ticket and passes the right arguments, so services read as
``sla.due(SlaStep.HANDLE, ticket.dispatched_at)``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from app.core.clock import to_local
from app.core.rendering import when
from app.sla import deadlines as engine
from app.sla.calendar import DAY_SECONDS, OfficeHours, WorkCalendar
from app.sla.enums import LimitUnit, SlaStatus, SlaStep

logger = logging.getLogger("ruyi.tickets")

#: Each stored deadline of a ticket, its step and its bit in ``Ticket.provisional_deadlines``.
PROVISIONAL_BITS: dict[str, tuple[SlaStep, int]] = {
    "intake_due_at": (SlaStep.INTAKE, 1),
    "acknowledge_due_at": (SlaStep.ACKNOWLEDGE, 2),
    "return_window_ends_at": (SlaStep.RETURN_WINDOW, 4),
    "handle_due_at": (SlaStep.HANDLE, 8),
    "reply_review_due_at": (SlaStep.REPLY_REVIEW, 16),
    "follow_up_due_at": (SlaStep.FOLLOW_UP, 32),
}
#: The deadline ``due_at`` copies in each state (see ``tickets.services._refresh_due``).
CURRENT_DEADLINE = {
    "submitted": "intake_due_at", "dispatched": "acknowledge_due_at",
    "in_progress": "handle_due_at", "return_requested": "handle_due_at",
    "replied": "reply_review_due_at", "follow_up": "follow_up_due_at",
}


@dataclass(frozen=True)
class TicketSla:
    """The policy, calendar and office hours that apply to one ticket."""

    policy: object
    calendar: WorkCalendar
    office_hours: OfficeHours
    settings: object

    def due(self, step: SlaStep, start: datetime) -> datetime:
        """The deadline of ``step`` started at ``start``."""
        return engine.compute_deadline(step, start, self.policy, self.calendar,
                                       self.office_hours)

    def unit(self, step: SlaStep) -> LimitUnit:
        """How the step's limit is counted."""
        return self.policy.limit(step).unit

    def after_pause(self, deadline: datetime | None, step: SlaStep, paused_from: datetime,
                    paused_until: datetime) -> datetime | None:
        """The deadline moved by the working time of a pause (suspended time does not count)."""
        if deadline is None:
            return None
        return engine.shift_for_pause(deadline, paused_from, paused_until, self.calendar,
                                      self.unit(step), self.office_hours)

    def extended(self, deadline: datetime, working_days: int) -> datetime:
        """An approved extension: working days added to the current deadline."""
        return engine.extend_deadline(deadline, working_days, self.calendar)

    def working_days_left(self, now: datetime, deadline: datetime) -> float:
        """Whole-day working time from now to the deadline, in working days."""
        return self.calendar.working_seconds_between(now, deadline) / DAY_SECONDS

    def status(self, step: SlaStep, deadline: datetime, now: datetime, started_at: datetime,
               completed_at: datetime | None = None) -> SlaStatus:
        """on_track / due_soon / overdue, or met / missed once the step is done."""
        return engine.policy_status(step, deadline, now, started_at, completed_at, self.policy,
                                    self.calendar, self.office_hours)

    def margin(self, step: SlaStep, deadline: datetime, completed_at: datetime) -> float:
        """Working seconds by which a completed step met (+) or missed (−) its deadline."""
        return engine.deadline_margin(deadline, completed_at, self.calendar, self.unit(step),
                                      self.office_hours)

    def urge_at(self, deadline: datetime) -> datetime:
        """When the scan urges before the handling deadline."""
        return engine.urge_at(deadline, self.policy, self.calendar, self.office_hours)

    def supervise_at(self, deadline: datetime) -> datetime:
        """When the scan opens a supervision order after a missed handling deadline."""
        return engine.supervise_at(deadline, self.policy, self.calendar, self.office_hours)


def provisional_bit(column: str, status: str | None = None) -> int:
    """The bit of a deadline column; ``due_at`` is the current state's deadline."""
    if column == "due_at":
        column = CURRENT_DEADLINE.get(str(status), "")
    return PROVISIONAL_BITS.get(column, (None, 0))[1]


def provisional_mask(ticket, sla: TicketSla) -> int:
    """The bits of the ticket's stored deadlines counted over provisional calendar days
    (natural-minute limits never are: they count the clock, not the calendar)."""
    calendar, mask = sla.calendar, 0
    for column, (step, bit) in PROVISIONAL_BITS.items():
        due = getattr(ticket, column)
        if (due is not None and calendar.is_provisional(due)
                and sla.unit(step) != LimitUnit.NATURAL_MINUTES):
            mask |= bit
    return mask


def mark_provisional(ticket) -> int:
    """Store which of the ticket's deadlines are provisional, after any change of them.

    The first time a provisional deadline is stored, the provisional days it was counted on
    are stored too if they existed only in memory (the use is audited and logged there), so
    the reports, which count on the stored days, see the same calendar.
    """
    from app.sla import services as sla_services

    calendar = sla_services.load_calendar()
    mask = provisional_mask(ticket, for_ticket(ticket)) if calendar.provisional_years else 0
    if (ticket.provisional_deadlines or 0) != mask:
        ticket.provisional_deadlines = mask
    if mask:
        used = max(to_local(getattr(ticket, column)).year
                   for column, (_step, bit) in PROVISIONAL_BITS.items() if mask & bit)
        needed = [year for year in calendar.unsaved_years if year <= used]
        if needed:
            sla_services.store_provisional_years(needed)
        logger.info("ticket %s: provisional deadlines %s (calendar years %s provisional)",
                    ticket.reference, [c for c, (_s, b) in PROVISIONAL_BITS.items() if mask & b],
                    sorted(calendar.provisional_years))
    return mask


def promised_answer_at(ticket, sla: TicketSla | None = None) -> datetime:
    """The committed date by which the requester will be answered.

    The handling deadline once dispatched; before that, the handling limit of the ticket's
    policy counted from its latest possible dispatch (the intake deadline) — a promise the
    office can keep.
    """
    from app.sla.enums import ServiceMode

    if ticket.handle_due_at is not None:
        return ticket.handle_due_at
    sla = sla or for_ticket(ticket)
    if ticket.service_mode == ServiceMode.HANDLE_NOW:
        return sla.due(SlaStep.HANDLE, ticket.submitted_at)
    return sla.due(SlaStep.HANDLE, ticket.intake_due_at or ticket.submitted_at)


@dataclass(frozen=True)
class Promise:
    """The committed date shown to the requester (receipt, tracking page, confirmation)."""

    #: ``None`` when it cannot be computed yet (a year without any working days).
    at: datetime | None
    #: Counted over provisional days: next year's official schedule is not yet published.
    provisional: bool = False
    #: The year whose missing calendar kept the date from being computed.
    missing_year: int | None = None


def promise(ticket) -> Promise:
    """:func:`promised_answer_at` for the requester's eyes: provisional if counted over
    provisional days; if it cannot be computed at all, no date (the administrators are
    alerted, and the caller commits the alert) instead of an error after the ticket exists."""
    from app.sla import services as sla_services
    from app.sla.calendar import CalendarNotConfigured

    try:
        at = promised_answer_at(ticket)
    except CalendarNotConfigured as error:
        sla_services.alert_calendar_missing(error.year, f"ticket {ticket.reference}")
        return Promise(None, missing_year=error.year)
    return Promise(at, provisional=sla_services.load_calendar().is_provisional(at))


def for_ticket(ticket) -> TicketSla:
    """The SLA context of a ticket, from the cached calendar and policy table."""
    from app.sla import services as sla

    settings = sla.load_settings()
    return TicketSla(
        policy=sla.policy_limits(ticket.service_mode, ticket.demand_type, ticket.urgency,
                                 ticket.is_complex),
        calendar=sla.load_calendar(),
        office_hours=settings.office_hours,
        settings=settings,
    )


def local_text(value: datetime | None) -> str:
    """A deadline as messages and refusals write it: the one format of the language
    (:func:`app.core.rendering.when`), or ``-``."""
    return when(value) if value else "-"
