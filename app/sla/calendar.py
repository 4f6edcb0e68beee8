"""Working-day and working-hour arithmetic on the official calendar (DOMAIN §3.2).

Pure code: no database, no clock. A :class:`WorkCalendar` is built from ``(date, is_workday)``
rows covering whole years and keeps the working days as one sorted list of ordinals, so every
question is a couple of ``bisect`` calls — one deadline costs microseconds, whatever its length.

Conventions, all in Asia/Shanghai local time (China has kept no daylight saving time since 1991):

* **Working-day limits count 次日起.** The deadline of an N-working-day limit is the end
  (23:59:59) of the N-th working day after the start date. A start on a non-working day is
  deemed to happen on the next working day, so counting begins the day after *that* — the rule
  of ``chinese_calendar.find_workday`` and of local practice ("节假日受理的，顺延至下一工作日").
  One formula covers both cases: the N-th working day after the first working day on or after
  the start date.
* **Working-minute limits** count only minutes inside office hours on working days.
* **Working time between two instants** has two measures: by default whole working days (each
  working day weighs 24 hours, so "≤ 1 WD left" means "the deadline is today or the last
  stretch before it"), or with office hours only the minutes inside them.
* A date in a year the calendar does not cover raises :class:`CalendarNotConfigured`; there is
  deliberately no Monday-to-Friday fallback, because a guessed 调休 is a wrong deadline.
* **Provisional years.** Next year, before its official schedule is published, is covered by
  provisional days (weekends and the rule-based statutory holidays, no make-up working days):
  the calendar computes over them like over any other, and says which instants lie in or after
  such a year (:meth:`WorkCalendar.is_provisional`), so a deadline over them is marked.
"""

from __future__ import annotations

import bisect
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

LOCAL_TZ = ZoneInfo("Asia/Shanghai")
DAY_SECONDS = 86_400
#: Deadlines end at this local second of their day.
END_OF_DAY_SECONDS = DAY_SECONDS - 1
#: "End of the same working day, or the next one if created after 15:00" (DOMAIN §3.2).
SAME_DAY_CUTOFF = time(15, 0)


class CalendarNotConfigured(Exception):
    """The working calendar has no rows for a year a computation needs."""

    def __init__(self, year: int):
        self.year = year
        super().__init__(
            f"The working calendar has no days for {year}. An administrator must enter that "
            f"year's working days before deadlines in it can be computed."
        )


def _seconds(t: time) -> int:
    return t.hour * 3600 + t.minute * 60 + t.second


@dataclass(frozen=True)
class OfficeHours:
    """The daily office periods, e.g. 08:30–12:00 and 13:30–17:30 (DOMAIN §3.2 [cfg])."""

    periods: tuple[tuple[time, time], ...] = ((time(8, 30), time(12, 0)),
                                              (time(13, 30), time(17, 30)))
    _spans: tuple[tuple[int, int], ...] = field(init=False, repr=False, compare=False)
    day_seconds: int = field(init=False, compare=False)

    def __post_init__(self):
        spans = tuple((_seconds(a), _seconds(b)) for a, b in self.periods)
        if not spans:
            raise ValueError("office hours need at least one period")
        previous_end = -1
        for start, end in spans:
            if not previous_end <= start < end:
                raise ValueError("office periods must be ordered, non-empty and not overlap")
            previous_end = end
        object.__setattr__(self, "_spans", spans)
        object.__setattr__(self, "day_seconds", sum(end - start for start, end in spans))

    @property
    def day_minutes(self) -> float:
        """Office minutes in one working day (450 by default)."""
        return self.day_seconds / 60

    def elapsed_at(self, seconds_of_day: float) -> float:
        """Office seconds of a day that have passed at a given second of that day."""
        elapsed = 0
        for start, end in self._spans:
            if seconds_of_day <= start:
                break
            elapsed += (seconds_of_day if seconds_of_day < end else end) - start
        return elapsed

    def clock_at(self, office_seconds: float) -> float:
        """The second of the day at which ``office_seconds`` of office time have passed.

        A value that exactly fills a period lands on that period's end (12:00, not 13:30).
        """
        for start, end in self._spans:
            if office_seconds <= end - start:
                return start + office_seconds
            office_seconds -= end - start
        return self._spans[-1][1]


