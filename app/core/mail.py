"""E-mail: the message type, the transports, and the way lower layers ask for a message.

A service calls :func:`queue` while it works; the message becomes a row of the outbox
(:mod:`app.notifications.outbox`, which registers itself here with :func:`use_outbox`),
written in the same transaction and delivered by a job after the commit, with retries. A
rollback (a refused action, an error, a failed optimistic-lock check) drops it, so nobody is
told about a change that never happened, and an SMTP outage delays a message, never loses it.

``MAIL_BACKEND`` picks the transport: ``console`` (development: log the message), ``capture``
(tests: append to :data:`outbox`), ``smtp`` (production: ``MAIL_SERVER`` and friends).
"""

from __future__ import annotations

import logging
import smtplib
from dataclasses import dataclass, field
from email.message import EmailMessage

from flask import current_app, has_app_context

logger = logging.getLogger("ruyi.mail")

#: Messages "sent" with the ``capture`` backend (tests read and clear it).
outbox: list[Message] = []


@dataclass(frozen=True)
class Message:
    """One e-mail: recipients, subject and plain-text body."""

    to: tuple[str, ...]
    subject: str
    body: str
    tags: dict = field(default_factory=dict, compare=False)


def use_outbox(keeper) -> None:
    """Register what keeps queued messages: ``keeper.queue(message)``, ``keeper.pending()``
    and ``keeper.discard()`` (the notifications outbox does, at import time)."""
    _outbox[:] = [keeper]


_outbox: list = []


def queue(to, subject: str, body: str, **tags) -> Message | None:
    """Queue a message on the current transaction; recipients without an address are skipped."""
    recipients = tuple(sorted({address for address in _as_list(to) if address}))
    if not recipients:
        return None
    message = Message(recipients, str(subject), str(body), dict(tags))
    _registered().queue(message)
    return message


def pending() -> list[Message]:
    """Messages waiting for the current transaction to commit (one per address)."""
    return list(_registered().pending())


def discard_pending() -> int:
    """Drop the messages queued on the current transaction (demo history e-mails nobody)."""
    return _registered().discard()


def _registered():
    if not _outbox:
        raise RuntimeError("no outbox registered: import app.notifications first")
    return _outbox[0]


def _as_list(to) -> list[str]:
    return [to] if isinstance(to, str) else list(to or [])


def send(message: Message, connection: smtplib.SMTP | None = None) -> None:
    """Deliver one message with the configured backend (over ``connection`` if given: one
    SMTP session for a batch)."""
    backend = current_app.config.get("MAIL_BACKEND", "console") if has_app_context() else "console"
    if backend == "capture":
        outbox.append(message)
    elif backend == "smtp":
        if connection is not None:
            connection.send_message(_email(message))
        else:
            with smtp_connection() as smtp:
                smtp.send_message(_email(message))
    else:
        logger.info("mail to %s: %s\n%s", ", ".join(message.to), message.subject, message.body)


def _email(message: Message) -> EmailMessage:
    email = EmailMessage()
    email["From"] = current_app.config["MAIL_DEFAULT_SENDER"]
    email["To"] = ", ".join(message.to)
    email["Subject"] = message.subject
    email.set_content(message.body)
    return email


def smtp_connection() -> smtplib.SMTP | None:
    """An open SMTP session with the configured server (``None`` unless the backend is smtp);
    use it as a context manager, it quits at the end."""
    config = current_app.config
    if config.get("MAIL_BACKEND") != "smtp":
        return None
    smtp = smtplib.SMTP(config["MAIL_SERVER"], config.get("MAIL_PORT", 25), timeout=10)
    try:
        if config.get("MAIL_USE_TLS"):
            smtp.starttls()
        if config.get("MAIL_USERNAME"):
            smtp.login(config["MAIL_USERNAME"], config["MAIL_PASSWORD"])
    except Exception:
        smtp.close()
        raise
    return smtp
