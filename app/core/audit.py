"""The append-only audit log (DOMAIN §8: who, when, what, from where, success or failure).

Rows are only ever inserted. The ORM refuses updates and deletes of audit rows, and database
triggers (created by the migration) refuse them from any other client too, so even a bug or a
hand-written SQL statement cannot rewrite history.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from flask import has_request_context, request
from sqlalchemy import event
from sqlalchemy.orm import Mapped, Session, mapped_column

from app.core.clock import now_utc
from app.db import UTCDateTime
from app.extensions import db

logger = logging.getLogger("ruyi.audit")


class AuditLogImmutable(RuntimeError):
    """Raised on any attempt to change or remove an audit row."""


class AuditEvent(db.Model):
    """One audited action. Actor name and role are copied so the row stays true after renames."""

    __tablename__ = "audit_events"
    __table_args__ = (
        sa.Index("ix_audit_events_at", "at"),
        sa.Index("ix_audit_events_action_at", "action", "at"),
        sa.Index("ix_audit_events_actor_id_at", "actor_id", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=now_utc)
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    #: Username at the time (or the name typed in a failed sign-in).
    actor_name: Mapped[str | None] = mapped_column(sa.String(64))
    actor_role: Mapped[str | None] = mapped_column(sa.String(32))
    action: Mapped[str] = mapped_column(sa.String(64), nullable=False)
    object_type: Mapped[str | None] = mapped_column(sa.String(32))
    object_id: Mapped[str | None] = mapped_column(sa.String(64))
    ip: Mapped[str | None] = mapped_column(sa.String(45))
    user_agent: Mapped[str | None] = mapped_column(sa.String(255))
    success: Mapped[bool] = mapped_column(sa.Boolean, nullable=False, default=True)
    details: Mapped[dict[str, Any]] = mapped_column(sa.JSON, nullable=False, default=dict)

    def __repr__(self) -> str:
        return f"<AuditEvent {self.id} {self.action} by {self.actor_name!r}>"


#: Outside a request: where the work was asked for (a background job sets it: the requester's
#: address and the job), else the command line.
_outside_request: ContextVar[tuple[str | None, str | None]] = ContextVar(
    "audit_origin", default=(None, "cli"))


@contextmanager
def origin(ip: str | None, agent: str) -> Iterator[None]:
    """Audit rows written outside a request inside this block name ``ip`` and ``agent``
    (a job asked for from a web page records the requester's address)."""
    token = _outside_request.set((ip, agent[:255]))
    try:
        yield
    finally:
        _outside_request.reset(token)


def _origin() -> tuple[str | None, str | None]:
    """Where the action came from: the client's address and agent, or the command line."""
    if not has_request_context():
        return _outside_request.get()
    agent = (request.user_agent.string or "")[:255] or None
    return request.remote_addr, agent


def _row(action: str, *, actor=None, actor_name: str | None = None, obj: Any = None,
         object_type: str | None = None, object_id: Any = None, success: bool = True,
         details: dict[str, Any] | None = None) -> dict[str, Any]:
    """The column values of one audit row."""
    if obj is not None:
        object_type = object_type or obj.__tablename__
        object_id = obj.id if object_id is None else object_id
    ip, agent = _origin()
    return {
        "at": now_utc(),
        "actor_id": getattr(actor, "id", None),
        "actor_name": actor_name or getattr(actor, "username", None),
        "actor_role": str(actor.role) if getattr(actor, "role", None) else None,
        "action": action,
        "object_type": object_type,
        "object_id": None if object_id is None else str(object_id),
        "ip": ip,
        "user_agent": agent,
        "success": success,
        "details": details or {},
    }


def record(
    action: str,
    *,
    actor=None,
    actor_name: str | None = None,
    obj: Any = None,
    object_type: str | None = None,
    object_id: Any = None,
    success: bool = True,
    details: dict[str, Any] | None = None,
    flush: bool = True,
) -> AuditEvent:
    """Add one audit row to the current transaction (it commits with the change it describes).

    :param actor: the user who acted, or ``None`` for anonymous and system actions.
    :param obj: the object acted on; its table name and id are recorded.
    :param flush: write it now (the default); a batch job passes ``False`` and flushes its
        whole batch at once.
    """
    event_row = AuditEvent(**_row(action, actor=actor, actor_name=actor_name, obj=obj,
                                  object_type=object_type, object_id=object_id,
                                  success=success, details=details))
    db.session.add(event_row)
    if flush:
        db.session.flush()
    _log(event_row.action, event_row.object_type, event_row.object_id, event_row.actor_name,
         event_row.success)
    return event_row


_INSERT = sa.insert(AuditEvent.__table__)


def append(action: str, **kwargs) -> None:
    """Like :func:`record` (same arguments): one INSERT in the current transaction, no ORM object.

    For hot paths (a public submission) that never read the row back: no unit-of-work flush.
    The row is the same; the database's append-only triggers guard it the same way.
    """
    values = _row(action, **kwargs)
    db.session.connection().execute(_INSERT, values)
    _log(action, values["object_type"], values["object_id"], values["actor_name"],
         values["success"])


def _log(action, object_type, object_id, actor_name, success) -> None:
    if logger.isEnabledFor(logging.INFO):
        logger.info("audit %s %s:%s by %s ok=%s", action, object_type, object_id, actor_name,
                    success)


@event.listens_for(AuditEvent, "before_update")
@event.listens_for(AuditEvent, "before_delete")
def _refuse_change(_mapper, _connection, target):
    raise AuditLogImmutable(f"audit rows are append-only ({target!r})")


@event.listens_for(Session, "do_orm_execute")
def _refuse_bulk_change(state):
    if (state.is_update or state.is_delete) and any(
        getattr(m, "class_", None) is AuditEvent for m in state.all_mappers
    ):
        raise AuditLogImmutable("audit rows are append-only")
