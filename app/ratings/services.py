"""好差评 and 差评 rectification verbs (DOMAIN §4).

A rating goes through the ticket's own transitions (``rate`` online, ``record_follow_up`` by a
dispatcher), which store the level on the ticket and close it; these services add the rating's
details and, for a real-name 差评, open the rectification that the responsible unit works
through: call-back → classification → result → the evaluator's feedback.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.orm.exc import StaleDataError

from app.core import audit, mail
from app.core.clock import now_utc
from app.core.errors import DomainError, PermissionDenied, ValidationFailed
from app.core.permissions import Permission as P
from app.extensions import db
from app.ratings.models import (
    BAD_LEVELS,
    RECORDED_CHANNELS,
    Classification,
    FeedbackLevel,
    Rating,
    RatingChannel,
    RatingSettings,
    Rectification,
    RectificationExtension,
    RectificationStatus,
)
from app.sla import services as sla
from app.tickets import services as tickets
from app.tickets.models import Ticket, TicketEvent

logger = logging.getLogger("ruyi.ratings")
R = RectificationStatus


class RectificationChanged(DomainError):
    """Someone else changed the rectification meanwhile (optimistic locking)."""


# -- settings ----------------------------------------------------------------------------------


def get_settings() -> RatingSettings:
    """The one settings row (created with the defaults if a database lacks it)."""
    row = db.session.get(RatingSettings, 1)
    if row is None:
        row = RatingSettings(id=1, rectification_days=5, rectification_max_days=15)
        db.session.add(row)
        db.session.flush()
    return row


def update_settings(days: int, max_days: int, actor) -> RatingSettings:
    """Change the rectification limits [cfg]; open rectifications keep their due dates."""
    if days < 1 or max_days < days or max_days > 60:
        raise ValidationFailed(_("The extended limit must be at least the normal limit "
                                 "(and at most 60 working days)."))
    row = get_settings()
    before = {"days": row.rectification_days, "max_days": row.rectification_max_days}
    row.rectification_days, row.rectification_max_days = days, max_days
    db.session.flush()
    audit.record("rating.settings", actor=actor, obj=row,
                 details={"before": before, "after": {"days": days, "max_days": max_days}})
    return row


# -- ratings -----------------------------------------------------------------------------------


def _responsible_unit_id(ticket: Ticket) -> int | None:
    """The lead unit; for a direct answer at intake, the answering dispatcher's unit."""
    if ticket.lead_unit_id is not None:
        return ticket.lead_unit_id
    event = db.session.scalar(sa.select(TicketEvent).where(
        TicketEvent.ticket_id == ticket.id, TicketEvent.action == "answer_directly")
        .order_by(TicketEvent.at.desc()).limit(1))
    return getattr(event.actor, "unit_id", None) if event is not None else None


def _record(ticket: Ticket, channel: RatingChannel, comment: str | None, evaluator,
            recorded_by=None) -> Rating:
    evaluator_id = getattr(evaluator, "id", None)
    rating = Rating(
        ticket_id=ticket.id, channel=channel, comment=(comment or "").strip() or None,
        evaluator_user_id=evaluator_id,
        evaluator_name=getattr(evaluator, "display_name", None) if evaluator_id
        else ticket.requester_name,
        evaluator_mobile=getattr(evaluator, "mobile", None) if evaluator_id
        else ticket.requester_mobile,
        recorded_by_id=getattr(recorded_by, "id", None), unit_id=_responsible_unit_id(ticket),
        handler_id=ticket.assignee_id, rated_at=now_utc())
    db.session.add(rating)
    db.session.flush()
    audit.record("rating.create", actor=recorded_by or (evaluator if evaluator_id else None),
                 obj=rating, details={"ticket": ticket.reference, "level": ticket.rating_level,
                                      "channel": str(channel)})
    if ticket.rating_level in BAD_LEVELS and rating.is_real_name:
        open_rectification(rating)
    return rating


def rate_online(ticket: Ticket, actor, level, comment: str | None = None,
                ip: str | None = None) -> Rating:
    """The requester rates (tracking link or firm account): one rating per ticket."""
    tickets.transition(ticket, "rate", actor, level=level, comment=comment, ip=ip)
    return rating_of(ticket)


def record_follow_up(ticket: Ticket, actor, level, channel: str,
                     comment: str | None = None, ip: str | None = None) -> Rating:
    """A dispatcher records the rating given on a follow-up call (or text, or in person)."""
    if channel not in {str(c) for c in RECORDED_CHANNELS}:
        raise ValidationFailed(_("Choose how the rating was given."))
    tickets.transition(ticket, "record_follow_up", actor, outcome="reached", level=level,
                       comment=comment, rating_channel=channel, ip=ip)
    return rating_of(ticket)


