"""Supervisor reports (DOMAIN §7): SLA dashboards, drill-downs, charts, exports and the public
transparency page. Every figure is computed by the database (:mod:`app.reports.queries`)."""

from flask import Blueprint
from flask_babel import lazy_gettext as _l

from app.core.navigation import register_nav
from app.core.permissions import Permission
from app.reports import models  # noqa: F401 - the report indexes join the metadata

bp = Blueprint("reports", __name__, url_prefix="/reports")

register_nav("reports.dashboard", _l("Reports"), Permission.REPORT_VIEW, order=60, group="reports")

from app.reports import views  # noqa: E402,F401
