"""Key-enterprise full-lifecycle service projects (DOMAIN §6)."""

from flask import Blueprint
from flask_babel import lazy_gettext as _l

from app.core.navigation import register_nav
from app.core.panels import FIRM_PAGE, TICKET_PAGE, register_panel
from app.core.permissions import Permission

bp = Blueprint("projects", __name__, url_prefix="/projects")

register_nav("projects.index", _l("Projects"), Permission.PROJECT_VIEW, order=45, group="firms")

from app.projects import models, panels, views  # noqa: E402,F401

register_panel(FIRM_PAGE, "projects", "projects/_firm_panel.html", panels.firm_project_panel,
               order=40)
register_panel(TICKET_PAGE, "projects", "projects/_ticket_panel.html",
               panels.ticket_project_panel, order=20)