def _on_transition(ticket: Ticket, action: str, actor, data: dict) -> None:
    """Whichever page rated the ticket, record the details and open a 差评's rectification."""
    if action not in ("rate", "record_follow_up") or ticket.rating_level is None:
        return
    if rating_of(ticket) is not None:
        return
    if action == "rate":
        channel = RatingChannel.PORTAL if getattr(actor, "id", None) else RatingChannel.LINK
        _record(ticket, channel, data.get("comment"), actor)
    else:
        channel = RatingChannel(data.get("rating_channel") or RatingChannel.PHONE)
        _record(ticket, channel, data.get("comment"), None, recorded_by=actor)


tickets.AFTER_TRANSITION.append(_on_transition)


def rating_of(ticket: Ticket) -> Rating | None:
    """The ticket's rating details, if it was rated."""
    return db.session.scalar(sa.select(Rating).where(Rating.ticket_id == ticket.id))


# -- rectification -----------------------------------------------------------------------------


def _due(opened_at: datetime, days: int) -> datetime:
    return sla.load_calendar().add_working_days(opened_at, days)


def open_rectification(rating: Rating) -> Rectification:
    """A real-name 差评 opens a rectification due in the configured working days."""
    now = now_utc()
    days = get_settings().rectification_days
    row = Rectification(ticket_id=rating.ticket_id, rating_id=rating.id, unit_id=rating.unit_id,
                        status=R.AWAITING_CALLBACK, opened_at=now, due_days=days,
                        due_at=_due(now, days))
    db.session.add(row)
    db.session.flush()
    audit.record("rectification.open", obj=row, details={"ticket": rating.ticket.reference})
    logger.info("rectification %s opened for %s", row.id, rating.ticket.reference)
    return row


def rectification_of(ticket: Ticket) -> Rectification | None:
    """The ticket's rectification, if its rating was a 差评."""
    return db.session.scalar(sa.select(Rectification).where(Rectification.ticket_id == ticket.id))


def _expect(row: Rectification, *states: RectificationStatus) -> None:
    if row.status not in states:
        raise ValidationFailed(_("This step is not possible while the rectification is %(s)s.",
                                 s=row.status.value))


def _gate(row: Rectification, actor, permission, *, unit: bool = False) -> None:
    if not actor.can(permission) or not row.can_view(actor):
        raise PermissionDenied(_("You may not do this on this rectification."))
    if unit and not row.is_unit_member(actor):
        raise PermissionDenied(_("Only the responsible unit can do this."))


def _text(value: str | None, field_label: str) -> str:
    value = (value or "").strip()
    if not value:
        raise ValidationFailed(_("Please fill in: %(fields)s.", fields=field_label))
    return value


def _save(row: Rectification, action: str, actor, **details) -> Rectification:
    try:
        db.session.flush()
    except StaleDataError as error:
        raise RectificationChanged(_("This rectification was changed by someone else in the "
                                     "meantime. Reload it and try again.")) from error
    audit.record(f"rectification.{action}", actor=actor, obj=row,
                 details={"ticket": row.ticket.reference, "status": str(row.status), **details})
    return row


def record_callback(row: Rectification, actor, note: str) -> Rectification:
    """The service centre calls the evaluator back to verify the 差评."""
    _gate(row, actor, P.RECTIFICATION_CALLBACK)
    _expect(row, R.AWAITING_CALLBACK)
    row.callback_note = _text(note, _("call-back notes"))
    row.callback_at, row.callback_by_id = now_utc(), actor.id
    row.status = R.AWAITING_CLASSIFICATION
    return _save(row, "callback", actor)


def classify(row: Rectification, actor, classification: str, plan: str | None = None,
             appeal_reason: str | None = None) -> Rectification:
    """The unit decides: fix now, fix by a deadline (with a plan), explain, or appeal."""
    _gate(row, actor, P.RECTIFICATION_HANDLE, unit=True)
    _expect(row, R.AWAITING_CLASSIFICATION)
    kind = Classification(classification)
    if kind == Classification.FIX_BY_DEADLINE:
        row.plan = _text(plan, _("rectification plan"))
    elif kind == Classification.APPEAL:
        row.appeal_reason = _text(appeal_reason, _("reason for the appeal"))
    else:
        row.plan = (plan or "").strip() or None
    row.classification, row.classified_at, row.classified_by_id = kind, now_utc(), actor.id
    row.status = R.APPEALED if kind == Classification.APPEAL else R.IN_PROGRESS
    return _save(row, "classify", actor, classification=str(kind))


