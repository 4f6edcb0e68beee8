"""The ticket's timeline: immutable events, comments and attachment metadata."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from app.core.clock import now_utc
from app.db import UTCDateTime, enum_type
from app.extensions import db
from app.tickets.models.enums import CommentVisibility, TicketStatus


class TicketEventImmutable(RuntimeError):
    """Raised on any attempt to change or remove a ticket event."""


class TicketEvent(db.Model):
    """One thing that happened to a ticket (DOMAIN §3.1: actor, role, from, to, reason, time, IP).

    Append-only: the ORM refuses updates and deletes. Actor name and role are copied so the
    timeline stays true after people are renamed or change role.
    """

    __tablename__ = "ticket_events"
    __table_args__ = (
        sa.Index("ix_ticket_events_ticket_id_at", "ticket_id", "at"),
        sa.Index("ix_ticket_events_action_at", "action", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(sa.ForeignKey("tickets.id"), nullable=False)
    at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=now_utc)
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    #: ``None`` with no actor means the system (the SLA scan, an automatic resume).
    actor_name: Mapped[str | None] = mapped_column(sa.String(64))
    actor_role: Mapped[str | None] = mapped_column(sa.String(32))
    action: Mapped[str] = mapped_column(sa.String(32), nullable=False)
    from_status: Mapped[TicketStatus | None] = mapped_column(
        enum_type(TicketStatus, "ticket_event_from_status"))
    to_status: Mapped[TicketStatus | None] = mapped_column(
        enum_type(TicketStatus, "ticket_event_to_status"))
    reason: Mapped[str | None] = mapped_column(sa.Text)
    data: Mapped[dict[str, Any]] = mapped_column(sa.JSON, nullable=False, default=dict)
    ip: Mapped[str | None] = mapped_column(sa.String(45))

    ticket = relationship("Ticket")
    actor = relationship("User", lazy="joined")

    def __repr__(self) -> str:
        return f"<TicketEvent {self.id} {self.action} {self.from_status}->{self.to_status}>"


@event.listens_for(TicketEvent, "before_update")
@event.listens_for(TicketEvent, "before_delete")
def _refuse_change(_mapper, _connection, target):
    raise TicketEventImmutable(f"ticket events are append-only ({target!r})")


@event.listens_for(Session, "do_orm_execute")
def _refuse_bulk_change(state):
    if (state.is_update or state.is_delete) and any(
        getattr(m, "class_", None) is TicketEvent for m in state.all_mappers
    ):
        raise TicketEventImmutable("ticket events are append-only")


class Comment(db.Model):
    """A note on a ticket: ``public`` ones are shown to the firm, ``internal`` ones are not."""

    __tablename__ = "ticket_comments"
    __table_args__ = (
        sa.Index("ix_ticket_comments_ticket_id_created_at", "ticket_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(sa.ForeignKey("tickets.id"), nullable=False)
    author_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    visibility: Mapped[CommentVisibility] = mapped_column(
        enum_type(CommentVisibility, "comment_visibility"), nullable=False)
    body: Mapped[str] = mapped_column(sa.Text, nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=now_utc)

    author = relationship("User", lazy="joined")

    @property
    def is_public(self) -> bool:
        """The firm may read it."""
        return self.visibility == CommentVisibility.PUBLIC


class Attachment(db.Model):
    """Metadata of a file attached to a ticket; the content lives outside the web root."""

    __tablename__ = "ticket_attachments"
    __table_args__ = (
        sa.CheckConstraint("size_bytes >= 0", name="size_not_negative"),
        sa.Index("ix_ticket_attachments_ticket_id", "ticket_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(sa.ForeignKey("tickets.id"), nullable=False)
    comment_id: Mapped[int | None] = mapped_column(sa.ForeignKey("ticket_comments.id"))
    uploaded_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    visibility: Mapped[CommentVisibility] = mapped_column(
        enum_type(CommentVisibility, "attachment_visibility"), nullable=False)
    #: The name the uploader gave, shown only (never used as a path).
    original_name: Mapped[str] = mapped_column(sa.String(255), nullable=False)
    #: A random name under the storage directory.
    stored_name: Mapped[str] = mapped_column(sa.String(64), unique=True, nullable=False)
    content_type: Mapped[str] = mapped_column(sa.String(100), nullable=False)
    size_bytes: Mapped[int] = mapped_column(sa.Integer, nullable=False)
    sha256: Mapped[str] = mapped_column(sa.String(64), nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=now_utc)
