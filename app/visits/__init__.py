"""Enterprise visits (企业走访): visits, issue lists, campaigns, plans and coverage (DOMAIN §5)."""

from flask import Blueprint
from flask_babel import lazy_gettext as _l

from app.core.navigation import register_nav
from app.core.permissions import Permission

bp = Blueprint("visits", __name__, url_prefix="/visits")

register_nav("visits.index", _l("Visits"), Permission.VISIT_VIEW_UNIT, order=40)

from app.visits import models, views  # noqa: E402,F401
