"""Periodic jobs: registered in the engine, due at their (Beijing) times, run once per period
however many schedulers ask, switched or moved by ``JOBS_SCHEDULES``."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from app.core import clock, mail
from app.core.permissions import Role
from app.extensions import db
from app.jobs import JobState, cleanup
from app.jobs.engine import huey
from app.jobs.housekeeping import _cleaners
from app.jobs.models import Job
from app.jobs.schedules import all_schedules, fire, period_key, period_start
from app.notifications.models import Notification


def beijing(*args) -> datetime:
    return datetime(*args, tzinfo=clock.LOCAL_TZ)


def jobs_of(kind: str) -> list[Job]:
    return list(db.session.scalars(sa.select(Job).where(Job.kind == kind).order_by(Job.id)))


@pytest.fixture
def schedules(app):
    """Change ``JOBS_SCHEDULES`` for one test."""
    saved = dict(app.config["JOBS_SCHEDULES"])
    yield app.config["JOBS_SCHEDULES"]
    app.config["JOBS_SCHEDULES"] = saved


def test_the_scan_the_weekly_report_the_calendar_check_and_the_clean_up_are_scheduled(app):
    assert {s.kind: s.cron for s in all_schedules()} == {
        "sla.scan": "*/5 * * * *",
        "reports.send_weekly": "0 8 * * 1",
        "sla.calendar_warning": "0 9 * * *",
        "jobs.cleanup": "30 3 * * *",
        "audit.seal": "*/5 * * * *",
        "audit.verify": "20 * * * *",
        "notifications.sweep": "* * * * *",
        "reports.new_facts": "* * * * *",
    }
    periodic = {task.__name__ for task in huey._registry._periodic_tasks}
    assert {"schedule.sla.scan", "schedule.reports.send_weekly",
            "schedule.sla.calendar_warning", "schedule.jobs.cleanup", "jobs.sweep"} <= periodic


@pytest.mark.parametrize(("cron", "now", "start"), [
    ("*/5 * * * *", beijing(2026, 3, 2, 10, 7, 59), beijing(2026, 3, 2, 10, 5)),
    ("*/5 * * * *", beijing(2026, 3, 2, 10, 10), beijing(2026, 3, 2, 10, 10)),
    # Mondays 08:00 Beijing: on Sunday evening the period is still last Monday's.
    ("0 8 * * 1", beijing(2026, 3, 8, 23, 0), beijing(2026, 3, 2, 8, 0)),
    ("0 8 * * 1", beijing(2026, 3, 9, 8, 0, 30), beijing(2026, 3, 9, 8, 0)),
    ("0 9 * * *", beijing(2026, 3, 2, 8, 59), beijing(2026, 3, 1, 9, 0)),
])
def test_a_period_starts_at_the_last_matching_minute_in_beijing_time(cron, now, start):
    assert period_start(cron, now) == start.astimezone(UTC)


def test_the_period_key_names_the_kind_and_the_utc_minute():
    assert period_key("sla.scan", beijing(2026, 3, 2, 10, 5).astimezone(UTC)) == \
        "sla.scan@2026-03-02T02:05Z"


def test_a_period_is_asked_for_once_whoever_asks(db):
    first = fire("sla.scan", beijing(2026, 3, 2, 10, 5, 1))
    again = fire("sla.scan", beijing(2026, 3, 2, 10, 9, 59))
    later = fire("sla.scan", beijing(2026, 3, 2, 10, 10, 0))
    assert first is not None and again is None and later is not None
    assert [j.period_key for j in jobs_of("sla.scan")] == [
        "sla.scan@2026-03-02T02:05Z", "sla.scan@2026-03-02T02:10Z"]


def test_the_database_refuses_a_second_job_for_the_same_period(db):
    from app.jobs import enqueue

    enqueue("sla.scan", period_key="sla.scan@2026-03-02T02:05Z")
    db.session.commit()
    with pytest.raises(sa.exc.IntegrityError), db.session.begin_nested():
        enqueue("sla.scan", period_key="sla.scan@2026-03-02T02:05Z")


def test_two_schedulers_alive_run_the_scan_once_per_period(db):
    """Two consumers' schedulers both find the scan due at 10:05 and both send a tick; the
    ticks run (one on each consumer, in any order): one scan job, run once."""
    clock.freeze(beijing(2026, 3, 2, 10, 5, 20))
    minute = datetime(2026, 3, 2, 2, 5, 3)  # Huey's clock: naive UTC
    ticks = []
    for _scheduler in range(2):
        ticks += [t for t in huey.read_periodic(minute) if t.name == "schedule.sla.scan"]
    assert len(ticks) == 2
    for tick in ticks:
        huey.execute(tick, minute)
    [scan] = jobs_of("sla.scan")
    assert scan.state == JobState.SUCCEEDED and scan.attempts == 1
    assert scan.period_key == "sla.scan@2026-03-02T02:05Z"
    assert set(scan.result) == {"scanned", "marked", "urged", "supervised"}


def test_the_scan_is_not_due_between_its_minutes():
    minute = datetime(2026, 3, 2, 2, 7)
    assert "schedule.sla.scan" not in {t.name for t in huey.read_periodic(minute)}
    monday_eight = datetime(2026, 3, 9, 0, 0)  # 08:00 Beijing
    assert "schedule.reports.send_weekly" in {t.name for t in huey.read_periodic(monday_eight)}


def test_an_installation_moves_or_switches_off_a_schedule(db, schedules):
    schedules["sla.scan"] = "*/10 * * * *"
    schedules["reports.send_weekly"] = "off"
    def due(minute):
        return {t.name for t in huey.read_periodic(minute)}

    assert "schedule.sla.scan" not in due(datetime(2026, 3, 2, 2, 5))
    assert "schedule.sla.scan" in due(datetime(2026, 3, 2, 2, 10))
    assert "schedule.reports.send_weekly" not in due(datetime(2026, 3, 9, 0, 0))
    assert fire("reports.send_weekly", beijing(2026, 3, 9, 8, 0)) is None


def test_the_weekly_job_mails_last_weeks_figures_to_the_supervisors(db, make):
    make.user(Role.SUPERVISOR, email="boss@example.com")
    mail.outbox.clear()
    job = fire("reports.send_weekly", beijing(2026, 3, 9, 8, 0, 10))
    assert job.state == JobState.SUCCEEDED
    assert job.result == {"period": job.result["period"], "recipients": 1}
    [message] = [m for m in mail.outbox if m.tags.get("kind") == "report.weekly"]
    assert message.to == ("boss@example.com",)


def test_the_calendar_check_tells_the_calendar_keepers_about_a_provisional_year(db, make):
    admin = make.user(Role.ADMIN, preferred_language="en")
    clock.freeze(beijing(2026, 11, 20, 9, 0, 5))  # 2027 has only provisional days
    job = fire("sla.calendar_warning")
    assert job.state == JobState.SUCCEEDED
    assert job.result == {"missing": [], "provisional": [2027], "told": 1}
    [note] = db.session.scalars(sa.select(Notification).where(
        Notification.recipient_id == admin.id)).all()
    assert note.subject == "Official holiday schedule for 2027 not entered yet"
    assert note.link == "/admin/calendar?year=2027"


def test_the_calendar_check_tells_the_calendar_keepers_about_a_broken_year(db, make):
    from datetime import date

    from app.sla import services as sla_services
    from app.sla.models import WorkCalendarDay

    admin = make.user(Role.ADMIN, preferred_language="en")
    clock.freeze(beijing(2026, 3, 2, 9, 0, 5))  # 2026 lost a day: it covers nothing now
    db.session.execute(sa.delete(WorkCalendarDay).where(WorkCalendarDay.day == date(2026, 7, 1)))
    sla_services._bump(calendar=True)
    job = fire("sla.calendar_warning")
    assert job.result == {"missing": [2026], "provisional": [], "told": 1}
    [note] = db.session.scalars(sa.select(Notification).where(
        Notification.recipient_id == admin.id)).all()
    assert note.subject == "No working calendar for 2026"


def test_the_calendar_check_is_quiet_when_the_calendar_is_there(db, make):
    make.user(Role.ADMIN)
    clock.freeze(beijing(2026, 3, 2, 9, 0, 5))
    job = fire("sla.calendar_warning")
    assert job.result == {"missing": [], "provisional": [], "told": 0}


def test_the_clean_up_calls_every_registered_hook_even_after_one_fails(db):
    seen = []

    @cleanup("tests.broken")
    def broken(now):
        raise OSError("disk gone")

    @cleanup("tests.files")
    def files(now):
        seen.append(now)
        return 3

    try:
        clock.freeze(beijing(2026, 3, 2, 3, 30, 5))
        job = fire("jobs.cleanup")
    finally:
        _cleaners.pop("tests.broken")
        _cleaners.pop("tests.files")
    assert seen == [clock.now_utc()]
    # Idempotent, so it was retried (at once here: the retry waits in the store), and it
    # says which hook failed.
    assert job.state == JobState.RETRYING and "tests.broken" in job.error
