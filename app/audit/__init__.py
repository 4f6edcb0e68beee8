"""The auditor's view of the audit log: filter and export (the model lives in core.audit)."""

from flask import Blueprint
from flask_babel import lazy_gettext as _l

from app.core.navigation import register_nav
from app.core.permissions import Permission

bp = Blueprint("audit", __name__, url_prefix="/audit")

register_nav("audit.events", _l("Audit log"), Permission.AUDIT_VIEW, order=90, group="admin")

from app.audit import views  # noqa: E402,F401
