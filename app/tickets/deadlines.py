"""The ticket side of the SLA engine: one object holding what a ticket's deadlines need.

The arithmetic lives in :mod:`app.sla` (pure functions on the official calendar); this module
only picks the policy for a ticket and passes the right arguments, so services read as
``sla.due(SlaStep.HANDLE, ticket.dispatched_at)``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from app.sla import deadlines as engine
from app.sla.calendar import DAY_SECONDS, OfficeHours, WorkCalendar
from app.sla.enums import LimitUnit, SlaStatus, SlaStep


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