def decide_appeal(row: Rectification, actor, upheld: bool, reason: str) -> Rectification:
    """A supervisor decides an appeal: upheld closes it, dismissed sends it back to the unit."""
    _gate(row, actor, P.RECTIFICATION_SUPERVISE)
    _expect(row, R.APPEALED)
    row.appeal_decision_reason = _text(reason, _("reason"))
    row.appeal_upheld, row.appeal_decided_at, row.appeal_decided_by_id = upheld, now_utc(), actor.id
    if upheld:
        row.status, row.closed_at = R.CLOSED, now_utc()
    else:
        row.status, row.classification = R.AWAITING_CLASSIFICATION, None
    return _save(row, "appeal_decision", actor, upheld=upheld)


def request_extension(row: Rectification, actor, total_days: int, reason: str) -> Rectification:
    """The unit asks for more working days in total (up to the configured maximum)."""
    _gate(row, actor, P.RECTIFICATION_HANDLE, unit=True)
    _expect(row, R.AWAITING_CLASSIFICATION, R.IN_PROGRESS)
    if row.extension_status == RectificationExtension.REQUESTED:
        raise ValidationFailed(_("An extension request is already waiting for a decision."))
    limit = get_settings().rectification_max_days
    if not row.due_days < int(total_days) <= limit:
        raise ValidationFailed(_("Ask for more than %(now)d and at most %(max)d working days "
                                 "in total.", now=row.due_days, max=limit))
    row.extension_status, row.extension_days = RectificationExtension.REQUESTED, int(total_days)
    row.extension_reason = _text(reason, _("reason"))
    return _save(row, "extension_request", actor, days=int(total_days))


def decide_extension(row: Rectification, actor, approve: bool) -> Rectification:
    """A supervisor approves (the due date moves) or rejects the extension."""
    _gate(row, actor, P.RECTIFICATION_SUPERVISE)
    if row.extension_status != RectificationExtension.REQUESTED:
        raise ValidationFailed(_("There is no extension request waiting for a decision."))
    row.extension_decided_by_id = actor.id
    if approve:
        row.extension_status = RectificationExtension.APPROVED
        row.due_days = row.extension_days
        row.due_at = _due(row.opened_at, row.due_days)
    else:
        row.extension_status = RectificationExtension.REJECTED
    return _save(row, "extension_decision", actor, approved=approve)


def record_result(row: Rectification, actor, result: str) -> Rectification:
    """The unit reports what it did; the evaluator is told and asked for feedback."""
    _gate(row, actor, P.RECTIFICATION_HANDLE, unit=True)
    _expect(row, R.IN_PROGRESS)
    row.result = _text(result, _("result"))
    row.resulted_at, row.resulted_by_id = now_utc(), actor.id
    row.status = R.AWAITING_FEEDBACK
    ticket = row.ticket
    address = ticket.requester_email or getattr(ticket.created_by, "email", None)
    mail.queue(address, _("About your rating of %(ref)s", ref=ticket.reference),
               _("%(result)s\n\nPlease tell us whether you are satisfied with this follow-up, "
                 "through your tracking link or your firm account.", result=row.result),
               ticket=ticket.reference)
    return _save(row, "result", actor, on_time=row.resulted_at <= row.due_at)


def record_feedback(row: Rectification, actor, level: str,
                    channel: RatingChannel | str | None = None) -> Rectification:
    """The evaluator rates the rectification (online, or told to a dispatcher)."""
    _expect(row, R.AWAITING_FEEDBACK)
    if getattr(actor, "tracking_ticket_id", None) is not None or (
            actor.can(P.PORTAL_USE) and row.ticket.can_view(actor)):
        channel = RatingChannel.PORTAL if getattr(actor, "id", None) else RatingChannel.LINK
    else:
        _gate(row, actor, P.RECTIFICATION_CALLBACK)
        if channel is None or RatingChannel(channel) not in RECORDED_CHANNELS:
            raise ValidationFailed(_("Choose how the feedback was given."))
    if not row.ticket.can_view(actor):
        raise PermissionDenied(_("You may not do this on this rectification."))
    row.feedback_level, row.feedback_channel = FeedbackLevel(level), RatingChannel(channel)
    row.feedback_at = row.closed_at = now_utc()
    row.status = R.CLOSED
    return _save(row, "feedback", actor if getattr(actor, "id", None) else None,
                 level=str(row.feedback_level))


def reopen_ticket(row: Rectification, actor, reason: str, ip: str | None = None) -> None:
    """Still unsatisfied after rectification: a supervisor reopens the closed ticket."""
    _gate(row, actor, P.RECTIFICATION_SUPERVISE)
    if row.feedback_level != FeedbackLevel.UNSATISFIED:
        raise ValidationFailed(_("Only a rectification the evaluator is still unsatisfied "
                                 "with leads to reopening the ticket."))
    tickets.transition(row.ticket, "reopen_closed", actor, reason=reason, ip=ip)


@dataclass
class RectificationFilters:
    """List filters for the rectification list."""

    q: str = ""
    status: str = "open"
    overdue: bool = False
