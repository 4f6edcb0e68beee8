"""One notification row per recipient, and one outbox row per recipient per channel, each
written in the transaction of the change that causes it."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.clock import now_utc
from app.db import UTCDateTime, enum_type
from app.extensions import db


class Notification(db.Model):
    """A short message for one user; ``read_at`` is empty until they mark it read."""

    __tablename__ = "notifications"
    __table_args__ = (sa.Index("ix_notifications_recipient_read", "recipient_id", "read_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    recipient_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"))
    subject: Mapped[str] = mapped_column(sa.String(300))
    text: Mapped[str] = mapped_column(sa.Text, default="")
    link: Mapped[str | None] = mapped_column(sa.String(300))
    #: A message key and its parameters, rendered in the reader's language when shown
    #: (:mod:`app.notifications.messages`); rows without a key show ``subject`` and ``text``.
    key: Mapped[str | None] = mapped_column(sa.String(100))
    params: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=now_utc)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class OutboxState(StrEnum):
    """Where one outgoing message is: waiting (maybe for a retry), being sent, sent, failed."""

    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"


OUTBOX_STATE_LABELS = {
    OutboxState.PENDING: _l("Waiting"),
    OutboxState.SENDING: _l("Being sent"),
    OutboxState.SENT: _l("Sent"),
    OutboxState.FAILED: _l("Failed"),
}


class OutboxMessage(db.Model):
    """One message to one recipient on one channel (e-mail, SMS, a webhook…).

    Written in the transaction of the change that causes it, so it exists exactly when its
    cause committed; a delivery claims it with a conditional UPDATE (``claim``), so two
    consumers never send one row twice; a failure puts it back with ``next_attempt_at``.
    """

    __tablename__ = "outbox_messages"
    __table_args__ = (
        sa.Index("ix_outbox_messages_state_next", "state", "next_attempt_at"),
        sa.Index("ix_outbox_messages_claim", "claim"),
        sa.CheckConstraint("attempts >= 0", name="attempts_not_negative"),
        sa.CheckConstraint("(state = 'sent') = (sent_at IS NOT NULL)", name="sent_iff_sent_at"),
        sa.CheckConstraint("(state = 'sending') = (claim IS NOT NULL)",
                           name="sending_iff_claimed"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: A registered channel (:mod:`app.notifications.channels`): ``email``, ``sms``…
    channel: Mapped[str] = mapped_column(sa.String(32), nullable=False)
    #: Where it goes on that channel: an e-mail address, a mobile number, a webhook's target.
    address: Mapped[str] = mapped_column(sa.String(500), nullable=False)
    #: The user it is for, when the recipient has an account.
    recipient_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL"))
    #: The recipient's language: the text is rendered in it at delivery.
    locale: Mapped[str | None] = mapped_column(sa.String(16))
    #: A message key and its parameters (rendered at delivery); without a key, subject and
    #: body are the text as written.
    key: Mapped[str | None] = mapped_column(sa.String(100))
    params: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON)
    subject: Mapped[str] = mapped_column(sa.Text, nullable=False, default="")
    body: Mapped[str] = mapped_column(sa.Text, nullable=False, default="")
    link: Mapped[str | None] = mapped_column(sa.String(500))
    #: What it is about (``{"ticket": "KS2026-000123"}``), for people and for filters.
    tags: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON)
    state: Mapped[OutboxState] = mapped_column(enum_type(OutboxState, "state"), nullable=False,
                                               default=OutboxState.PENDING)
    attempts: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=0)
    #: Not sent before this time (the backoff after a failure).
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False,
                                                      default=now_utc)
    #: When a delivery task was last handed to the job store for it (the sweep resends lost ones).
    dispatched_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: The token of the delivery that claimed it, while it is being sent.
    claim: Mapped[str | None] = mapped_column(sa.String(32))
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: The last failure, for people.
    last_error: Mapped[str | None] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=now_utc)

    recipient = relationship("User", lazy="joined")

    @property
    def can_retry(self) -> bool:
        """An admin may send a failed message again."""
        return self.state == OutboxState.FAILED
