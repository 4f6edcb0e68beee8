"""Notifications: the in-app list a signed-in user reads (issue 4 item 7), and the outbox that
delivers every message to a person by e-mail, SMS or any registered channel (issue 13).
"""

from flask import Blueprint
from flask_babel import lazy_gettext as _l

from app.core.navigation import register_nav
from app.core.permissions import Permission

bp = Blueprint("notifications", __name__, url_prefix="/notifications")
#: ``/admin/outbox``: what was sent, what waits for a retry, what failed (and retry).
admin_bp = Blueprint("outbox", __name__, url_prefix="/admin/outbox")

register_nav("outbox.index", _l("Outbox"), Permission.JOB_MANAGE, order=86)

from app.notifications import admin_views, models, outbox, senders, views  # noqa: E402,F401
