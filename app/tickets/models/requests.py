"""Requests and interventions attached to a ticket: extensions, returns, urges, supervision."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.clock import now_utc
from app.db import DecisionMixin, UTCDateTime, enum_type
from app.extensions import db
from app.tickets.models.enums import (
    ExtensionStatus,
    ReplyApprovalStatus,
    ReturnStatus,
    SupervisionStatus,
    UrgeKind,
)


class ExtensionRequest(DecisionMixin, db.Model):
    """延期申请: the handler asks, the unit lead endorses, a supervisor decides (DOMAIN §3.1)."""

    __tablename__ = "ticket_extension_requests"
    __table_args__ = (
        sa.CheckConstraint("days > 0", name="days_positive"),
        sa.CheckConstraint(
            "(status IN ('awaiting_decision', 'approved') AND endorsed_at IS NOT NULL) "
            "OR status IN ('awaiting_endorsement', 'rejected')",
            name="decision_follows_endorsement",
        ),
        sa.CheckConstraint(
            "(status IN ('approved', 'rejected')) = (decided_at IS NOT NULL)",
            name="decided_has_decided_at",
        ),
        sa.Index("ix_ticket_extension_requests_ticket_id", "ticket_id"),
        sa.Index("ix_ticket_extension_requests_status", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(sa.ForeignKey("tickets.id"), nullable=False)
    status: Mapped[ExtensionStatus] = mapped_column(
        enum_type(ExtensionStatus, "extension_status"), nullable=False)
    days: Mapped[int] = mapped_column(sa.Integer, nullable=False)
    reason: Mapped[str] = mapped_column(sa.Text, nullable=False)
    #: The handling deadline when the request was made, and the one it asks for.
    current_due_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    proposed_due_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    requested_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), nullable=False)
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=now_utc)
    endorsed_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    endorsed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    ticket = relationship("Ticket")
    requested_by = relationship("User", foreign_keys=[requested_by_id], lazy="joined")


class ReturnRequest(DecisionMixin, db.Model):
    """退单申请: a unit says the ticket is not theirs, with reason and legal basis."""

    __tablename__ = "ticket_return_requests"
    __table_args__ = (
        sa.CheckConstraint("(status = 'pending') = (decided_at IS NULL)",
                           name="decided_has_decided_at"),
        sa.Index("ix_ticket_return_requests_ticket_id", "ticket_id"),
        sa.Index("ix_ticket_return_requests_unit_id_status", "unit_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(sa.ForeignKey("tickets.id"), nullable=False)
    unit_id: Mapped[int] = mapped_column(sa.ForeignKey("units.id"), nullable=False)
    status: Mapped[ReturnStatus] = mapped_column(enum_type(ReturnStatus, "return_status"),
                                                 nullable=False, default=ReturnStatus.PENDING)
    reason: Mapped[str] = mapped_column(sa.Text, nullable=False)
    legal_basis: Mapped[str] = mapped_column(sa.Text, nullable=False)
    suggested_unit_id: Mapped[int | None] = mapped_column(sa.ForeignKey("units.id"))
    #: The status the ticket returns to if the dispatcher refuses the return.
    previous_status: Mapped[str] = mapped_column(sa.String(32), nullable=False)
    requested_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), nullable=False)
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=now_utc)

    ticket = relationship("Ticket")
    requested_by = relationship("User", foreign_keys=[requested_by_id])
    unit = relationship("Unit", foreign_keys=[unit_id], lazy="joined")
    suggested_unit = relationship("Unit", foreign_keys=[suggested_unit_id], lazy="joined")


class ReplyApproval(DecisionMixin, db.Model):
    """A handler's reply waiting for the unit lead, where policy requires it (DOMAIN §3.1 [cfg]).

    The ticket stays ``in_progress`` (its handling clock runs on) until the lead approves the
    text, which then becomes the ticket's reply, or returns it with a reason.
    """

    __tablename__ = "ticket_reply_approvals"
    __table_args__ = (
        sa.CheckConstraint("(status = 'pending') = (decided_at IS NULL)",
                           name="decided_has_decided_at"),
        sa.Index("ix_ticket_reply_approvals_ticket_id_status", "ticket_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(sa.ForeignKey("tickets.id"), nullable=False)
    status: Mapped[ReplyApprovalStatus] = mapped_column(
        enum_type(ReplyApprovalStatus, "reply_approval_status"), nullable=False,
        default=ReplyApprovalStatus.PENDING)
    text: Mapped[str] = mapped_column(sa.Text, nullable=False)
    requested_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), nullable=False)
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=now_utc)

    ticket = relationship("Ticket")
    requested_by = relationship("User", foreign_keys=[requested_by_id], lazy="joined")


class Urge(db.Model):
    """催办: a reminder to the unit, by a dispatcher or automatically before a deadline."""

    __tablename__ = "ticket_urges"
    __table_args__ = (
        sa.CheckConstraint("kind = 'manual' OR dedupe_key IS NOT NULL",
                           name="auto_urge_has_dedupe_key"),
        sa.Index("ix_ticket_urges_ticket_id_at", "ticket_id", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(sa.ForeignKey("tickets.id"), nullable=False)
    kind: Mapped[UrgeKind] = mapped_column(enum_type(UrgeKind, "urge_kind"), nullable=False)
    unit_id: Mapped[int | None] = mapped_column(sa.ForeignKey("units.id"))
    urged_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=now_utc)
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    message: Mapped[str | None] = mapped_column(sa.Text)
    #: One automatic urge per deadline: the scan may run any number of times.
    dedupe_key: Mapped[str | None] = mapped_column(sa.String(100), unique=True)

    ticket = relationship("Ticket")


class SupervisionOrder(db.Model):
    """督办单: a supervisor's (or the scan's) order to a unit, with its own due date."""

    __tablename__ = "ticket_supervision_orders"
    __table_args__ = (
        sa.CheckConstraint("(status = 'closed') = (closed_at IS NOT NULL)",
                           name="closed_has_closed_at"),
        sa.Index("ix_ticket_supervision_orders_ticket_id", "ticket_id"),
        sa.Index("ix_ticket_supervision_orders_status_due_at", "status", "due_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(sa.ForeignKey("tickets.id"), nullable=False)
    unit_id: Mapped[int | None] = mapped_column(sa.ForeignKey("units.id"))
    status: Mapped[SupervisionStatus] = mapped_column(
        enum_type(SupervisionStatus, "supervision_status"), nullable=False,
        default=SupervisionStatus.OPEN)
    is_automatic: Mapped[bool] = mapped_column(sa.Boolean, nullable=False, default=False)
    reason: Mapped[str] = mapped_column(sa.Text, nullable=False)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=now_utc)
    response: Mapped[str | None] = mapped_column(sa.Text)
    responded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: One automatic order per missed deadline.
    dedupe_key: Mapped[str | None] = mapped_column(sa.String(100), unique=True)

    ticket = relationship("Ticket")
    unit = relationship("Unit", lazy="joined")
