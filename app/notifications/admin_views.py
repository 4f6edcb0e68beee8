"""``/admin/outbox``: the messages sent, waiting for a retry or failed; retry by hand."""

from __future__ import annotations

import sqlalchemy as sa
from flask import redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import SelectField

from app.core.forms import ConfirmForm, options
from app.core.pagination import paginate
from app.core.permissions import Permission, require_permission
from app.core.rendering import translated
from app.core.transactions import commit_or_explain
from app.core.validators import mask_mobile
from app.extensions import db
from app.notifications import admin_bp, sweep
from app.notifications.channels import channel_names
from app.notifications.models import OUTBOX_STATE_LABELS, OutboxMessage, OutboxState

#: The default view: what may need a person (waiting for a retry, or failed).
ATTENTION = "attention"


def _state_choices():
    labels = translated(OUTBOX_STATE_LABELS)
    return options([(ATTENTION, _l("Needs attention")), ("", _l("All")),
                    *[(state.value, labels[state]) for state in OutboxState]])


def _channel_choices():
    return options([("", _l("All channels")), *[(name, name) for name in channel_names()]])


class OutboxFilterForm(FlaskForm):
    """State and channel (GET, no CSRF)."""

    class Meta:
        csrf = False

    state = SelectField(_l("State"), choices=_state_choices, default=ATTENTION)
    channel = SelectField(_l("Channel"), choices=_channel_choices)


def _query(state: str, channel: str):
    query = sa.select(OutboxMessage)
    if state == ATTENTION:
        query = query.where(sa.or_(OutboxMessage.state == OutboxState.FAILED,
                                   OutboxMessage.attempts > 0,
                                   OutboxMessage.state == OutboxState.SENDING)
                            ).where(OutboxMessage.state != OutboxState.SENT)
    elif state in {s.value for s in OutboxState}:
        query = query.where(OutboxMessage.state == state)
    if channel:
        query = query.where(OutboxMessage.channel == channel)
    return query.order_by(OutboxMessage.id.desc())


def shown_address(message: OutboxMessage) -> str:
    """Personal data stays masked here: a mobile as 138****1234, an e-mail's user part cut."""
    if message.channel == "sms":
        return mask_mobile(message.address)
    if message.channel == "email" and "@" in message.address:
        user, _at, domain = message.address.partition("@")
        return f"{user[:2]}***@{domain}"
    return message.address


@admin_bp.route("/")
@require_permission(Permission.JOB_MANAGE)
def index():
    """Outgoing messages newest first; by default those that may need a person."""
    form = OutboxFilterForm(request.args)
    state = form.state.data if form.state.data is not None else ATTENTION
    page = paginate(_query(state, form.channel.data or ""), count_limit=10000)
    counts = dict(db.session.execute(
        sa.select(OutboxMessage.state, sa.func.count()).group_by(OutboxMessage.state)).all())
    return render_template("notifications/outbox.html", form=form, page=page,
                           confirm=ConfirmForm(), states=translated(OUTBOX_STATE_LABELS),
                           counts=counts, shown_address=shown_address)


@admin_bp.route("/<int:message_id>/retry", methods=["POST"])
@require_permission(Permission.JOB_MANAGE)
def retry(message_id: int):
    """Send one failed message again, with a fresh set of tries (audited)."""
    message = db.get_or_404(OutboxMessage, message_id)
    if ConfirmForm().validate_on_submit():
        commit_or_explain(lambda: sweep.retry(message, current_user),
                          _("Message %(id)s will be sent again.", id=message_id))
    return redirect(url_for("outbox.index"))


@admin_bp.route("/retry-failed", methods=["POST"])
@require_permission(Permission.JOB_MANAGE)
def retry_failed():
    """Send every failed message again (after a long outage of a gateway; audited)."""
    if ConfirmForm().validate_on_submit():
        commit_or_explain(lambda: sweep.retry_failed(current_user),
                          lambda count: _("%(count)d message(s) will be sent again.",
                                          count=count or 0))
    return redirect(url_for("outbox.index"))
