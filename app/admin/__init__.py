"""Administration: users and units (admin role only)."""

from flask import Blueprint
from flask_babel import lazy_gettext as _l

from app.core.navigation import register_nav
from app.core.permissions import Permission

bp = Blueprint("admin", __name__, url_prefix="/admin")

register_nav("admin.users", _l("Users"), Permission.USER_MANAGE, order=80, group="admin")
register_nav("admin.units", _l("Units"), Permission.UNIT_MANAGE, order=81, group="admin")

from app.admin import views  # noqa: E402,F401
