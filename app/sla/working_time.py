"""Time left to a deadline, or past it, in the office's working days and hours (DOMAIN §3.2).

One measure everywhere a person reads a countdown (the ticket page, the supervisor's lists,
the exports, the API): only office hours of working days count — a deadline at 23:59:59 of a
working day is reached, for the person counting, when the office closes — and a working day
is the office day (7.5 h by default). So an intake deadline 3.75 office hours away is "3.8
working hours left" and 0.5 working days, never 0.6; a countdown within a few minutes of
the deadline reads "due now", never "-0.0".
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask_babel import gettext as _
from flask_babel import ngettext

from app.sla.calendar import DEFAULT_OFFICE_HOURS, OfficeHours, WorkCalendar

#: Closer to the deadline than this (either side) reads "due now".
DUE_NOW_SECONDS = 180


@dataclass(frozen=True)
class WorkingTime:
    """Working time to (``late`` False) or past (``late`` True) a deadline."""

    seconds: float  #: office seconds, negative once late
    day_seconds: int  #: office seconds in one working day

    @property
    def late(self) -> bool:
        return self.seconds <= -DUE_NOW_SECONDS

    @property
    def due_now(self) -> bool:
        return abs(self.seconds) < DUE_NOW_SECONDS

    @property
    def days(self) -> float:
        """Working days, one decimal, signed (negative once late), never -0.0."""
        value = round(self.seconds / self.day_seconds, 1)
        return 0.0 if self.due_now or value == 0 else value

    @property
    def parts(self) -> tuple[int, float]:
        """(whole working days, remaining working hours to one decimal), unsigned."""
        tenths = round(abs(self.seconds) / 360)  # tenths of an hour
        day_tenths = round(self.day_seconds / 360)
        days, rest = divmod(tenths, day_tenths)
        return days, rest / 10


def working_time_left(deadline: datetime, now: datetime, calendar: WorkCalendar,
                      office_hours: OfficeHours = DEFAULT_OFFICE_HOURS) -> WorkingTime:
    """The working time from ``now`` to ``deadline`` in office hours of working days.

    :raises CalendarNotConfigured: the span reaches a year the calendar does not hold.
    """
    return WorkingTime(calendar.working_seconds_between(now, deadline, office_hours),
                       office_hours.day_seconds)


def _hours(value: float) -> str:
    return f"{value:.1f}".removesuffix(".0")


def describe(left: WorkingTime) -> str:
    """"2 working days 3.5 h left", "3.8 working hours late", "Due now" — in the reader's
    language."""
    if left.due_now:
        return _("Due now")
    days, hours = left.parts
    if days == 0:
        amount = ngettext("%(hours)s working hour", "%(hours)s working hours",
                          1 if hours == 1 else 2, hours=_hours(hours))  # plural forms want ints
    elif hours == 0:
        amount = ngettext("%(num)d working day", "%(num)d working days", days)
    else:
        amount = _("%(days)s %(hours)s h", days=ngettext(
            "%(num)d working day", "%(num)d working days", days), hours=_hours(hours))
    if left.late:
        return _("%(amount)s late", amount=amount)
    return _("%(amount)s left", amount=amount)
