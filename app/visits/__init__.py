"""Enterprise visits (企业走访): visits, issue lists, campaigns, plans and coverage (DOMAIN §5)."""

from flask import Blueprint
from flask_babel import lazy_gettext as _l

from app.core.navigation import register_nav
from app.core.panels import FIRM_PAGE, TICKET_PAGE, register_panel
from app.core.permissions import Permission

bp = Blueprint("visits", __name__, url_prefix="/visits")

register_nav("visits.index", _l("Visits"), Permission.VISIT_VIEW_UNIT, order=40, group="firms")

from app.visits import models, panels, views  # noqa: E402,F401

register_panel(FIRM_PAGE, "visits", "visits/_firm_panel.html", panels.firm_visit_panel, order=30)
register_panel(TICKET_PAGE, "visits", "visits/_ticket_panel.html", panels.ticket_visit_panel,
               order=10)
