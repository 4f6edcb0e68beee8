"""Firms registry (企业档案): USCC-identified firms, areas, industries, tags, contacts."""

from flask import Blueprint
from flask_babel import lazy_gettext as _l

from app.core.navigation import register_nav
from app.core.permissions import Permission

bp = Blueprint("firms", __name__, url_prefix="/firms")

register_nav("firms.index", _l("Firms"), Permission.FIRM_VIEW, order=20, group="firms")

from app.firms import models, views  # noqa: E402,F401
