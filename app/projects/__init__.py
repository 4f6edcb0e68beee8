"""Key-enterprise full-lifecycle service projects (DOMAIN §6)."""

from flask import Blueprint
from flask_babel import lazy_gettext as _l

from app.core.navigation import register_nav
from app.core.permissions import Permission

bp = Blueprint("projects", __name__, url_prefix="/projects")

register_nav("projects.index", _l("Projects"), Permission.PROJECT_VIEW, order=45)

from app.projects import models, views  # noqa: E402,F401
