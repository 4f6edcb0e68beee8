"""Categories of demand and the dispatch catalogue (category → suggested lead unit) [cfg]."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import TimestampMixin
from app.extensions import db


class Category(TimestampMixin, db.Model):
    """A kind of demand (政策咨询, 用工招聘, 融资信贷 …); rows, edited by admins."""

    __tablename__ = "ticket_categories"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(32), unique=True, nullable=False)
    name: Mapped[str] = mapped_column(sa.String(100), unique=True, nullable=False)
    sort_order: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=100)
    is_active: Mapped[bool] = mapped_column(sa.Boolean, nullable=False, default=True)

    def __repr__(self) -> str:
        return f"<Category {self.code}>"


class DispatchRule(TimestampMixin, db.Model):
    """The lead unit suggested when a ticket of a category is dispatched (DOMAIN §3)."""

    __tablename__ = "dispatch_rules"

    id: Mapped[int] = mapped_column(primary_key=True)
    category_id: Mapped[int] = mapped_column(sa.ForeignKey("ticket_categories.id"), unique=True,
                                             nullable=False)
    lead_unit_id: Mapped[int] = mapped_column(sa.ForeignKey("units.id"), nullable=False)
    note: Mapped[str | None] = mapped_column(sa.String(255))
    is_active: Mapped[bool] = mapped_column(sa.Boolean, nullable=False, default=True)

    category = relationship("Category", lazy="joined")
    lead_unit = relationship("Unit", lazy="joined")
