"""Notify users in-app and by e-mail in one call, inside the caller's transaction.

The in-app row is flushed with the change that causes it, and the e-mail is an outbox row
written in the same transaction (:mod:`app.notifications.outbox`), delivered by a job after
the commit; a rolled-back change notifies nobody, on either channel.
"""

from __future__ import annotations

import sqlalchemy as sa

from app.core import audit
from app.core.clock import now_utc
from app.extensions import db
from app.notifications import outbox
from app.notifications.models import Notification

TEXT_LIMIT = 2000


def add_in_app(user, subject: str, text: str, link: str | None = None) -> Notification:
    """Only the in-app row, for a caller that mails a different address (a request's requester)."""
    note = Notification(recipient_id=user.id, subject=str(subject)[:300],
                        text=str(text or "")[:TEXT_LIMIT], link=link, created_at=now_utc())
    db.session.add(note)
    return note


def notify(user, subject: str, text: str, link: str | None = None, **tags) -> Notification:
    """Add the in-app row for ``user`` and queue the same message to their address."""
    note = add_in_app(user, subject, text, link)
    outbox.put("email", user.email, subject=subject, body=text or "", recipient=user,
               tags=tags or None)
    return note


def notify_all(users, subject: str, text: str, link: str | None = None, **tags) -> None:
    """:func:`notify` each user once (one e-mail each, in their own outbox row)."""
    users = list({u.id: u for u in users if u is not None}.values())
    for user in users:
        notify(user, subject, text, link, **tags)


def unread_count(user) -> int:
    """One COUNT on the (recipient, read_at) index, for the navigation badge."""
    return db.session.scalar(_UNREAD_COUNT, {"recipient_id": user.id}) or 0


#: Built once (with its cache key): every signed-in page runs it for the badge.
_UNREAD_COUNT = sa.select(sa.func.count(Notification.id)).where(
    Notification.recipient_id == sa.bindparam("recipient_id"), Notification.read_at.is_(None))


def for_user(user):
    """The user's notifications, unread first, then newest first."""
    return (sa.select(Notification).where(Notification.recipient_id == user.id)
            .order_by(Notification.read_at.is_not(None), Notification.created_at.desc(),
                      Notification.id.desc()))


def mark_read(user, note: Notification) -> None:
    """Mark one of the user's own notifications read (already read stays as it was)."""
    if note.read_at is None:
        note.read_at = now_utc()
        db.session.flush()
        audit.record("notification.read", actor=user, obj=note)


def mark_all_read(user) -> int:
    """Mark every unread notification of the user read; returns how many."""
    result = db.session.execute(sa.update(Notification).where(
        Notification.recipient_id == user.id, Notification.read_at.is_(None))
        .values(read_at=now_utc()))
    if result.rowcount:
        audit.record("notification.read_all", actor=user, details={"count": result.rowcount})
    return result.rowcount
