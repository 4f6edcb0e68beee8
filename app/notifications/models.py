"""One notification row per recipient, written in the transaction of the change that causes it."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from app.core.clock import now_utc
from app.db import UTCDateTime
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
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=now_utc)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
