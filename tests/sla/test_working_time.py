"""Remaining and late time in working days and hours of the office calendar, against cases
computed by hand (office hours 08:30–12:00 and 13:30–17:30: 7.5 h a working day)."""

from __future__ import annotations

import pytest

from app.sla.calendar import local_end_of_day
from app.sla.working_time import describe, working_time_left
from tests.sla.conftest import local

H = 3600


@pytest.mark.parametrize(("now", "deadline", "seconds", "why"), [
    (local(2026, 3, 2, 13, 45), local(2026, 3, 2, 17, 30), 3.75 * H,
     "an intake deadline 3.75 office hours away"),
    (local(2026, 3, 2, 10), local_end_of_day(local(2026, 3, 2).date()), 6 * H,
     "end of the day: 10:00–12:00 and 13:30–17:30; the evening does not count"),
    (local(2026, 3, 2, 11), local(2026, 3, 2, 14), 1.5 * H, "the lunch break does not count"),
    (local(2026, 2, 13, 16, 30), local_end_of_day(local(2026, 2, 14).date()), 8.5 * H,
     "Saturday 2026-02-14 is a 调休 working day: 1 h on Friday, 7.5 h on Saturday"),
    (local(2026, 2, 14, 17), local(2026, 2, 24, 10), 2 * H,
     "Spring Festival 02-15 … 02-23 off: 0.5 h on Saturday, 1.5 h on Tuesday"),
    (local(2025, 12, 31, 16, 30), local(2026, 1, 5, 9, 30), 9.5 * H,
     "year end: 1 h on 12-31, New Year 01-01 … 01-03 off, Sunday 01-04 made up (7.5 h), "
     "1 h on 01-05"),
    (local(2026, 3, 3, 10), local_end_of_day(local(2026, 3, 2).date()), -1.5 * H,
     "late: Tuesday 08:30–10:00 since Monday's deadline"),
    (local(2026, 3, 7, 10), local_end_of_day(local(2026, 3, 6).date()), 0,
     "a Saturday after a Friday deadline: no working time has passed yet"),
])
def test_working_time_matches_the_hand_computed_cases(calendar, now, deadline, seconds, why):
    assert working_time_left(deadline, now, calendar).seconds == seconds, why


@pytest.mark.parametrize(("seconds", "days", "text"), [
    (3.75 * H, 0.5, "3.8 working hours left"),
    (6 * H, 0.8, "6 working hours left"),
    (8.5 * H, 1.1, "1 working day 1 h left"),
    (15 * H, 2.0, "2 working days left"),
    (9.5 * H, 1.3, "1 working day 2 h left"),
    (-1.5 * H, -0.2, "1.5 working hours late"),
    (-(7.5 + 0.5) * H, -1.1, "1 working day 0.5 h late"),
    (-1 * H, -0.1, "1 working hour late"),
    (-60, 0.0, "Due now"),
    (0, 0.0, "Due now"),
    (-179, 0.0, "Due now"),
])
def test_shown_in_days_and_hours_and_never_minus_zero(app, seconds, days, text):
    from flask_babel import refresh

    from app.sla.working_time import WorkingTime

    left = WorkingTime(seconds, 27000)
    with app.test_request_context(headers={"Accept-Language": "en"}):
        refresh()
        assert describe(left) == text
    assert left.days == days and str(left.days) != "-0.0"


def test_described_in_chinese(app):
    from flask_babel import refresh

    from app.sla.working_time import WorkingTime

    with app.test_request_context(headers={"Accept-Language": "zh-CN"}):
        refresh()
        assert describe(WorkingTime(9.5 * H, 27000)) == "剩余 1 个工作日 2 小时"
        assert describe(WorkingTime(-1.5 * H, 27000)) == "已逾期 1.5 个工作小时"
    with app.test_request_context(headers={"Accept-Language": "zh-TW"}):
        refresh()  # the language is kept in the application context the fixture holds
        assert describe(WorkingTime(3.75 * H, 27000)) == "剩餘 3.8 個工作小時"
