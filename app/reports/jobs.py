"""Report jobs: the stored facts of new public requests (every minute), the weekly report
e-mail (Mondays 08:00 Beijing time), and the exports — breakdown tables, drill-downs (every
ticket behind a number) and the monthly report — as
files with a progress bar (:mod:`app.exports`)."""

from __future__ import annotations

from datetime import date

from flask_babel import lazy_gettext as _l

from app.core import audit
from app.core.permissions import Permission
from app.exports import files
from app.extensions import db
from app.jobs import JobRefused, job, schedule
from app.reports import facts, queries, tables
from app.reports.cli import send_weekly_report
from app.reports.export import Table


@job("reports.send_weekly", label=_l("Weekly report e-mail"))
def send_weekly(ctx, *, week: str | None = None) -> dict:
    """Mail last week's figures (or those of the week of ``week``) to the supervisors. Not
    idempotent — a second run mails them again — so a failure waits for a person."""
    period, sent = send_weekly_report(date.fromisoformat(week) if week else None)
    return {"period": period.label(), "recipients": sent}


schedule("reports.send_weekly", "0 8 * * 1")


def _report_context(ctx, args: dict, period=None):
    """The scope of the requester and the period of the page's arguments, as the page had
    them (the same parsing, :mod:`app.reports.views`), with the reports' query settings."""
    from flask_babel import gettext as _

    from app.reports import views

    scope = queries.Scope.for_user(ctx.actor)
    if scope is None:
        raise JobRefused(_("The user who asked for this job may no longer do this."))
    views.plan_for_reports()
    if period is not None:
        return views.context_for(period, scope)
    return views._context(scope, args)[0]


def _write(ctx, table: Table, fmt: str, total: int | None, details: dict) -> dict:
    """Write the table as the job's file; audit the export with its row count."""
    entry = files.write_sheet(ctx, fmt, stem=table.name, title=table.title or "report",
                              headers=table.headers, rows=table.rows, total=total,
                              widths=table.widths, float_format=".1f")
    ctx.begin_write()
    audit.record("report.export", actor=ctx.actor, object_type="report",
                 object_id=table.name, details={**details, "format": fmt,
                                                "rows": entry["rows"]})
    return {"files": [entry]}


def _period_details(report_ctx) -> dict:
    return {"period": report_ctx.period.label(), "unit_id": report_ctx.scope.unit_id}


@job("reports.export_breakdown", label=_l("Report table export"),
     permission=Permission.REPORT_EXPORT, idempotent=True, sqlite_writer=False)
def export_breakdown(ctx, *, fmt: str, args: dict) -> dict:
    """The dashboard's breakdown table (by unit, area, category or handler) as a file."""
    from app.reports import views

    report_ctx = _report_context(ctx, args)
    by = views._dimension(args)
    table = tables.breakdown_table(queries.breakdown(report_ctx, by))
    table.rows = list(table.rows)
    return _write(ctx, table, fmt, len(table.rows),
                  {**_period_details(report_ctx), "by": by.value})


@job("reports.export_drill", label=_l("Ticket list export (report)"),
     permission=Permission.REPORT_EXPORT, idempotent=True, sqlite_writer=False)
def export_drill(ctx, *, fmt: str, args: dict) -> dict:
    """Every ticket of a drill-down as a file, streamed in batches."""
    from app.reports import views
    from app.sla.services import load_calendar

    report_ctx = _report_context(ctx, args)
    fact, subset, by, key, keyed = views._drill_arguments(args)
    rows = queries.drill_rows(fact, subset, report_ctx, by, key, keyed)
    total = queries.drill_count(rows)
    table = tables.drill_table(rows, fact, views.drill_title(fact, subset), load_calendar(),
                               report_ctx.now)
    return _write(ctx, table, fmt, total, {
        **_period_details(report_ctx), "fact": fact.value, "subset": subset.value,
        "by": by.value if by else None, "key": key})


@job("reports.monthly", label=_l("Monthly report"), permission=Permission.REPORT_EXPORT,
     idempotent=True, sqlite_writer=False)
def export_monthly(ctx, *, fmt: str, args: dict) -> dict:
    """The monthly report's figures by unit, with the total line, as a file."""
    from app.reports import views

    period = views._month(args)
    report_ctx = _report_context(ctx, args, period)
    table = tables.breakdown_table(queries.breakdown(report_ctx, queries.Dimension.UNIT))
    table.name = f"monthly-report-{period.start:%Y-%m}"
    table.rows = list(table.rows)
    return _write(ctx, table, fmt, len(table.rows), {**_period_details(report_ctx),
                                                     "report": "monthly"})


@job("reports.new_facts", label=_l("Report facts of new requests"), idempotent=True)
def new_facts(ctx) -> dict:
    """Write the stored facts of the tickets the public form inserted without them
    (:func:`app.reports.facts.write_new_tickets_facts`): the figures count a request within a
    minute, and the submission itself writes four rows instead of six."""
    return {"tickets": facts.write_new_tickets_facts(db.session)}


schedule("reports.new_facts", "* * * * *")
