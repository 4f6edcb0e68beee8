"""The outbox: every message to a person is a row written with its cause, then delivered.

**Written with the cause.** :func:`put` adds a message (one recipient, one channel) to the
open transaction. The rows wait in the session and go to the database in **one multi-row
INSERT** just before that transaction commits — inside it — so a change and the messages it
causes commit together, and a rolled-back change leaves no message.

**Delivered by the job engine.** Once the transaction has committed, the new rows' ids go to
the job store as ``ruyi.outbox`` tasks (:mod:`app.notifications.delivery`), which a consumer
runs: it claims its rows with a conditional UPDATE, sends each through its channel
(:mod:`app.notifications.channels`) and records the outcome row by row. A failure is retried
with backoff (``OUTBOX_RETRY_DELAYS``), then the row is marked failed and shown to admins
(``/admin/outbox``). The periodic sweep (``notifications.sweep``, every minute) sends what is
due: retries, rows whose task was lost, rows whose consumer died while sending.

Why a task with row ids rather than a job record per message: the outbox row *is* the record
(state, attempts, error, shown on its admin page), so a job record beside each one would
double the writes of every notifying change.
"""

from __future__ import annotations

import logging
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import Session

from app.core import mail
from app.core.clock import now_utc
from app.extensions import db
from app.notifications.models import OutboxMessage, OutboxState

logger = logging.getLogger("ruyi.outbox")

_NEW = "outbox_new"  # session.info: rows to insert before the commit
_TO_SEND = "outbox_to_send"  # session.info: ids whose delivery is asked after the commit
_COMMITTED = "outbox_committed"  # session.info: ids committed, to hand to the job store

TEXT_LIMIT = 20000


def put(channel: str, address: str | None, *, subject: str = "", body: str = "",
        key: str | None = None, params: dict[str, Any] | None = None,
        link: str | None = None, recipient=None, locale: str | None = None,
        tags: dict[str, Any] | None = None) -> bool:
    """Add one message for ``address`` on ``channel`` to the open transaction.

    :param key: a message key (:mod:`app.notifications.messages`) rendered with ``params`` in
        the recipient's ``locale`` at delivery; without it, ``subject`` and ``body`` are sent
        as they are.
    :param recipient: the user it is for, if any (their language is the default ``locale``).
    :returns: ``False`` (and nothing added) when there is no address.
    """
    if not address:
        return False
    if recipient is not None and locale is None:
        locale = getattr(recipient, "preferred_language", None)
    _new(db.session()).append({
        "channel": channel, "address": str(address)[:500],
        "recipient_id": getattr(recipient, "id", None), "locale": locale, "key": key,
        "params": params or None, "subject": str(subject or "")[:TEXT_LIMIT],
        "body": str(body or "")[:TEXT_LIMIT], "link": link, "tags": tags or None})
    return True


def pending(channel: str | None = None) -> list[dict[str, Any]]:
    """The messages added to the open transaction and not yet written (tests, the demo)."""
    rows = db.session().info.get(_NEW, [])
    return [dict(r) for r in rows if channel is None or r["channel"] == channel]


def discard_pending(channel: str | None = None) -> int:
    """Drop the messages added to the open transaction (the demo's history tells nobody)."""
    rows = db.session().info.get(_NEW, [])
    kept = [r for r in rows if channel is not None and r["channel"] != channel]
    db.session().info[_NEW] = kept
    return len(rows) - len(kept)


def send_later(ids: list[int]) -> None:
    """Ask for the delivery of these committed-to-be rows once the open transaction commits."""
    db.session().info.setdefault(_TO_SEND, []).extend(ids)


def _new(session: Session) -> list[dict[str, Any]]:
    return session.info.setdefault(_NEW, [])


@event.listens_for(Session, "before_commit")
def _write_new_rows(session: Session) -> None:
    rows = session.info.get(_NEW)
    if not rows or session.in_nested_transaction():
        return
    session.info[_NEW] = []
    now = now_utc()
    for row in rows:
        row.update(state=OutboxState.PENDING, attempts=0, next_attempt_at=now,
                   dispatched_at=now, created_at=now)
    ids = session.execute(sa.insert(OutboxMessage).returning(OutboxMessage.id), rows).scalars()
    session.info.setdefault(_TO_SEND, []).extend(ids)


@event.listens_for(Session, "after_commit")
def _committed(session: Session) -> None:
    ids = session.info.pop(_TO_SEND, None)
    if ids:
        session.info.setdefault(_COMMITTED, []).extend(ids)


@event.listens_for(Session, "after_rollback")
def _rolled_back(session: Session) -> None:
    dropped = len(session.info.pop(_NEW, None) or []) + len(session.info.pop(_TO_SEND, None) or [])
    if dropped:
        logger.info("dropped %d message(s) of a rolled-back transaction", dropped)


@event.listens_for(Session, "after_transaction_end")
def _hand_over(session: Session, transaction) -> None:
    # Once the outermost transaction has ended the session is free: in immediate mode (tests)
    # the delivery runs in it at once, as a consumer would later.
    if transaction.parent is not None or not session.info.get(_COMMITTED):
        return
    from app.notifications.delivery import dispatch

    ids, session.info[_COMMITTED] = session.info[_COMMITTED], []
    dispatch(ids)


# -- e-mail queued through app.core.mail (the lower layers' way to send mail) ----------------

class _MailOutbox:
    """What :mod:`app.core.mail` hands its messages to: an e-mail row per address."""

    @staticmethod
    def queue(message: mail.Message) -> None:
        for address in message.to:
            put("email", address, subject=message.subject, body=message.body,
                tags=message.tags or None)

    @staticmethod
    def pending() -> list[mail.Message]:
        return [mail.Message((r["address"],), r["subject"], r["body"], r["tags"] or {})
                for r in pending("email")]

    @staticmethod
    def discard() -> int:
        return discard_pending("email")


mail.use_outbox(_MailOutbox)
