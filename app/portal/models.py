"""Firm account registrations and the 马上办 answer snippets."""

from __future__ import annotations

import secrets
from enum import StrEnum

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import DecisionMixin, TimestampMixin, enum_type
from app.extensions import db


class RegistrationStatus(StrEnum):
    """A firm contact's request for an account, until a dispatcher decides."""

    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"


REGISTRATION_STATUS_LABELS = {
    RegistrationStatus.PENDING: _l("Awaiting approval"),
    RegistrationStatus.APPROVED: _l("Approved"),
    RegistrationStatus.REJECTED: _l("Rejected"),
}


def new_reference_token() -> str:
    """A random handle shown to the registrant; never the row id."""
    return secrets.token_urlsafe(12)


class FirmRegistration(DecisionMixin, TimestampMixin, db.Model):
    """A request for a firm account (or a dispatcher's invitation), kept after the decision.

    Pending requests never create half-made users: the account is created, linked to the
    registry firm, only when a dispatcher approves.
    """

    __tablename__ = "firm_registrations"
    __table_args__ = (
        sa.CheckConstraint(
            "(status = 'approved') = (user_id IS NOT NULL AND firm_id IS NOT NULL)",
            name="approved_has_account_and_firm"),
        sa.CheckConstraint("(status = 'pending') = (decided_at IS NULL)",
                           name="decided_has_decided_at"),
        sa.Index("ix_firm_registrations_status_created_at", "status", "created_at"),
        sa.Index("ix_firm_registrations_uscc", "uscc"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    public_token: Mapped[str] = mapped_column(sa.String(32), unique=True, nullable=False,
                                              default=new_reference_token)
    status: Mapped[RegistrationStatus] = mapped_column(
        enum_type(RegistrationStatus, "registration_status"), nullable=False,
        default=RegistrationStatus.PENDING)
    uscc: Mapped[str] = mapped_column(sa.String(18), nullable=False)
    firm_name: Mapped[str] = mapped_column(sa.String(200), nullable=False)
    contact_name: Mapped[str] = mapped_column(sa.String(64), nullable=False)
    mobile: Mapped[str] = mapped_column(sa.String(20), nullable=False)
    email: Mapped[str] = mapped_column(sa.String(254), nullable=False)
    preferred_language: Mapped[str | None] = mapped_column(sa.String(16))
    firm_id: Mapped[int | None] = mapped_column(sa.ForeignKey("firms.id"))
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    invited_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))

    firm = relationship("Firm", lazy="joined")
    user = relationship("User", foreign_keys=[user_id])

    def __repr__(self) -> str:
        return f"<FirmRegistration {self.id} {self.uscc} {self.status}>"


class AnswerSnippet(TimestampMixin, db.Model):
    """A reusable 马上办 answer that dispatchers maintain; archived, never deleted."""

    __tablename__ = "answer_snippets"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(sa.String(100), unique=True, nullable=False)
    body: Mapped[str] = mapped_column(sa.Text, nullable=False)
    category_id: Mapped[int | None] = mapped_column(sa.ForeignKey("ticket_categories.id"))
    is_active: Mapped[bool] = mapped_column(sa.Boolean, nullable=False, default=True)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    used_count: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=0)

    category = relationship("Category", lazy="joined")

    def __repr__(self) -> str:
        return f"<AnswerSnippet {self.id} {self.title!r}>"
