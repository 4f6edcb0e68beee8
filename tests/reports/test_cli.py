"""``flask reports send-weekly`` mails last week's figures to supervisors and is audited."""

from __future__ import annotations

import sqlalchemy as sa

from app.core import mail
from app.core.audit import AuditEvent
from app.extensions import db


def test_send_weekly_mails_the_supervisors_the_figures_of_last_week(month, app):
    """Now Mon 03-16: last week is 03-09 … 03-15. Replied that week: T2 (03-10) and T3 (03-11),
    both on time; missed: T6 (03-09) and T4 (03-10) → handled on time 2 / 4 = 50.0 %."""
    result = app.test_cli_runner().invoke(args=["reports", "send-weekly"])
    assert result.exit_code == 0, result.output
    sent = [m for m in mail.outbox if m.tags.get("kind") == "report.weekly"]
    assert len(sent) == 1 and sent[0].to == ("boss@example.com",)
    assert "2026-03-09 – 2026-03-15" in sent[0].subject
    assert "50.0%" in sent[0].body
    audit_row = db.session.scalars(sa.select(AuditEvent).where(
        AuditEvent.action == "report.send_weekly")).one()
    assert audit_row.details["recipients"] == 1


def test_send_weekly_refuses_a_bad_date(month, app):
    result = app.test_cli_runner().invoke(args=["reports", "send-weekly", "--week", "x"])
    assert result.exit_code != 0


def test_rebuild_facts_recomputes_the_stored_rows_and_is_audited(month, app):
    """Rows removed behind the application's back come back, the same as before."""
    from app.reports import facts
    from app.reports.models import ReportFact

    facts.sync(db.session())
    columns = [getattr(ReportFact, c) for c in facts.COLUMNS]
    before = sorted(db.session.execute(sa.select(*columns)).all())
    db.session.execute(sa.delete(ReportFact))
    result = app.test_cli_runner().invoke(args=["reports", "rebuild-facts", "--batch", "3"])
    assert result.exit_code == 0, result.output
    assert sorted(db.session.execute(sa.select(*columns)).all()) == before
    assert len(before) > 13
    assert db.session.scalars(sa.select(AuditEvent).where(
        AuditEvent.action == "report.rebuild_facts")).one().details["rows"] == len(before)


def test_the_weekly_report_names_the_calendar_gap_from_1_october(app, make):
    from datetime import UTC, datetime

    from app.core import clock
    from app.core.permissions import Role
    from app.reports.cli import weekly_body
    from app.reports.periods import week_of

    make.user(Role.SUPERVISOR, email="boss2@example.com")
    clock.freeze(datetime(2026, 9, 28, 2, 0, tzinfo=UTC))
    assert "工作日历" not in weekly_body(week_of(datetime(2026, 9, 21).date()))
    clock.freeze(datetime(2026, 10, 5, 2, 0, tzinfo=UTC))
    from app.sla import services as sla_services

    sla_services._forget_request_values()
    body = weekly_body(week_of(datetime(2026, 9, 28).date()))  # in the default language
    assert "工作日历：2027 年官方节假日安排尚未录入；0 件未办结工单的时限为暂定时限" in body
