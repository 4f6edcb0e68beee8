"""Units (承办单位) and users (DOMAIN §1, §8)."""

from __future__ import annotations

import secrets
from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from flask_login import UserMixin
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.permissions import ADMIN_ROLES, Permission, Role, role_has
from app.db import TimestampMixin, UTCDateTime, enum_type
from app.extensions import db


class UnitKind(StrEnum):
    """What sort of body a unit is."""

    DEPARTMENT = "department"
    AREA = "area"
    SERVICE_CENTRE = "service_centre"


UNIT_KIND_LABELS = {
    UnitKind.DEPARTMENT: _l("Department"),
    UnitKind.AREA: _l("Area management body"),
    UnitKind.SERVICE_CENTRE: _l("Enterprise service centre"),
}


class Unit(TimestampMixin, db.Model):
    """A department or area body that handles cases; units are rows, never code."""

    __tablename__ = "units"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(100), unique=True, nullable=False)
    #: Short code used in exports and reports, e.g. ``SWJ`` for 商务局.
    code: Mapped[str] = mapped_column(sa.String(20), unique=True, nullable=False)
    kind: Mapped[UnitKind] = mapped_column(enum_type(UnitKind, "unit_kind"), nullable=False)
    is_active: Mapped[bool] = mapped_column(sa.Boolean, nullable=False, default=True)

    def __repr__(self) -> str:
        return f"<Unit {self.id} {self.code}>"


def _new_session_token() -> str:
    return secrets.token_hex(16)


class User(UserMixin, TimestampMixin, db.Model):
    """A person who signs in. Staff roles belong to exactly one unit (DOMAIN §1)."""

    __tablename__ = "users"
    __table_args__ = (
        sa.CheckConstraint(
            "role NOT IN ('handler', 'unit_lead', 'dispatcher', 'supervisor') "
            "OR unit_id IS NOT NULL",
            name="staff_has_unit",
        ),
        sa.CheckConstraint("failed_login_count >= 0", name="failed_login_count_not_negative"),
        # Pending registrations live in firm_registrations: a firm account exists only once
        # a dispatcher has linked it to a registry firm.
        sa.CheckConstraint("role <> 'firm_user' OR firm_id IS NOT NULL", name="firm_user_has_firm"),
        sa.Index("ix_users_unit_id_role", "unit_id", "role"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Stored lower-case so that "Admin" and "admin" cannot be two accounts.
    username: Mapped[str] = mapped_column(sa.String(64), unique=True, nullable=False)
    display_name: Mapped[str] = mapped_column(sa.String(64), nullable=False)
    email: Mapped[str | None] = mapped_column(sa.String(254))
    mobile: Mapped[str | None] = mapped_column(sa.String(20))
    role: Mapped[Role] = mapped_column(enum_type(Role, "user_role"), nullable=False)
    unit_id: Mapped[int | None] = mapped_column(sa.ForeignKey("units.id"))
    #: The registry firm a ``firm_user`` acts for (DOMAIN §1: own firm's tickets only).
    firm_id: Mapped[int | None] = mapped_column(sa.ForeignKey("firms.id", use_alter=True),
                                                index=True)
    preferred_language: Mapped[str | None] = mapped_column(sa.String(16))
    is_active: Mapped[bool] = mapped_column(sa.Boolean, nullable=False, default=True)
    password_hash: Mapped[str] = mapped_column(sa.String(255), nullable=False)
    must_change_password: Mapped[bool] = mapped_column(sa.Boolean, nullable=False, default=True)
    failed_login_count: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    password_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: Part of the session identity: rotating it signs the user out everywhere.
    session_token: Mapped[str] = mapped_column(
        sa.String(32), nullable=False, default=_new_session_token
    )

    unit: Mapped[Unit | None] = relationship(lazy="joined")
    firm = relationship("Firm", foreign_keys=[firm_id])

    def __repr__(self) -> str:
        return f"<User {self.id} {self.username} {self.role}>"

    def get_id(self) -> str:
        """Flask-Login identity: id plus session token, so a reset ends old sessions."""
        return f"{self.id}:{self.session_token}"

    def rotate_session_token(self) -> None:
        """Invalidate every existing session of this user."""
        self.session_token = _new_session_token()

    def can(self, permission: Permission) -> bool:
        """Whether this user's role carries ``permission``."""
        return role_has(self.role, permission)

    @property
    def is_admin_role(self) -> bool:
        """Admin-type roles get the shorter idle timeout."""
        return self.role in ADMIN_ROLES

    def is_locked(self, now: datetime) -> bool:
        """Locked after repeated failures until ``locked_until`` passes."""
        return self.locked_until is not None and self.locked_until > now
