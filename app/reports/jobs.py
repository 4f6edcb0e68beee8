"""The weekly report e-mail as a periodic job (Mondays 08:00 Beijing time)."""

from __future__ import annotations

from datetime import date

from flask_babel import lazy_gettext as _l

from app.jobs import job, schedule
from app.reports.cli import send_weekly_report


@job("reports.send_weekly", label=_l("Weekly report e-mail"))
def send_weekly(ctx, *, week: str | None = None) -> dict:
    """Mail last week's figures (or those of the week of ``week``) to the supervisors. Not
    idempotent — a second run mails them again — so a failure waits for a person."""
    period, sent = send_weekly_report(date.fromisoformat(week) if week else None)
    return {"period": period.label(), "recipients": sent}


schedule("reports.send_weekly", "0 8 * * 1")
