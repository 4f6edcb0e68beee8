"""Delivering outbox rows: claim, send through the channel, record — row by row.

1. **Claim** (a short transaction): ``UPDATE … SET state='sending', claim=<token> WHERE id IN
   (…) AND state='pending' AND next_attempt_at <= now``. Only one delivery can move a row out
   of ``pending``, so two consumers (or a task and the sweep) never send one row twice.
2. **Send** each claimed row through its channel, one connection per channel and batch.
3. **Record** each outcome at once, in its own short transaction, conditional on the claim:
   sent; or back to ``pending`` with the next try's time (``OUTBOX_RETRY_DELAYS``); or
   ``failed`` when the tries are used up or the channel says retrying is pointless.

A consumer killed between 2 and 3 leaves its rows ``sending``; after ``OUTBOX_CLAIM_SECONDS``
the sweep gives them back to ``pending`` — the one case where a message may arrive twice
(it was sent, its record was not), which no outbox can exclude without the gateway's help.
"""

from __future__ import annotations

import logging
import uuid
from contextlib import contextmanager, nullcontext
from datetime import datetime, timedelta
from itertools import groupby

import sqlalchemy as sa
from flask import current_app

from app.core.clock import now_utc
from app.core.transactions import begin_write
from app.extensions import db
from app.jobs.engine import huey
from app.notifications import messages
from app.notifications.channels import Delivery, PermanentFailure, UnknownChannel, channel_of
from app.notifications.models import OutboxMessage, OutboxState

logger = logging.getLogger("ruyi.outbox")

ERROR_LIMIT = 2000


def retry_delays() -> list[int]:
    """Seconds to wait after the 1st, 2nd… failed try; one try more than delays."""
    return list(current_app.config["OUTBOX_RETRY_DELAYS"])


def dispatch(ids: list[int]) -> None:
    """Hand the delivery of these committed rows to the job store, in batches. A store that
    refuses loses nothing: the rows stay ``pending`` and the sweep sends them later."""
    size = max(1, int(current_app.config["OUTBOX_BATCH"]))
    for start in range(0, len(ids), size):
        chunk = ids[start:start + size]
        try:
            deliver_task(chunk)
        except Exception:  # the store is down: the sweep finds the rows again
            logger.exception("could not hand %d message(s) to the job store", len(chunk))


@huey.task(name="ruyi.outbox")
def deliver_task(ids: list[int]) -> None:
    """The engine's task for a batch of outbox rows (run by a consumer)."""
    from app.jobs.runner import app_context

    with app_context():
        deliver(ids)


def deliver(ids: list[int], now: datetime | None = None) -> dict[str, int]:
    """Claim, send and record the due rows among ``ids``; returns how many ended how."""
    token = uuid.uuid4().hex
    counts = {"sent": 0, "retrying": 0, "failed": 0}
    deliveries, attempts = _claim(ids, token, now or now_utc())
    for name, group in groupby(deliveries, key=lambda d: d.channel):
        for delivery, error in _send_all(name, list(group)):
            counts[_record(delivery.id, token, attempts[delivery.id], error)] += 1
    if deliveries:
        logger.info("outbox: %s", counts)
    return counts


def _claim(ids: list[int], token: str, now: datetime):
    begin_write()
    claimed = db.session.execute(
        sa.update(OutboxMessage).where(
            OutboxMessage.id.in_(ids), OutboxMessage.state == OutboxState.PENDING,
            OutboxMessage.next_attempt_at <= now)
        .values(state=OutboxState.SENDING, claim=token, claimed_at=now,
                attempts=OutboxMessage.attempts + 1)
        .execution_options(synchronize_session=False)).rowcount
    db.session.commit()
    if not claimed:
        return [], {}
    rows = db.session.scalars(sa.select(OutboxMessage).where(OutboxMessage.claim == token)
                              .order_by(OutboxMessage.channel, OutboxMessage.id)).all()
    deliveries = [_delivery(row) for row in rows]
    attempts = {row.id: row.attempts for row in rows}
    db.session.commit()
    return deliveries, attempts


def _delivery(row: OutboxMessage) -> Delivery:
    subject, body = messages.render_row(row)
    return Delivery(id=row.id, channel=row.channel, address=row.address, subject=subject,
                    body=body, link=row.link, locale=row.locale, params=dict(row.params or {}),
                    tags=dict(row.tags or {}))


def _send_all(name: str, deliveries: list[Delivery]):
    """Yield ``(delivery, error or None)`` for each: one connection for the whole batch."""
    done: set[int] = set()
    try:
        channel = channel_of(name)
        with _connection(channel) as connection:
            for delivery in deliveries:
                error = _send_one(channel, delivery, connection)
                done.add(delivery.id)
                yield delivery, error
    except UnknownChannel as error:
        failure: Exception = PermanentFailure(f"unknown channel {error}")
    except Exception as error:  # the connection could not be opened (or closed)
        failure = error
    else:
        return
    for delivery in deliveries:
        if delivery.id not in done:
            yield delivery, failure


def _send_one(channel, delivery: Delivery, connection) -> Exception | None:
    try:
        channel.deliver(delivery, connection)
    except Exception as error:  # any failure of the gateway is recorded, never raised
        return error
    return None


@contextmanager
def _connection(channel):
    if channel.connect is None:
        yield None
        return
    opened = channel.connect()
    if opened is None:
        yield None
    elif hasattr(opened, "__enter__"):
        with opened as connection:
            yield connection
    else:
        with nullcontext(opened) as connection:
            yield connection


def _record(message_id: int, token: str, attempts: int, error: Exception | None) -> str:
    now = now_utc()
    if error is None:
        values, outcome = {"state": OutboxState.SENT, "sent_at": now, "last_error": None}, "sent"
    else:
        values, outcome = _failure(attempts, error, now)
    begin_write()
    db.session.execute(
        sa.update(OutboxMessage).where(OutboxMessage.id == message_id,
                                       OutboxMessage.claim == token)
        .values(claim=None, claimed_at=None, **values)
        .execution_options(synchronize_session=False))
    db.session.commit()
    if error is not None:
        logger.warning("outbox message %s %s after try %d: %s", message_id, outcome, attempts,
                       _text(error))
    return outcome


def _failure(attempts: int, error: Exception, now: datetime) -> tuple[dict, str]:
    delays = retry_delays()
    text = _text(error)[:ERROR_LIMIT]
    if isinstance(error, PermanentFailure) or attempts > len(delays):
        return {"state": OutboxState.FAILED, "last_error": text}, "failed"
    return {"state": OutboxState.PENDING, "last_error": text, "dispatched_at": None,
            "next_attempt_at": now + timedelta(seconds=delays[attempts - 1])}, "retrying"


def _text(error: Exception) -> str:
    return f"{type(error).__name__}: {error}"
