"""Finding outbox rows that need a delivery, and acting on them for admins (retry).

Every change is conditional on the state it saw, so sweeps on several machines at once, and a
sweep beside running deliveries, never hand one row to two deliveries that could both send it:
the claim in :mod:`app.notifications.delivery` decides.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _

from app.core import audit
from app.core.clock import now_utc
from app.core.errors import DomainError
from app.extensions import db
from app.notifications.models import OutboxMessage, OutboxState
from app.notifications.outbox import send_later

logger = logging.getLogger("ruyi.outbox")

SWEEP_LIMIT = 20000
_CHUNK = 500  # ids per UPDATE … IN (…): far below every database's parameter limit


class NotRetryable(DomainError):
    """Only a failed message can be sent again by hand."""


def sweep(now: datetime | None = None) -> dict[str, int]:
    """Give abandoned claims back, then ask for the delivery of every due row. Flushes; the
    deliveries are asked for after the caller's commit."""
    now = now or now_utc()
    grace = now - timedelta(seconds=current_app.config["OUTBOX_CLAIM_SECONDS"])
    recovered = db.session.execute(
        sa.update(OutboxMessage).where(OutboxMessage.state == OutboxState.SENDING,
                                       OutboxMessage.claimed_at < grace)
        .values(state=OutboxState.PENDING, claim=None, claimed_at=None, dispatched_at=None)
        .execution_options(synchronize_session=False)).rowcount or 0
    due = list(db.session.scalars(
        sa.select(OutboxMessage.id).where(
            OutboxMessage.state == OutboxState.PENDING, OutboxMessage.next_attempt_at <= now,
            sa.or_(OutboxMessage.dispatched_at.is_(None), OutboxMessage.dispatched_at < grace))
        .order_by(OutboxMessage.id).limit(SWEEP_LIMIT)))
    for start in range(0, len(due), _CHUNK):
        db.session.execute(
            sa.update(OutboxMessage).where(OutboxMessage.id.in_(due[start:start + _CHUNK]))
            .values(dispatched_at=now).execution_options(synchronize_session=False))
    send_later(due)
    if recovered or due:
        logger.info("outbox sweep: %d due, %d abandoned claims given back", len(due), recovered)
    return {"due": len(due), "recovered": recovered}


def retry(message: OutboxMessage, actor) -> OutboxMessage:
    """Send a failed message again, with a fresh set of tries (audited)."""
    if not message.can_retry:
        raise NotRetryable(_("Only a failed message can be sent again."))
    before = message.attempts
    _requeue(message)
    audit.record("outbox.retry", actor=actor, obj=message,
                 details={"channel": message.channel, "attempts": before})
    return message


def retry_failed(actor, channel: str | None = None) -> int:
    """Send every failed message (of one channel) again: after a long outage (audited)."""
    query = sa.select(OutboxMessage).where(OutboxMessage.state == OutboxState.FAILED)
    if channel:
        query = query.where(OutboxMessage.channel == channel)
    messages = list(db.session.scalars(query.order_by(OutboxMessage.id).limit(SWEEP_LIMIT)))
    for message in messages:
        _requeue(message)
    if messages:
        audit.record("outbox.retry_failed", actor=actor,
                     details={"channel": channel, "count": len(messages)})
    return len(messages)


def _requeue(message: OutboxMessage) -> None:
    now = now_utc()
    message.state = OutboxState.PENDING
    message.attempts = 0
    message.next_attempt_at = message.dispatched_at = now
    db.session.flush()
    send_later([message.id])


def purge_sent(now: datetime) -> int:
    """Remove sent rows older than ``OUTBOX_KEEP_DAYS`` (flushes; the caller commits)."""
    before = now - timedelta(days=current_app.config["OUTBOX_KEEP_DAYS"])
    result = db.session.execute(sa.delete(OutboxMessage).where(
        OutboxMessage.state == OutboxState.SENT, OutboxMessage.sent_at < before)
        .execution_options(synchronize_session=False))
    return result.rowcount or 0
