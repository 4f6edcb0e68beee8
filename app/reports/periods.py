"""Report periods: a week, month, quarter or custom range of local (Asia/Shanghai) dates.

A period is half-open on dates — ``start`` included, ``end`` excluded — and becomes a half-open
range of UTC instants from local midnight to local midnight, so a ticket is in exactly one of two
adjacent periods whatever its time of day.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum

from flask_babel import lazy_gettext as _l

from app.core.clock import LOCAL_TZ, today_local

#: Longest custom period, so one request cannot ask for a decade of tickets.
MAX_CUSTOM_DAYS = 400


class PeriodKind(StrEnum):
    """How the period picker chooses dates."""

    WEEK = "week"
    MONTH = "month"
    QUARTER = "quarter"
    CUSTOM = "custom"


PERIOD_KIND_LABELS = {
    PeriodKind.WEEK: _l("Week"),
    PeriodKind.MONTH: _l("Month"),
    PeriodKind.QUARTER: _l("Quarter"),
    PeriodKind.CUSTOM: _l("Custom"),
}


class PeriodError(ValueError):
    """The requested dates do not make a period (shown next to the picker)."""


def local_midnight(day: date) -> datetime:
    """00:00 Asia/Shanghai of a date, as aware UTC."""
    return datetime(day.year, day.month, day.day, tzinfo=LOCAL_TZ).astimezone(UTC)


@dataclass(frozen=True)
class Period:
    """Local dates ``[start, end)`` and how they were chosen."""

    kind: PeriodKind
    start: date
    end: date

    @property
    def start_at(self) -> datetime:
        return local_midnight(self.start)

    @property
    def end_at(self) -> datetime:
        return local_midnight(self.end)

    @property
    def last_day(self) -> date:
        """The last date included (what people write as the period's end)."""
        return self.end - timedelta(days=1)

    @property
    def days(self) -> int:
        return (self.end - self.start).days

    def previous(self) -> Period:
        """The period just before, of the same kind (the same length for custom ranges)."""
        if self.kind == PeriodKind.MONTH:
            return month_of(self.start - timedelta(days=1))
        if self.kind == PeriodKind.QUARTER:
            return quarter_of(self.start - timedelta(days=1))
        return Period(self.kind, self.start - timedelta(days=self.days), self.start)

    def weeks(self) -> list[Period]:
        """Consecutive 7-day slices from the start (the last one clipped to the period)."""
        slices, day = [], self.start
        while day < self.end:
            slices.append(Period(PeriodKind.CUSTOM, day, min(day + timedelta(days=7), self.end)))
            day += timedelta(days=7)
        return slices

    def query_args(self) -> dict[str, str]:
        """The picker's URL arguments that select this period again."""
        return {"period": self.kind.value, "start": self.start.isoformat(),
                "end": self.last_day.isoformat()}

    def label(self) -> str:
        return f"{self.start.isoformat()} – {self.last_day.isoformat()}"


def week_of(day: date) -> Period:
    """Monday to Sunday around a date."""
    monday = day - timedelta(days=day.weekday())
    return Period(PeriodKind.WEEK, monday, monday + timedelta(days=7))


def month_of(day: date) -> Period:
    """The calendar month of a date."""
    first = day.replace(day=1)
    following = (first + timedelta(days=32)).replace(day=1)
    return Period(PeriodKind.MONTH, first, following)


def quarter_of(day: date) -> Period:
    """The calendar quarter of a date."""
    first = date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)
    following = (first + timedelta(days=95)).replace(day=1)
    return Period(PeriodKind.QUARTER, first, following)


def _parse_date(value: str | None) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value.strip())
    except ValueError as error:
        raise PeriodError(str(value)) from error


def parse_period(args, today: date | None = None) -> Period:
    """The period of a request's query string (``period``, ``start``, ``end``).

    Week, month and quarter take the one containing ``start`` (default today); custom takes
    ``start`` to ``end`` inclusive. Raises :class:`PeriodError` for dates that make no period.
    """
    today = today or today_local()
    try:
        kind = PeriodKind(args.get("period") or PeriodKind.MONTH)
    except ValueError as error:
        raise PeriodError(str(args.get("period"))) from error
    start = _parse_date(args.get("start")) or today
    if kind == PeriodKind.WEEK:
        return week_of(start)
    if kind == PeriodKind.MONTH:
        return month_of(start)
    if kind == PeriodKind.QUARTER:
        return quarter_of(start)
    last = _parse_date(args.get("end")) or today
    if last < start or (last - start).days >= MAX_CUSTOM_DAYS:
        raise PeriodError(f"{start}..{last}")
    return Period(PeriodKind.CUSTOM, start, last + timedelta(days=1))
