"""The user's own notification list and the mark-read actions (POST with CSRF)."""

from __future__ import annotations

from flask import render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.utils import redirect

from app.core.forms import ConfirmForm
from app.core.pagination import paginate
from app.core.permissions import require
from app.core.transactions import commit_or_explain
from app.extensions import db
from app.notifications import bp, services
from app.notifications.models import Notification


@bp.app_context_processor
def _badge():
    """A callable, so the COUNT runs only where the navigation bar asks for it (signed-in users)."""
    return {"unread_notifications": lambda: services.unread_count(current_user)}


@bp.route("/")
def index():
    """Signed-in users only (the default gate): each sees nothing but their own notifications."""
    page = paginate(services.for_user(current_user))
    return render_template("notifications/index.html", page=page, form=ConfirmForm())


@bp.route("/<int:note_id>/read", methods=["POST"])
def mark_read(note_id: int):
    """Mark one notification read; another user's notification is a 404."""
    note = db.session.get(Notification, note_id)
    require(note is not None and note.recipient_id == current_user.id)
    if ConfirmForm().validate_on_submit():
        commit_or_explain(lambda: services.mark_read(current_user, note))
    return redirect(url_for("notifications.index"))


@bp.route("/read-all", methods=["POST"])
def mark_all_read():
    """Mark all of the user's unread notifications read."""
    if ConfirmForm().validate_on_submit():
        commit_or_explain(lambda: services.mark_all_read(current_user),
                          lambda count: _("%(count)d marked as read.", count=count or 0))
    return redirect(url_for("notifications.index"))
