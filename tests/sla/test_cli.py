"""``flask calendar seed``, ``flask calendar status`` and ``flask sla seed-policies``."""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa

from app.sla.models import SlaPolicy, WorkCalendarDay


def test_seeding_a_known_year_again_reports_no_change(app):
    result = app.test_cli_runner().invoke(args=["calendar", "seed", "--year", "2026"])
    assert result.exit_code == 0, result.output
    assert "2026: 0 added, 0 updated" in result.output


def test_seeding_an_unknown_year_fails_clearly(app):
    result = app.test_cli_runner().invoke(args=["calendar", "seed", "--year", "2027"])
    assert result.exit_code != 0
    assert "No calendar data for 2027" in result.output
    assert "admin calendar page" in result.output


def test_seeding_every_year_restores_a_deleted_one(app, db):
    db.session.execute(sa.delete(WorkCalendarDay).where(
        WorkCalendarDay.day.between(date(2010, 1, 1), date(2010, 12, 31))))
    result = app.test_cli_runner().invoke(args=["calendar", "seed"])
    assert result.exit_code == 0, result.output
    assert "2010: 365 added" in result.output
    assert "2004: 0 added" in result.output
    assert "2027: not in the installed chinese-calendar package" in result.output


def test_status_lists_years_and_the_missing_one(app):
    result = app.test_cli_runner().invoke(args=["calendar", "status"])
    assert "2004–2026" in result.output


def test_seed_policies_creates_only_missing_ones(app, db):
    db.session.execute(sa.delete(SlaPolicy).where(SlaPolicy.demand_type == "report"))
    result = app.test_cli_runner().invoke(args=["sla", "seed-policies"])
    assert result.exit_code == 0
    assert "18 created" in result.output
    again = app.test_cli_runner().invoke(args=["sla", "seed-policies"])
    assert "0 created" in again.output
