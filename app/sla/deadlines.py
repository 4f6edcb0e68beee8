"""Deadlines and their status (DOMAIN §3.2): pure functions with everything passed in.

A *policy* is anything with ``limit(step) -> Limit`` and the due-soon thresholds — an
:class:`~app.sla.models.SlaPolicy` row or its :class:`~app.sla.models.PolicyLimits` snapshot.
No function here reads the database or the clock; callers pass ``now``.
"""

from __future__ import annotations

from datetime import date, datetime, time
from decimal import Decimal

from app.sla.calendar import (
    DAY_SECONDS,
    DEFAULT_OFFICE_HOURS,
    LOCAL_TZ,
    SAME_DAY_CUTOFF,
    OfficeHours,
    WorkCalendar,
    add_natural_minutes,
    same_local_time,
)
from app.sla.enums import LimitUnit, SlaStatus, SlaStep
from app.sla.models import Limit

#: Units whose progress is measured in whole working days (each weighs 24 hours).
DAY_UNITS = frozenset({LimitUnit.WORKING_DAYS, LimitUnit.SAME_WORKING_DAY})
#: Steps counted from a deadline rather than from an event.
RELATIVE_STEPS = frozenset({SlaStep.AUTO_URGE_LEAD, SlaStep.AUTO_SUPERVISE_DELAY})
# Module constants: enum attribute lookups are measurable at 100,000 deadlines a second.
_WORKING_DAYS = LimitUnit.WORKING_DAYS
_WORKING_MINUTES = LimitUnit.WORKING_MINUTES
_NATURAL_MINUTES = LimitUnit.NATURAL_MINUTES


def apply_limit(limit: Limit, start: datetime, calendar: WorkCalendar,
                office_hours: OfficeHours = DEFAULT_OFFICE_HOURS,
                cutoff: time = SAME_DAY_CUTOFF) -> datetime:
    """The instant a limit counted from ``start`` runs out.

    A fractional working-day limit (0.5 WD for intake) becomes office minutes: the whole days
    count 次日起 to an end of day, the fraction is that share of a working day's office hours.
    """
    unit = limit.unit
    if unit == _WORKING_DAYS:
        if not limit.fraction:
            return calendar.add_working_days(start, limit.whole)
        base = calendar.add_working_days(start, limit.whole) if limit.whole else start
        minutes = limit.fraction * office_hours.day_minutes
        return calendar.add_working_minutes(base, minutes, office_hours)
    if unit == _WORKING_MINUTES:
        return calendar.add_working_minutes(start, limit.whole + limit.fraction, office_hours)
    if unit == _NATURAL_MINUTES:
        return add_natural_minutes(start, limit.whole + limit.fraction)
    return calendar.end_of_working_day(start, cutoff)


def compute_deadline(step: SlaStep, start: datetime, policy, calendar: WorkCalendar,
                     office_hours: OfficeHours = DEFAULT_OFFICE_HOURS) -> datetime:
    """The deadline of ``step`` started at ``start`` (aware UTC in, aware UTC out).

    Handling runs from dispatch, not from acknowledge (DOMAIN §3.2): pass the dispatch time.
    """
    if step in RELATIVE_STEPS:
        raise ValueError(f"{step} is relative to a deadline: use urge_at() or supervise_at()")
    return apply_limit(policy.limit(step), start, calendar, office_hours,
                       policy.same_day_cutoff)


def urge_at(deadline: datetime, policy, calendar: WorkCalendar,
            office_hours: OfficeHours = DEFAULT_OFFICE_HOURS) -> datetime:
    """When the system urges: the auto-urge lead counted back from the handling deadline."""
    lead = policy.limit(SlaStep.AUTO_URGE_LEAD)
    if lead.unit == LimitUnit.WORKING_DAYS:
        moment = calendar.shift_working_days(deadline, -lead.whole) if lead.whole else deadline
        minutes = lead.fraction * office_hours.day_minutes
        return calendar.add_working_minutes(moment, -minutes, office_hours) if minutes else moment
    if lead.unit == LimitUnit.WORKING_MINUTES:
        return calendar.add_working_minutes(deadline, -(lead.whole + lead.fraction), office_hours)
    if lead.unit == LimitUnit.NATURAL_MINUTES:
        return add_natural_minutes(deadline, -(lead.whole + lead.fraction))
    raise ValueError("an urge lead cannot be 'end of the same working day'")


def supervise_at(deadline: datetime, policy, calendar: WorkCalendar,
                 office_hours: OfficeHours = DEFAULT_OFFICE_HOURS) -> datetime:
    """When the system opens a supervision order: deadline + the delay (1 WD by default)."""
    delay = policy.limit(SlaStep.AUTO_SUPERVISE_DELAY)
    if delay.unit == LimitUnit.WORKING_DAYS and not delay.fraction:
        return calendar.shift_working_days(deadline, delay.whole)
    return apply_limit(delay, deadline, calendar, office_hours, policy.same_day_cutoff)


def extend_deadline(deadline: datetime, working_days: int, calendar: WorkCalendar) -> datetime:
    """An approved extension: N working days added to the *current* deadline (DOMAIN §3.1)."""
    return calendar.shift_working_days(deadline, working_days)


