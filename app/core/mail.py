"""Notifications queued during a transaction and sent only after it commits.

A service calls :func:`queue` while it works; the message waits in the session's ``info`` and
goes out from the ``after_commit`` hook. A rollback (a refused action, an error, a failed
optimistic-lock check) drops it, so nobody is told about a change that never happened.

``MAIL_BACKEND`` picks the transport: ``console`` (development: log the message), ``capture``
(tests: append to :data:`outbox`), ``smtp`` (production: ``MAIL_SERVER`` and friends).
"""

from __future__ import annotations

import logging
import smtplib
from dataclasses import dataclass, field
from email.message import EmailMessage

from flask import current_app, has_app_context
from sqlalchemy import event
from sqlalchemy.orm import Session

from app.extensions import db

logger = logging.getLogger("ruyi.mail")

_PENDING_KEY = "pending_mail"

#: Messages "sent" with the ``capture`` backend (tests read and clear it).
outbox: list[Message] = []


@dataclass(frozen=True)
class Message:
    """One e-mail: recipients, subject and plain-text body."""

    to: tuple[str, ...]
    subject: str
    body: str
    tags: dict = field(default_factory=dict, compare=False)


def queue(to, subject: str, body: str, **tags) -> Message | None:
    """Queue a message on the current transaction; recipients without an address are skipped."""
    recipients = tuple(sorted({address for address in _as_list(to) if address}))
    if not recipients:
        return None
    message = Message(recipients, str(subject), str(body), dict(tags))
    db.session().info.setdefault(_PENDING_KEY, []).append(message)
    return message


def pending() -> list[Message]:
    """Messages waiting for the current transaction to commit."""
    return list(db.session().info.get(_PENDING_KEY, []))


def discard_pending() -> int:
    """Drop the messages queued on the current transaction (demo history e-mails nobody)."""
    return len(db.session().info.pop(_PENDING_KEY, None) or [])


def _as_list(to) -> list[str]:
    return [to] if isinstance(to, str) else list(to or [])


def send(message: Message) -> None:
    """Deliver one message with the configured backend."""
    backend = current_app.config.get("MAIL_BACKEND", "console") if has_app_context() else "console"
    if backend == "capture":
        outbox.append(message)
    elif backend == "smtp":
        _send_smtp(message)
    else:
        logger.info("mail to %s: %s\n%s", ", ".join(message.to), message.subject, message.body)


def _send_smtp(message: Message) -> None:
    config = current_app.config
    email = EmailMessage()
    email["From"] = config["MAIL_DEFAULT_SENDER"]
    email["To"] = ", ".join(message.to)
    email["Subject"] = message.subject
    email.set_content(message.body)
    with smtplib.SMTP(config["MAIL_SERVER"], config.get("MAIL_PORT", 25), timeout=10) as smtp:
        if config.get("MAIL_USE_TLS"):
            smtp.starttls()
        if config.get("MAIL_USERNAME"):
            smtp.login(config["MAIL_USERNAME"], config["MAIL_PASSWORD"])
        smtp.send_message(email)


@event.listens_for(Session, "after_commit")
def _send_after_commit(session: Session) -> None:
    messages = session.info.pop(_PENDING_KEY, [])
    for message in messages:
        try:
            send(message)
        except Exception:  # a mail outage must not undo or hide a committed change
            logger.exception("could not send mail to %s", ", ".join(message.to))


@event.listens_for(Session, "after_rollback")
def _drop_after_rollback(session: Session) -> None:
    dropped = session.info.pop(_PENDING_KEY, [])
    if dropped:
        logger.info("dropped %d queued message(s) after a rollback", len(dropped))