DEFAULT_OFFICE_HOURS = OfficeHours()


#: Beijing time is UTC+8 with no daylight saving since 1991, long before any calendar year this
#: system holds (2004 onwards), so local dates come from plain timestamp arithmetic — three
#: times faster than a time-zone conversion, which matters at 100,000 deadlines a second.
_OFFSET = 8 * 3600
_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()


def _local(moment: datetime) -> tuple[int, float]:
    """(local date ordinal, seconds since local midnight) of an aware instant."""
    if moment.tzinfo is None:
        raise ValueError("naive datetime refused: deadlines need aware instants")
    days, seconds = divmod(moment.timestamp() + _OFFSET, DAY_SECONDS)
    return int(days) + _EPOCH_ORDINAL, seconds


def _instant(ordinal: int, seconds: float) -> datetime:
    """The aware UTC instant of a local date ordinal plus seconds since local midnight."""
    return datetime.fromtimestamp(
        (ordinal - _EPOCH_ORDINAL) * DAY_SECONDS + seconds - _OFFSET, UTC)


def local_end_of_day(day: date) -> datetime:
    """23:59:59 Asia/Shanghai of a date, as aware UTC: the moment every day-based deadline falls."""
    return _instant(day.toordinal(), END_OF_DAY_SECONDS)


def same_local_time(day: date, like: datetime) -> datetime:
    """The instant on ``day`` at ``like``'s local clock time (aware UTC)."""
    return _instant(day.toordinal(), _local(like)[1])


def add_natural_minutes(start: datetime, minutes: float) -> datetime:
    """Clock time, for critical urgency: no calendar involved."""
    return start + timedelta(minutes=minutes)


