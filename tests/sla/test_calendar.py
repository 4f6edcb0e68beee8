"""Working-day and working-hour arithmetic on the official calendar (DOMAIN §3.2)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest

from app.sla.calendar import (
    DAY_SECONDS,
    CalendarNotConfigured,
    OfficeHours,
    WorkCalendar,
)
from tests.sla.conftest import as_local, build_calendar, local


@pytest.mark.parametrize(("day", "is_workday"), [
    (date(2026, 2, 14), True),    # Saturday, make-up day for the Spring Festival
    (date(2026, 2, 28), True),    # Saturday, make-up day for the Spring Festival
    *[(date(2026, 2, d), False) for d in range(15, 24)],  # Spring Festival 02-15 … 02-23
    (date(2026, 10, 10), True),   # Saturday, make-up day for National Day
    (date(2026, 9, 20), True),    # Sunday, make-up day for National Day
    (date(2026, 1, 4), True),     # Sunday, make-up day for New Year
    (date(2026, 10, 1), False),
    (date(2026, 10, 7), False),
    (date(2026, 3, 7), False),    # an ordinary Saturday
    (date(2026, 3, 9), True),     # an ordinary Monday
    (date(2025, 12, 31), True),
    (date(2026, 1, 1), False),
])
def test_official_days_are_known(calendar, day, is_workday):
    assert calendar.is_workday(day) is is_workday


ADD_WORKING_DAYS = [
    # (start, n, deadline in Beijing time, why)
    (local(2026, 2, 13, 10), 5, "2026-02-27 23:59:59", "DOMAIN fact: 5th WD after Fri 02-13"),
    (local(2026, 9, 30, 10), 3, "2026-10-10 23:59:59", "DOMAIN fact: 3rd WD after 09-30"),
    (local(2026, 2, 12, 9), 3, "2026-02-24 23:59:59", "across the Spring Festival"),
    (local(2026, 2, 17, 11), 1, "2026-02-25 23:59:59",
     "start on a holiday counts from the next working day (02-24)"),
    (local(2026, 2, 14, 10), 1, "2026-02-24 23:59:59", "start on a make-up Saturday (worked)"),
    (local(2026, 3, 7, 10), 1, "2026-03-10 23:59:59",
     "start on an ordinary Saturday counts from Monday"),
    (local(2026, 3, 2, 20), 1, "2026-03-03 23:59:59", "after office hours: same date, 次日起"),
    (local(2026, 3, 2, 23, 30), 1, "2026-03-03 23:59:59", "late evening is still Monday locally"),
    (local(2026, 3, 3, 0, 30), 1, "2026-03-04 23:59:59",
     "00:30 Beijing is Monday in UTC but Tuesday locally"),
    (local(2025, 12, 30, 10), 3, "2026-01-05 23:59:59",
     "across the year end: 12-31, Sun 01-04 (make-up), 01-05"),
    (local(2026, 3, 2, 10), 0, "2026-03-02 23:59:59", "zero days: end of the same working day"),
    (local(2026, 3, 2, 10), 15, "2026-03-23 23:59:59", "complex: 15 WD"),
]


@pytest.mark.parametrize(("start", "n", "expected", "why"), ADD_WORKING_DAYS,
                         ids=[case[3] for case in ADD_WORKING_DAYS])
def test_add_working_days_counts_from_the_next_day(calendar, start, n, expected, why):
    assert as_local(calendar.add_working_days(start, n)) == expected


def test_deadlines_are_aware_utc(calendar):
    deadline = calendar.add_working_days(local(2026, 2, 13, 10), 5)
    assert deadline.tzinfo == UTC
    assert deadline == datetime(2026, 2, 27, 15, 59, 59, tzinfo=UTC)


def test_naive_datetimes_are_refused(calendar):
    with pytest.raises(ValueError):
        calendar.add_working_days(datetime(2026, 3, 2, 10), 1)


ADD_WORKING_MINUTES = [
    (local(2026, 3, 2, 10), 60, "2026-03-02 11:00:00", "inside the morning"),
    (local(2026, 3, 2, 11), 60, "2026-03-02 12:00:00", "ends exactly at noon, not 13:30"),
    (local(2026, 3, 2, 11), 120, "2026-03-02 14:30:00", "across lunch"),
    (local(2026, 3, 2, 12, 30), 30, "2026-03-02 14:00:00", "start during lunch"),
    (local(2026, 3, 2, 7), 30, "2026-03-02 09:00:00", "start before the office opens"),
    (local(2026, 3, 2, 17), 120, "2026-03-03 10:00:00", "across days"),
    (local(2026, 3, 2, 20), 120, "2026-03-03 10:30:00", "start after office hours"),
    (local(2026, 3, 7, 10), 30, "2026-03-09 09:00:00", "start on a weekend"),
    (local(2026, 2, 13, 17), 120, "2026-02-14 10:00:00", "into a make-up Saturday"),
    (local(2026, 2, 14, 17), 60, "2026-02-24 09:00:00", "across the Spring Festival"),
    (local(2026, 3, 2, 8, 30), 450 * 3, "2026-03-04 17:30:00", "three whole office days"),
    (local(2026, 12, 31, 17), 60, "2027-01-04 09:30:00",
     "never reached: 2027 is not configured"),
]


@pytest.mark.parametrize(("start", "minutes", "expected", "why"), ADD_WORKING_MINUTES[:-1],
                         ids=[case[3] for case in ADD_WORKING_MINUTES[:-1]])
def test_add_working_minutes_counts_office_hours_only(calendar, start, minutes, expected, why):
    assert as_local(calendar.add_working_minutes(start, minutes)) == expected


@pytest.mark.parametrize(("start", "minutes", "expected"), [
    (local(2026, 3, 2, 17), -120, "2026-03-02 15:00:00"),
    (local(2026, 3, 3, 9), -120, "2026-03-02 16:00:00"),
    (local(2026, 3, 2, 23, 59, 59), -120, "2026-03-02 15:30:00"),
    (local(2026, 2, 24, 9), -60, "2026-02-14 17:00:00"),
])
def test_negative_working_minutes_count_back(calendar, start, minutes, expected):
    assert as_local(calendar.add_working_minutes(start, minutes)) == expected


def test_custom_office_hours_are_used(calendar):
    hours = OfficeHours(((time(9, 0), time(12, 0)), (time(14, 0), time(18, 0))))
    assert as_local(calendar.add_working_minutes(local(2026, 3, 2, 11), 120, hours)) == \
        "2026-03-02 15:00:00"


def test_office_hours_must_be_ordered():
    with pytest.raises(ValueError):
        OfficeHours(((time(13, 0), time(12, 0)),))
    with pytest.raises(ValueError):
        OfficeHours(((time(8, 0), time(12, 0)), (time(11, 0), time(17, 0))))


@pytest.mark.parametrize(("start", "expected"), [
    (local(2026, 3, 2, 14, 59), "2026-03-02 23:59:59"),
    (local(2026, 3, 2, 15, 0), "2026-03-02 23:59:59"),
    (local(2026, 3, 2, 15, 1), "2026-03-03 23:59:59"),
    (local(2026, 3, 7, 10), "2026-03-09 23:59:59"),     # Saturday → Monday
    (local(2026, 2, 13, 16), "2026-02-14 23:59:59"),    # Friday after 15:00 → make-up Saturday
    (local(2026, 2, 15, 9), "2026-02-24 23:59:59"),     # holiday → first day back
])
def test_end_of_working_day_rolls_over_after_the_cutoff(calendar, start, expected):
    assert as_local(calendar.end_of_working_day(start)) == expected


def test_working_time_between_in_office_hours(calendar):
    hours = OfficeHours()
    seconds = calendar.working_seconds_between(local(2026, 3, 2, 11), local(2026, 3, 3, 9), hours)
    assert seconds == (60 + 240 + 30) * 60


def test_working_time_between_in_whole_days(calendar):
    assert calendar.working_seconds_between(local(2026, 3, 2, 12), local(2026, 3, 3, 12)) == \
        DAY_SECONDS
    # Fri 02-13 and Sat 02-14 (make-up) are worked; the festival is not.
    assert calendar.working_seconds_between(local(2026, 2, 13), local(2026, 2, 24)) == \
        2 * DAY_SECONDS
    assert calendar.working_seconds_between(local(2026, 3, 7), local(2026, 3, 8)) == 0


def test_working_time_between_is_negative_backwards(calendar):
    assert calendar.working_seconds_between(local(2026, 3, 3, 12), local(2026, 3, 2, 12)) == \
        -DAY_SECONDS


def test_working_days_between_counts_the_second_date_not_the_first(calendar):
    assert calendar.working_days_between(date(2026, 3, 2), date(2026, 3, 4)) == 2
    assert calendar.working_days_between(date(2026, 3, 2), date(2026, 3, 2)) == 0
    assert calendar.working_days_between(date(2026, 2, 13), date(2026, 2, 24)) == 2


def test_working_day_after_counts_back_with_negative_n(calendar):
    assert calendar.working_day_after(date(2026, 2, 24), -1) == date(2026, 2, 14)
    assert calendar.working_day_after(date(2026, 3, 7), -1) == date(2026, 3, 6)


def test_shift_keeps_the_clock_time(calendar):
    assert as_local(calendar.shift_working_days(local(2026, 2, 13, 16, 30), 2)) == \
        "2026-02-24 16:30:00"


class TestUnconfiguredYear:
    """2027 has no rows: every question about it raises, none falls back to Monday–Friday."""

    def test_is_workday_raises(self, calendar):
        with pytest.raises(CalendarNotConfigured) as error:
            calendar.is_workday(date(2027, 1, 4))
        assert error.value.year == 2027
        assert "2027" in str(error.value)

    def test_deadline_running_into_2027_raises(self, calendar):
        with pytest.raises(CalendarNotConfigured) as error:
            calendar.add_working_days(local(2026, 12, 28, 10), 5)
        assert error.value.year == 2027

    def test_deadline_starting_in_2027_raises(self, calendar):
        with pytest.raises(CalendarNotConfigured):
            calendar.add_working_days(local(2027, 1, 5, 10), 1)

    def test_working_minutes_into_2027_raise(self, calendar):
        start, minutes, _expected, _why = ADD_WORKING_MINUTES[-1]
        with pytest.raises(CalendarNotConfigured):
            calendar.add_working_minutes(start, minutes)

    def test_working_time_into_2027_raises(self, calendar):
        with pytest.raises(CalendarNotConfigured):
            calendar.working_seconds_between(local(2026, 12, 30), local(2027, 1, 5))

    def test_covers_answers_without_raising(self, calendar):
        assert calendar.covers(date(2026, 6, 1))
        assert not calendar.covers(date(2027, 6, 1))
        assert calendar.years == (2024, 2025, 2026)

    def test_a_gap_year_is_not_jumped(self):
        gappy = build_calendar(2024, 2026)
        with pytest.raises(CalendarNotConfigured) as error:
            gappy.add_working_days(local(2024, 12, 30, 10), 5)
        assert error.value.year == 2025

    def test_a_partial_year_is_not_configured(self):
        rows = [(date(2027, 1, 1) + timedelta(days=i), True) for i in range(100)]
        partial = WorkCalendar(rows)
        assert not partial.covers(date(2027, 1, 1))
        with pytest.raises(CalendarNotConfigured):
            partial.is_workday(date(2027, 1, 2))

    def test_before_the_first_year_raises(self, calendar):
        with pytest.raises(CalendarNotConfigured) as error:
            calendar.add_working_days(local(2023, 12, 29), 1)
        assert error.value.year == 2023


def test_natural_minutes_ignore_the_calendar(calendar):
    start = local(2026, 2, 17, 23, 50)      # a holiday, late at night
    assert as_local(calendar.add_natural_minutes(start, 30)) == "2026-02-18 00:20:00"


def test_fixed_offset_arithmetic_agrees_with_the_time_zone_database(calendar):
    """The fast UTC+8 arithmetic gives the same local day and deadline as Asia/Shanghai."""
    import random

    from app.sla.calendar import LOCAL_TZ

    rng = random.Random(3)
    origin = datetime(2024, 1, 1, tzinfo=UTC)
    for _ in range(500):
        start = origin + timedelta(seconds=rng.randrange(3 * 365 * DAY_SECONDS - 40 * DAY_SECONDS))
        local_day = start.astimezone(LOCAL_TZ).date()
        expected_day = calendar.working_day_after(local_day, 2)
        deadline = calendar.add_working_days(start, 2)
        assert deadline == datetime.combine(expected_day, time(23, 59, 59), tzinfo=LOCAL_TZ)


def test_every_start_of_2023_to_2025_agrees_with_the_official_package():
    """The package's own ``find_workday`` applies the same rule (a start on a day off counts
    from the next working day); the two must agree on every date of three years."""
    import chinese_calendar

    full = build_calendar(*range(2022, 2027))
    day = date(2023, 1, 1)
    while day <= date(2025, 12, 31):
        for n in (0, 1, 5):
            assert full.working_day_after(day, n) == chinese_calendar.find_workday(n, day), (day, n)
        day += timedelta(days=1)
