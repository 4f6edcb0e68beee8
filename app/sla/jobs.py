"""The daily working-calendar check as a periodic job (09:00 Beijing time).

From 60 days before a year without a calendar, and throughout a year that has none, it logs
the warning for operators and tells every administrator who keeps the calendar, in their own
language, once a day (the home page shows the same warning to them).
"""

from __future__ import annotations

import sqlalchemy as sa
from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from app.auth.models import User
from app.core.permissions import ROLE_PERMISSIONS, Permission
from app.extensions import db
from app.jobs import job, schedule
from app.notifications.services import notify
from app.sla.services import calendar_alert


def calendar_keepers() -> list[User]:
    """Active users who may edit the working calendar."""
    roles = [role for role, rights in ROLE_PERMISSIONS.items()
             if Permission.CALENDAR_MANAGE in rights]
    return list(db.session.scalars(sa.select(User).where(
        User.role.in_(roles), User.is_active.is_(True)).order_by(User.id)))


@job("sla.calendar_warning", label=_l("Working calendar check"))
def calendar_warning(ctx) -> dict:
    """Warn the calendar's keepers about each missing year."""
    missing = calendar_alert()
    keepers = calendar_keepers() if missing else []
    for user in keepers:
        with force_locale(user.preferred_language or current_app.config["BABEL_DEFAULT_LOCALE"]):
            for year in missing:
                notify(user, _("No working calendar for %(year)s", year=year),
                       _("Deadlines in %(year)s cannot be computed until its working days are "
                         "entered. Enter them on the calendar page.", year=year),
                       f"/admin/calendar?year={year}", kind="sla.calendar_warning")
    return {"missing": missing, "told": len(keepers)}


schedule("sla.calendar_warning", "0 9 * * *")