def shift_for_pause(deadline: datetime, paused_from: datetime, paused_until: datetime,
                    calendar: WorkCalendar, unit: LimitUnit = LimitUnit.WORKING_DAYS,
                    office_hours: OfficeHours = DEFAULT_OFFICE_HOURS) -> datetime:
    """Move a deadline by the working time of a pause (suspension, approved return).

    Day-based deadlines move by the working days in ``(pause start date, pause end date]`` —
    the 次日起 rule applied to the pause, so a pause within one day moves nothing and a pause
    from Monday to Wednesday gives two days back. Minute-based deadlines move by the exact
    working (or natural) minutes paused.
    """
    if paused_until <= paused_from:
        return deadline
    if unit in DAY_UNITS:
        first = _local_date(paused_from)
        lost = calendar.working_days_between(first, _local_date(paused_until))
        return calendar.shift_working_days(deadline, lost) if lost else deadline
    if unit == LimitUnit.WORKING_MINUTES:
        seconds = calendar.working_seconds_between(paused_from, paused_until, office_hours)
        return calendar.add_working_minutes(deadline, seconds / 60, office_hours)
    return deadline + (paused_until - paused_from)


def _local_date(moment: datetime) -> date:
    return moment.astimezone(LOCAL_TZ).date()


def working_time_between(a: datetime, b: datetime, calendar: WorkCalendar,
                         unit: LimitUnit = LimitUnit.WORKING_DAYS,
                         office_hours: OfficeHours = DEFAULT_OFFICE_HOURS) -> float:
    """Seconds of working time from ``a`` to ``b`` in the measure that suits ``unit``.

    Day-based limits: working days of 86,400 s; working-minute limits: office seconds;
    natural limits: clock seconds. Negative when ``b`` is before ``a``.
    """
    if unit in DAY_UNITS:
        return calendar.working_seconds_between(a, b)
    if unit == LimitUnit.WORKING_MINUTES:
        return calendar.working_seconds_between(a, b, office_hours)
    return (b - a).total_seconds()


def remaining_time(deadline: datetime, now: datetime, calendar: WorkCalendar,
                   unit: LimitUnit = LimitUnit.WORKING_DAYS,
                   office_hours: OfficeHours = DEFAULT_OFFICE_HOURS) -> float:
    """Working seconds left until the deadline, negative once it has passed (countdowns)."""
    return working_time_between(now, deadline, calendar, unit, office_hours)


def deadline_margin(deadline: datetime, completed_at: datetime, calendar: WorkCalendar,
                    unit: LimitUnit = LimitUnit.WORKING_DAYS,
                    office_hours: OfficeHours = DEFAULT_OFFICE_HOURS) -> float:
    """By how much working time a completed step met (positive) or missed (negative) it."""
    return working_time_between(completed_at, deadline, calendar, unit, office_hours)


def sla_status(deadline: datetime, now: datetime, started_at: datetime,
               completed_at: datetime | None, calendar: WorkCalendar, *,
               unit: LimitUnit = LimitUnit.WORKING_DAYS,
               office_hours: OfficeHours = DEFAULT_OFFICE_HOURS,
               due_soon_remaining_days: Decimal | float = 1,
               due_soon_used_percent: int = 75) -> SlaStatus:
    """``met``/``missed`` once completed; otherwise ``overdue`` past the deadline, ``due_soon``
    when at most ``due_soon_remaining_days`` working days remain (day-based limits only) or at
    least ``due_soon_used_percent`` % of the allowed working time is used, else ``on_track``.

    The deadline itself is still in time: completing at the deadline's second meets it.
    """
    if completed_at is not None:
        return SlaStatus.MET if completed_at <= deadline else SlaStatus.MISSED
    if now > deadline:
        return SlaStatus.OVERDUE
    remaining = working_time_between(now, deadline, calendar, unit, office_hours)
    if unit in DAY_UNITS and remaining <= float(due_soon_remaining_days) * DAY_SECONDS:
        return SlaStatus.DUE_SOON
    allowed = working_time_between(started_at, deadline, calendar, unit, office_hours)
    if allowed <= 0 or (allowed - remaining) * 100 >= due_soon_used_percent * allowed:
        return SlaStatus.DUE_SOON
    return SlaStatus.ON_TRACK


def policy_status(step: SlaStep, deadline: datetime, now: datetime, started_at: datetime,
                  completed_at: datetime | None, policy, calendar: WorkCalendar,
                  office_hours: OfficeHours = DEFAULT_OFFICE_HOURS) -> SlaStatus:
    """:func:`sla_status` with the unit and thresholds taken from the step's policy."""
    return sla_status(
        deadline, now, started_at, completed_at, calendar,
        unit=policy.limit(step).unit, office_hours=office_hours,
        due_soon_remaining_days=policy.due_soon_remaining_days,
        due_soon_used_percent=policy.due_soon_used_percent,
    )


def rebase_days(start: datetime, deadline: datetime, old: WorkCalendar,
                new: WorkCalendar) -> datetime:
    """A deadline set N working days after ``start`` on ``old``: N working days after it on
    ``new``, at the same clock time (an assisting unit's or a supervision order's date)."""
    moved = new.shift_working_days(start, old.working_day_offset(start, deadline))
    return same_local_time(moved.astimezone(LOCAL_TZ).date(), deadline)
