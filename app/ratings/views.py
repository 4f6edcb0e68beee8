"""Rating pages: the follow-up list and rating, rectifications, and their settings."""

from __future__ import annotations

import sqlalchemy as sa
from flask import redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from app.core.clock import now_utc
from app.core.navigation import register_nav
from app.core.pagination import paginate
from app.core.permissions import Permission as P
from app.core.permissions import require, require_permission
from app.core.transactions import commit_or_explain
from app.extensions import db
from app.ratings import bp, queries, services
from app.ratings.forms import (
    CallbackForm,
    ClassifyForm,
    DecisionForm,
    ExtensionForm,
    FollowUpRatingForm,
    RectificationFilterForm,
    ReopenForm,
    ResultForm,
    SettingsForm,
    StaffFeedbackForm,
)
from app.ratings.models import (
    CLASSIFICATION_LABELS,
    FEEDBACK_LEVEL_LABELS,
    LEVEL_LABELS,
    RATING_CHANNEL_LABELS,
    RECTIFICATION_STATUS_LABELS,
    Rectification,
)
from app.tickets.models import Ticket, TicketStatus
from app.tickets.queries import get_visible

register_nav("ratings.follow_ups", _l("Follow-up ratings"), P.RATING_RECORD, order=28)
register_nav("ratings.rectifications", _l("Rectifications"), P.RECTIFICATION_VIEW, order=29)
register_nav("ratings.settings", _l("Rating settings"), P.RATING_CONFIGURE, order=90, group="admin")

LABELS = {"status": RECTIFICATION_STATUS_LABELS, "classification": CLASSIFICATION_LABELS,
          "feedback": FEEDBACK_LEVEL_LABELS, "level": LEVEL_LABELS,
          "channel": RATING_CHANNEL_LABELS}


@bp.context_processor
def _labels():
    return {"rating_labels": LABELS}


@bp.route("/follow-ups")
@require_permission(P.RATING_RECORD)
def follow_ups():
    """Tickets waiting for their follow-up (待回访), soonest deadline first."""
    q = (request.args.get("q") or "").strip()
    statement = sa.select(Ticket).where(Ticket.status == TicketStatus.FOLLOW_UP)
    if q:
        statement = statement.where(sa.or_(Ticket.reference.ilike(f"%{q}%"),
                                           Ticket.title.ilike(f"%{q}%")))
    page = paginate(statement.order_by(Ticket.follow_up_due_at, Ticket.id))
    return render_template("ratings/follow_ups.html", page=page, q=q)


@bp.route("/follow-ups/<int:ticket_id>", methods=["GET", "POST"])
@require_permission(P.RATING_RECORD)
def follow_up(ticket_id: int):
    """Record the rating the requester gave on the follow-up call, with its channel."""
    ticket = get_visible(current_user, ticket_id)
    require(ticket is not None)
    form = FollowUpRatingForm()
    if form.validate_on_submit() and commit_or_explain(
            lambda: services.record_follow_up(ticket, current_user, form.level.data,
                                              form.channel.data, form.comment.data,
                                              ip=request.remote_addr),
            lambda _done: _("Rating recorded for %(ref)s.", ref=ticket.reference)):
        return redirect(url_for("ratings.follow_ups"))
    return render_template("ratings/follow_up.html", ticket=ticket, form=form), \
        400 if form.is_submitted() else 200


@bp.route("/rectifications")
@require_permission(P.RECTIFICATION_VIEW)
def rectifications():
    """Rectifications with their deadlines: open ones first, the earliest due first."""
    form = RectificationFilterForm(request.args)
    page = paginate(queries.rectification_list(current_user, form.q.data or "",
                                               form.status.data or "open",
                                               bool(form.overdue.data)))
    figures = None
    if current_user.can(P.RECTIFICATION_SUPERVISE):
        figures = {"callback": queries.callback_rate(),
                   "rectification": queries.rectification_rate(),
                   "satisfaction": queries.satisfaction_rate(),
                   "handle_now": queries.handle_now_rate()}
    return render_template("ratings/rectifications.html", page=page, form=form,
                           figures=figures, now=now_utc())


def _load(rectification_id: int) -> Rectification:
    row = db.session.get(Rectification, rectification_id)
    require(row is not None and row.can_view(current_user))
    return row


def _page(row: Rectification, forms: dict | None = None, status: int = 200):
    forms = forms or {}
    defaults = {"callback": CallbackForm, "classify": ClassifyForm, "result": ResultForm,
                "extension": ExtensionForm, "decide_extension": DecisionForm,
                "appeal": DecisionForm, "feedback": StaffFeedbackForm, "reopen": ReopenForm}
    bound = {name: forms.get(name) or cls(formdata=None) for name, cls in defaults.items()}
    return render_template("ratings/rectification.html", row=row, forms=bound,
                           see_evaluator=current_user.can(P.RATING_SEE_EVALUATOR),
                           settings=services.get_settings(), now=now_utc()), status


@bp.route("/rectifications/<int:rectification_id>")
@require_permission(P.RECTIFICATION_VIEW)
def rectification(rectification_id: int):
    """One rectification; the evaluator is shown only to the service centre and supervisors."""
    return _page(_load(rectification_id))


_STEP_FORMS = {"callback": CallbackForm, "classify": ClassifyForm, "result": ResultForm,
               "extension": ExtensionForm, "decide_extension": DecisionForm,
               "appeal": DecisionForm, "feedback": StaffFeedbackForm, "reopen": ReopenForm}


def _apply(row: Rectification, step: str, form) -> None:
    actor = current_user
    if step == "callback":
        services.record_callback(row, actor, form.note.data)
    elif step == "classify":
        services.classify(row, actor, form.classification.data, form.plan.data,
                          form.appeal_reason.data)
    elif step == "result":
        services.record_result(row, actor, form.result.data)
    elif step == "extension":
        services.request_extension(row, actor, form.days.data, form.reason.data)
    elif step == "decide_extension":
        services.decide_extension(row, actor, bool(form.approve.data))
    elif step == "appeal":
        services.decide_appeal(row, actor, bool(form.approve.data), form.reason.data)
    elif step == "feedback":
        services.record_feedback(row, actor, form.level.data, form.channel.data)
    else:
        services.reopen_ticket(row, actor, form.reason.data, ip=request.remote_addr)


@bp.route("/rectifications/<int:rectification_id>/<any(callback, classify, result, extension, "
          "decide_extension, appeal, feedback, reopen):step>", methods=["POST"])
@require_permission(P.RECTIFICATION_VIEW)
def rectification_step(rectification_id: int, step: str):
    """One step of the rectification; the service checks who may take it and when."""
    row = _load(rectification_id)
    form = _STEP_FORMS[step]()
    if not form.validate_on_submit():
        return _page(row, {step: form}, 400)
    if not commit_or_explain(lambda: _apply(row, step, form), _("Rectification updated.")):
        return _page(_load(rectification_id), {step: form}, 400)
    return redirect(url_for("ratings.rectification", rectification_id=rectification_id))


@bp.route("/settings", methods=["GET", "POST"])
@require_permission(P.RATING_CONFIGURE)
def settings():
    """The rectification limits [cfg]."""
    row = services.get_settings()
    form = SettingsForm(obj=row)
    if form.validate_on_submit() and commit_or_explain(
            lambda: services.update_settings(form.rectification_days.data,
                                             form.rectification_max_days.data, current_user),
            _("Settings saved."), form=form, field="rectification_max_days"):
        return redirect(url_for("ratings.settings"))
    return render_template("ratings/settings.html", form=form), 400 if form.errors else 200
