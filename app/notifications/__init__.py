"""In-app notifications: the list a signed-in user reads, with its unread count (issue 4 item 7)."""

from flask import Blueprint

bp = Blueprint("notifications", __name__, url_prefix="/notifications", template_folder="templates")

from app.notifications import models, views  # noqa: E402,F401
