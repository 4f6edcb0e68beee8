"""Database foundations shared by every domain.

One metadata naming convention (set before the first migration, so every constraint has a
predictable name on SQLite and PostgreSQL alike), a timezone-aware UTC datetime type, the
timestamp mixin, and a helper for enum columns stored with a named CHECK constraint.
"""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from app.core.clock import now_utc

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_N_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Declarative base carrying the project-wide constraint naming convention."""

    metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)


class UTCDateTime(sa.TypeDecorator):
    """A datetime that is always timezone-aware UTC in Python.

    SQLite has no time zones, so values are stored as naive UTC there and re-labelled on read;
    PostgreSQL stores ``timestamp with time zone``. Naive datetimes are refused on write, because
    a naive value is ambiguous between UTC and Asia/Shanghai — the bug this type exists to prevent.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime refused; use app.core.clock.now_utc()")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class TimestampMixin:
    """``created_at`` / ``updated_at`` in UTC, taken from the one clock."""

    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(
        UTCDateTime, default=now_utc, onupdate=now_utc, nullable=False
    )


def enum_type(enum_cls: type[StrEnum], name: str) -> sa.Enum:
    """A portable enum column: VARCHAR plus a CHECK constraint named ``ck_<table>_<name>``."""
    return sa.Enum(
        enum_cls,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=max(len(m.value) for m in enum_cls) + 8,
        values_callable=lambda cls: [m.value for m in cls],
        validate_strings=True,
    )


@event.listens_for(Engine, "connect")
def _sqlite_on_connect(dbapi_connection, _record):
    """Make SQLite behave: foreign keys on, real transactions (so savepoints work), WAL files."""
    if not isinstance(dbapi_connection, sqlite3.Connection):
        return
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=5000")
    if cursor.execute("PRAGMA database_list").fetchone()[2]:
        cursor.execute("PRAGMA journal_mode=WAL")
    cursor.close()


@event.listens_for(Engine, "begin")
def _sqlite_on_begin(conn):
    """With pysqlite's implicit transactions off, open each transaction explicitly.

    A connection given the execution option ``sqlite_begin_immediate`` takes the write lock at
    BEGIN: a deferred transaction that reads and then writes cannot wait for a busy writer
    (SQLite refuses at once to avoid a deadlock), so busy public writes start immediate.
    """
    if conn.dialect.name == "sqlite":
        immediate = conn.get_execution_options().get("sqlite_begin_immediate")
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")
