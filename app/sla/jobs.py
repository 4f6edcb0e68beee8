"""The daily working-calendar check as a periodic job (09:00 Beijing time).

From 1 October while next year has only provisional days or none, and throughout a year in
that state, it logs the warning for operators and tells every administrator who keeps the
calendar, in their own language, once a day (the home page shows the same warning to them
and to supervisors).
"""

from __future__ import annotations

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from app.core.links import path_for
from app.core.permissions import Permission
from app.jobs import job, schedule
from app.notifications.services import notify
from app.sla.services import calendar_alert, calendar_keepers, last_change, publish_year


@job("sla.publish_year", label=_l("Official calendar: publish a year and recompute"),
     permission=Permission.CALENDAR_MANAGE)
def publish_year_job(ctx, *, year: int, reason: str) -> dict:
    """An administrator's publication of a provisional year (the calendar page): the days
    confirmed, every deadline counted over them recomputed, the firms told, the report facts
    rewritten — one transaction, as the administrator."""
    days = publish_year(int(year), reason, ctx.actor)
    change = last_change()
    tickets = change.outcomes.get("tickets") if change else None
    return {"year": int(year), "days": days,
            "tickets": len(tickets.tickets) if tickets else 0,
            "moved": len(tickets.moved) if tickets else 0,
            "firms_told": tickets.told if tickets else 0,
            "facts": change.outcomes.get("facts", 0) if change else 0}


@job("sla.calendar_warning", label=_l("Working calendar check"))
def calendar_warning(ctx) -> dict:
    """Warn the calendar's keepers about each year without its official schedule."""
    gaps = calendar_alert()
    keepers = calendar_keepers() if gaps else []
    for user in keepers:
        with force_locale(user.preferred_language or current_app.config["BABEL_DEFAULT_LOCALE"]):
            for gap in gaps:
                notify(user, *_warning(gap.year, gap.provisional),
                       path_for("sla.calendar", year=gap.year), kind="sla.calendar_warning")
    return {"missing": [g.year for g in gaps if not g.provisional],
            "provisional": [g.year for g in gaps if g.provisional], "told": len(keepers)}


def _warning(year: int, provisional: bool) -> tuple[str, str]:
    if provisional:
        return (_("Official holiday schedule for %(year)s not entered yet", year=year),
                _("Deadlines reaching into %(year)s are provisional (weekends and the statutory "
                  "holidays computed by rule, no make-up working days). Once the State Council "
                  "publishes the schedule, upgrade chinese-calendar and run 'flask calendar "
                  "seed', or enter it on the calendar page and publish the year.", year=year))
    return (_("No working calendar for %(year)s", year=year),
            _("Deadlines in %(year)s cannot be computed until its working days are "
              "entered. Enter them on the calendar page.", year=year))


schedule("sla.calendar_warning", "0 9 * * *")
