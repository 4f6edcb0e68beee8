"""``flask calendar seed``, ``flask calendar status`` and ``flask sla seed-policies``."""

from __future__ import annotations

from datetime import UTC, date, datetime

import sqlalchemy as sa

from app.core import clock
from app.sla.models import SlaPolicy, WorkCalendarDay


def test_seeding_a_known_year_again_reports_no_change(app):
    result = app.test_cli_runner().invoke(args=["calendar", "seed", "--year", "2026"])
    assert result.exit_code == 0, result.output
    assert "2026: 0 added, 0 updated" in result.output


def test_seeding_an_unknown_year_beyond_next_fails_clearly(app):
    clock.freeze(datetime(2026, 12, 10, 2, 0, tzinfo=UTC))
    result = app.test_cli_runner().invoke(args=["calendar", "seed", "--year", "2028"])
    assert result.exit_code != 0
    assert "No calendar data for 2028" in result.output
    assert "admin calendar page" in result.output


def test_seeding_next_year_unknown_to_the_package_makes_it_provisional(app, db):
    clock.freeze(datetime(2026, 12, 10, 2, 0, tzinfo=UTC))
    result = app.test_cli_runner().invoke(args=["calendar", "seed", "--year", "2027"])
    assert result.exit_code == 0, result.output
    assert "2027: not in the installed chinese-calendar package — provisional days (365 added" \
        in result.output
    assert "Warning: 2027 has only provisional days" in result.output
    status = app.test_cli_runner().invoke(args=["calendar", "status"])
    assert "Configured years: 2004–2026" in status.output
    assert "Provisional: 2027 (stored); open tickets with provisional deadlines: 0" \
        in status.output


def test_seeding_every_year_restores_a_deleted_one(app, db):
    db.session.execute(sa.delete(WorkCalendarDay).where(
        WorkCalendarDay.day.between(date(2010, 1, 1), date(2010, 12, 31))))
    result = app.test_cli_runner().invoke(args=["calendar", "seed"])
    assert result.exit_code == 0, result.output
    assert "2010: 365 added" in result.output
    assert "2004: 0 added" in result.output
    assert "2027: not in the installed chinese-calendar package" in result.output


def test_status_lists_years_and_the_provisional_one(app):
    clock.freeze(datetime(2026, 12, 10, 2, 0, tzinfo=UTC))
    result = app.test_cli_runner().invoke(args=["calendar", "status"])
    assert "Configured years: 2004–2026" in result.output
    assert "Provisional: 2027 (computed in memory" in result.output
    assert "Warning: 2027 has only provisional days" in result.output


def test_seed_policies_creates_only_missing_ones(app, db):
    db.session.execute(sa.delete(SlaPolicy).where(SlaPolicy.demand_type == "report"))
    result = app.test_cli_runner().invoke(args=["sla", "seed-policies"])
    assert result.exit_code == 0
    assert "18 created" in result.output
    again = app.test_cli_runner().invoke(args=["sla", "seed-policies"])
    assert "0 created" in again.output