class WorkCalendar:
    """Which days are worked, for the whole years given; everything else raises.

    ``provisional_years`` are covered by provisional days (not yet the official schedule);
    ``unsaved_years``, a part of them, exist only in memory so far (see
    :func:`app.sla.services.load_calendar`).
    """

    def __init__(self, rows: Iterable[tuple[date, bool]], provisional_years: Iterable[int] = (),
                 unsaved_years: Iterable[int] = ()):
        per_year: Counter[int] = Counter()
        workdays: list[int] = []
        for day, is_workday in rows:
            per_year[day.year] += 1
            if is_workday:
                workdays.append(day.toordinal())
        complete = {y for y, n in per_year.items() if n == date(y, 12, 31).timetuple().tm_yday}
        self._years = frozenset(complete)
        #: Working days of the complete years only, sorted: the one structure every query uses.
        self._work = sorted(o for o in workdays if date.fromordinal(o).year in complete)
        self._workset = frozenset(self._work)
        #: Unbroken runs of covered years as (first ordinal, last ordinal), usually just one.
        self._spans = self._contiguous_spans(complete)
        self.provisional_years = frozenset(provisional_years) & self._years
        self.unsaved_years = frozenset(unsaved_years) & self.provisional_years
        #: Local ordinal from which every day is provisional or later (None: none is).
        self._provisional_from = (date(min(self.provisional_years), 1, 1).toordinal()
                                  if self.provisional_years else None)

    @staticmethod
    def _contiguous_spans(years: set[int]) -> list[tuple[int, int]]:
        spans: list[tuple[int, int]] = []
        for year in sorted(years):
            first, last = date(year, 1, 1).toordinal(), date(year, 12, 31).toordinal()
            if spans and spans[-1][1] + 1 == first:
                spans[-1] = (spans[-1][0], last)
            else:
                spans.append((first, last))
        return spans

    # -- coverage ---------------------------------------------------------------------------

    @property
    def years(self) -> tuple[int, ...]:
        """The complete years this calendar knows, ascending."""
        return tuple(sorted(self._years))

    def covers(self, day: date) -> bool:
        """Whether the day's year is configured (never raises)."""
        return day.year in self._years

    def is_provisional(self, moment: datetime | date | None) -> bool:
        """Whether a deadline falling at ``moment`` was counted over provisional days.

        Provisional years are always the latest covered (next year, before its notice), and a
        deadline lies after its start, so a deadline was counted over a provisional day exactly
        when it falls in or after the first provisional year.
        """
        if moment is None or self._provisional_from is None:
            return False
        ordinal = moment.toordinal() if not isinstance(moment, datetime) else _local(moment)[0]
        return ordinal >= self._provisional_from

    def _span(self, ordinal: int) -> tuple[int, int]:
        """The covered run holding a date, or :class:`CalendarNotConfigured` for its year."""
        for first, last in self._spans:
            if first <= ordinal <= last:
                return first, last
        raise CalendarNotConfigured(date.fromordinal(ordinal).year)

    def _require_between(self, first: int, last: int) -> None:
        """Every date from ordinal ``first`` to ``last`` must be covered, without a gap."""
        low, high = self._span(first)
        if last > high:
            raise CalendarNotConfigured(date.fromordinal(high).year + 1)
        if last < low:
            raise CalendarNotConfigured(date.fromordinal(low).year - 1)

    def _work_at(self, index: int, origin: int) -> int:
        """The working day at ``index``, if it lies in the covered run around ``origin``."""
        low, high = self._span(origin)
        if index < 0:
            raise CalendarNotConfigured(date.fromordinal(low).year - 1)
        if index >= len(self._work):
            raise CalendarNotConfigured(date.fromordinal(high).year + 1)
        ordinal = self._work[index]
        if ordinal > high:
            raise CalendarNotConfigured(date.fromordinal(high).year + 1)
        if ordinal < low:
            raise CalendarNotConfigured(date.fromordinal(low).year - 1)
        return ordinal

    # -- days -------------------------------------------------------------------------------

    def is_workday(self, day: date) -> bool:
        """Whether a date is worked (a 调休 Saturday is; a holiday Monday is not)."""
        ordinal = day.toordinal()
        self._span(ordinal)
        return ordinal in self._workset

    def working_day_after(self, day: date, n: int) -> date:
        """The N-th working day after a date, 次日起; a non-working date counts from the next
        working day. ``n = 0`` gives that working day itself, a negative ``n`` counts back."""
        ordinal = day.toordinal()
        index = bisect.bisect_left(self._work, ordinal) + n
        return date.fromordinal(self._work_at(index, ordinal))

    def working_day_offset(self, start: datetime, end: datetime) -> int:
        """How many working days ``end``'s date lies after ``start``'s, counted like deadlines
        (a non-working start counts from its next working day): the ``n`` for which
        :meth:`shift_working_days` moves ``start``'s working day to ``end``'s."""
        (first, _a), (last, _b) = _local(start), _local(end)
        self._require_between(min(first, last), max(first, last))
        return bisect.bisect_left(self._work, last) - bisect.bisect_left(self._work, first)

    def working_days_between(self, first: date, last: date) -> int:
        """Working days in ``(first, last]``: the days a pause from ``first`` to ``last`` took."""
        if last <= first:
            return 0
        self._require_between(first.toordinal(), last.toordinal())
        return (bisect.bisect_right(self._work, last.toordinal())
                - bisect.bisect_right(self._work, first.toordinal()))

    # -- deadlines --------------------------------------------------------------------------

    def add_working_days(self, start: datetime, n: int) -> datetime:
        """End (23:59:59 local, returned as UTC) of the N-th working day after ``start``, 次日起.

        Fri 2026-02-13 + 5 → Fri 2026-02-27 (Sat 02-14 is a make-up day, 02-15…23 are off);
        Wed 2026-09-30 + 3 → Sat 2026-10-10. ``n = 0`` is the end of the start's working day.
        """
        ordinal, _seconds_of_day = _local(start)
        index = bisect.bisect_left(self._work, ordinal) + n
        return _instant(self._work_at(index, ordinal), END_OF_DAY_SECONDS)

    def shift_working_days(self, moment: datetime, n: int) -> datetime:
        """The same local clock time, ``n`` working days later (or earlier when negative).

        Used to extend a deadline and to count an urge back from one; an end-of-day deadline
        stays an end-of-day deadline.
        """
        ordinal, seconds = _local(moment)
        index = bisect.bisect_left(self._work, ordinal) + n
        return _instant(self._work_at(index, ordinal), seconds)

    def end_of_working_day(self, start: datetime, cutoff: time = SAME_DAY_CUTOFF) -> datetime:
        """End of the same working day, or of the next working day when ``start`` is after
        ``cutoff`` or on a non-working day (马上办 and urgent handling, DOMAIN §3.2)."""
        ordinal, seconds = _local(start)
        late = seconds > _seconds(cutoff) and ordinal in self._workset
        return self.add_working_days(start, 1 if late else 0)

    def add_working_minutes(self, start: datetime, minutes: float,
                            office_hours: OfficeHours = DEFAULT_OFFICE_HOURS) -> datetime:
        """``start`` plus ``minutes`` of office time on working days (negative counts back).

        A start outside office hours begins at the next office period; a result that exactly
        fills a period ends at that period's end (e.g. 12:00).
        """
        if minutes < 0:
            return self._subtract_working_seconds(start, -minutes * 60, office_hours)
        if minutes == 0:
            return start
        remaining = minutes * 60
        per_day = office_hours.day_seconds
        ordinal, seconds = _local(start)
        self._span(ordinal)
        index = bisect.bisect_left(self._work, ordinal)
        if ordinal in self._workset:
            left_today = per_day - office_hours.elapsed_at(seconds)
            if remaining <= left_today:
                used = per_day - left_today + remaining
                return _instant(ordinal, office_hours.clock_at(used))
            remaining -= left_today
            index += 1
        whole_days = int((remaining - 1e-9) // per_day)
        index += whole_days
        remaining -= whole_days * per_day
        day = self._work_at(index, ordinal)
        return _instant(day, office_hours.clock_at(remaining))

    def _subtract_working_seconds(self, moment: datetime, remaining: float,
                                  office_hours: OfficeHours) -> datetime:
        per_day = office_hours.day_seconds
        ordinal, seconds = _local(moment)
        self._span(ordinal)
        index = bisect.bisect_right(self._work, ordinal) - 1
        if ordinal in self._workset:
            used_today = office_hours.elapsed_at(seconds)
            if remaining <= used_today:
                return _instant(ordinal, office_hours.clock_at(used_today - remaining))
            remaining -= used_today
            index -= 1
        whole_days = int((remaining - 1e-9) // per_day)
        index -= whole_days
        remaining -= whole_days * per_day
        day = self._work_at(index, ordinal)
        return _instant(day, office_hours.clock_at(per_day - remaining))

    def add_natural_minutes(self, start: datetime, minutes: float) -> datetime:
        """Clock minutes (critical urgency); on the calendar only so callers have one API."""
        return add_natural_minutes(start, minutes)

    # -- measuring --------------------------------------------------------------------------

    def working_seconds_between(self, a: datetime, b: datetime,
                                office_hours: OfficeHours | None = None) -> float:
        """Working time from ``a`` to ``b`` in seconds, negative when ``b`` is before ``a``.

        Without office hours every working day weighs 86,400 s (so ``/ 86400`` is working
        days — the measure of day-based limits); with office hours only their seconds count
        (the measure of working-minute limits).
        """
        if b < a:
            return -self.working_seconds_between(b, a, office_hours)
        (oa, sa), (ob, sb) = _local(a), _local(b)
        self._require_between(oa, ob)
        if office_hours is None:
            per_day, part = DAY_SECONDS, float
        else:
            per_day, part = office_hours.day_seconds, office_hours.elapsed_at
        if oa == ob:
            return part(sb) - part(sa) if oa in self._workset else 0.0
        between = bisect.bisect_left(self._work, ob) - bisect.bisect_right(self._work, oa)
        total = between * per_day
        if oa in self._workset:
            total += per_day - part(sa)
        if ob in self._workset:
            total += part(sb)
        return float(total)
