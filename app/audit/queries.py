"""Audit log queries: one filtered SELECT serves both the page and the export."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import sqlalchemy as sa

from app.core.audit import AuditEvent
from app.core.clock import LOCAL_TZ
from app.core.search import like_pattern


def local_day_start(day: date) -> datetime:
    """Midnight in Asia/Shanghai of ``day``, as an aware datetime."""
    return datetime.combine(day, time.min, tzinfo=LOCAL_TZ)


def audit_query(actor: str = "", action: str = "", object_type: str = "", success: str = "",
                date_from: date | None = None, date_to: date | None = None) -> sa.Select:
    """Audit events matching the filters, newest first (served by the ``at`` indexes)."""
    stmt = sa.select(AuditEvent).order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
    if actor.strip():
        stmt = stmt.where(AuditEvent.actor_name.ilike(like_pattern(actor.strip()), escape="\\"))
    if action.strip():
        stmt = stmt.where(AuditEvent.action.ilike(like_pattern(action.strip()), escape="\\"))
    if object_type.strip():
        stmt = stmt.where(AuditEvent.object_type == object_type.strip())
    if success in ("0", "1"):
        stmt = stmt.where(AuditEvent.success.is_(success == "1"))
    if date_from:
        stmt = stmt.where(AuditEvent.at >= local_day_start(date_from))
    if date_to:
        stmt = stmt.where(AuditEvent.at < local_day_start(date_to + timedelta(days=1)))
    return stmt
