"""``flask reports send-weekly``: the key figures of last week, e-mailed to supervisors.

Cron-able and safe to run by hand: it computes last week's figures (Monday to Sunday, Beijing
time) with the same queries as the dashboard and queues one message per run; the message goes
out when the command commits.
"""

from __future__ import annotations

from datetime import date, timedelta

import click
import sqlalchemy as sa
from flask.cli import AppGroup
from flask_babel import gettext as _

from app.auth.models import User
from app.core import audit, mail
from app.core.clock import now_utc, today_local
from app.core.permissions import ROLE_PERMISSIONS, Permission
from app.core.transactions import commit_or_stop
from app.extensions import db
from app.reports import facts, queries, tables
from app.reports.periods import Period, week_of
from app.reports.queries import Context, Dimension, Scope
from app.sla.services import calendar_gaps, load_calendar, provisional_uses

reports_cli = AppGroup("reports", help="Supervisor reports.")


def supervisors() -> list[User]:
    """Active users whose role sees every unit's reports and who have an e-mail address."""
    roles = [role for role, rights in ROLE_PERMISSIONS.items()
             if Permission.REPORT_VIEW_ALL in rights]
    return list(db.session.scalars(sa.select(User).where(
        User.role.in_(roles), User.is_active.is_(True), User.email.is_not(None))
        .order_by(User.id)))


def weekly_body(period: Period) -> str:
    """The figures of the week with the week before, and the units' on-time rates."""
    now = now_utc()
    ctx = Context(period, now, queries.due_soon_horizon(load_calendar(), now), Scope())
    data = queries.breakdown(ctx, Dimension.UNIT)
    lines = [_("Key figures for %(period)s (previous week in brackets):", period=period.label()),
             ""]
    for value, before in zip(tables.total_row(data), tables.previous_row(data), strict=True):
        shown = tables.shown_text(value)
        if not value.figure.is_snapshot:
            shown += f" ({tables.shown_text(before)})"
        lines.append(f"- {value.figure.label}: {shown}")
    index = [f.key for f in queries.FIGURES].index("handled_on_time")
    lines += ["", _("Handled on time by unit:")]
    lines += [f"- {row.name}: {tables.shown_text(row.values[index])}"
              for row in tables.group_rows(data)]
    return "\n".join(lines + _calendar_gap_lines())


def _calendar_gap_lines() -> list[str]:
    """The working calendar's gap, named so the supervisors read it with the figures."""
    lines = []
    for gap in calendar_gaps():
        if gap.provisional:
            lines.append(_("Working calendar: the official holiday schedule for %(year)s is "
                           "not entered yet; %(n)d open tickets have provisional deadlines "
                           "(recomputed when it is).", year=gap.year, n=provisional_uses()))
        else:
            lines.append(_("Working calendar: %(year)s has no days; deadlines in it cannot be "
                           "computed.", year=gap.year))
    return ["", *lines] if lines else []


def send_weekly_report(day: date | None = None) -> tuple[Period, int]:
    """Queue last week's figures (the week of ``day``) to every supervisor and audit it; the
    mail goes when the caller commits. Used by the command and the weekly job.

    :returns: the week and the number of recipients (0: nobody has an address, nothing sent).
    """
    period = week_of(day or today_local() - timedelta(days=7))
    recipients = [user.email for user in supervisors()]
    if recipients:
        mail.queue(recipients, _("Weekly service report %(period)s", period=period.label()),
                   weekly_body(period), kind="report.weekly")
        audit.record("report.send_weekly", object_type="report", object_id="weekly",
                     details={"period": period.label(), "recipients": len(recipients)})
    return period, len(recipients)


@reports_cli.command("send-weekly")
@click.option("--week", default=None,
              help="Any date (YYYY-MM-DD) in the week to report; default: last week.")
def send_weekly(week: str | None) -> None:
    """E-mail last week's key figures to every supervisor (the job engine does it on Mondays
    at 08:00; this command is for a missed week or a cron line)."""
    try:
        day = date.fromisoformat(week) if week else None
    except ValueError as error:
        raise click.BadParameter(_("Use the form YYYY-MM-DD."), param_hint="--week") from error
    period, sent = commit_or_stop(lambda: send_weekly_report(day))
    if not sent:
        click.echo(_("No supervisor has an e-mail address; nothing sent."))
        return
    click.echo(_("Sent the report for %(period)s to %(n)d supervisor(s).",
                 period=period.label(), n=sent))


@reports_cli.command("rebuild-facts")
@click.option("--batch", default=50_000, show_default=True, help="Ticket ids per statement.")
def rebuild_facts(batch: int) -> None:
    """Recompute the stored report facts of every ticket (after a bulk import, or after a past
    day of the working calendar was changed); one transaction."""
    calendar = load_calendar() if db.session.get_bind().dialect.name == "postgresql" else None

    def report(last_id: int) -> None:
        click.echo(_("Tickets up to id %(id)d done.", id=last_id))

    def rebuild() -> int:
        written = facts.rebuild(db.session.connection(), calendar, batch=batch, report=report)
        audit.record("report.rebuild_facts", object_type="report", object_id="facts",
                     details={"rows": written})
        return written

    written = commit_or_stop(rebuild)
    click.echo(_("Rebuilt %(n)d report fact rows.", n=written))
