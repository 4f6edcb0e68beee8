"""List queries for the admin pages (SELECT statements; the views paginate them)."""

from __future__ import annotations

import sqlalchemy as sa

from app.auth.models import Unit, User
from app.core.clock import now_utc
from app.core.search import contains


def users_query(q: str = "", role: str = "", unit: str = "", status: str = "") -> sa.Select:
    """Users matching the filters, by username."""
    stmt = sa.select(User).order_by(User.username)
    if q.strip():
        stmt = stmt.where(contains(q.strip(), User.username, User.display_name))
    if role:
        stmt = stmt.where(User.role == role)
    if unit.isdigit():
        stmt = stmt.where(User.unit_id == int(unit))
    if status == "active":
        stmt = stmt.where(User.is_active.is_(True))
    elif status == "inactive":
        stmt = stmt.where(User.is_active.is_(False))
    elif status == "locked":
        stmt = stmt.where(User.locked_until > now_utc())
    return stmt


def units_query(q: str = "", status: str = "") -> sa.Select:
    """Units matching the filters, by code."""
    stmt = sa.select(Unit).order_by(Unit.kind, Unit.code)
    if q.strip():
        stmt = stmt.where(contains(q.strip(), Unit.name, Unit.code))
    if status == "active":
        stmt = stmt.where(Unit.is_active.is_(True))
    elif status == "inactive":
        stmt = stmt.where(Unit.is_active.is_(False))
    return stmt


def active_units() -> sa.Select:
    """Units offered in forms."""
    return sa.select(Unit).where(Unit.is_active.is_(True)).order_by(Unit.kind, Unit.code)
