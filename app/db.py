"""Database foundations shared by every domain.

One metadata naming convention (set before the first migration, so every constraint has a
predictable name on SQLite and PostgreSQL alike), a timezone-aware UTC datetime type, the
timestamp and decision mixins, and a helper for enum columns stored with a named CHECK constraint.
"""

from __future__ import annotations

import fcntl
import os
import sqlite3
import threading
from datetime import UTC, datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import (
    DeclarativeBase,
    Mapped,
    Session,
    make_transient_to_detached,
    mapped_column,
)

from app.core.caches import memo
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


class DecisionMixin:
    """Who decided a request, when, and why (``decided_by_id``, ``decided_at``,
    ``decision_reason``): extension, return and reply requests, firm account requests. The
    outcome is the row's own status, and each table ties its status to ``decided_at`` with its
    own named CHECK (which statuses count as decided differs)."""

    decided_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decision_reason: Mapped[str | None] = mapped_column(sa.Text)


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


class SQLiteConnection(sqlite3.Connection):
    """A pysqlite connection whose ``BEGIN IMMEDIATE`` waits its turn on a file lock.

    SQLite lets one writer in at a time; a writer that finds the lock taken sleeps in its busy
    handler 1, 2, 5, 10 … ms before it looks again, so under many concurrent writes (the public
    form) the workers spent half their time asleep while the lock was free. Writers that start
    immediate first take an exclusive ``flock`` on a file beside the database, which wakes the
    next one the moment the previous one commits; SQLite's own locking still guards everything
    else (other programs, deferred writers), so this only shortens the waits.
    """

    _writer_fd: int | None = None
    _holding = False

    def take_writer_turn(self, path: str) -> None:
        """Wait for the writer file lock of the database at ``path`` (before BEGIN IMMEDIATE)."""
        if _writer_turn.holder:  # a second connection of this thread would wait on itself
            return
        if self._writer_fd is None:
            self._writer_fd = os.open(path + "-writer", os.O_RDWR | os.O_CREAT, 0o600)
        fcntl.flock(self._writer_fd, fcntl.LOCK_EX)
        self._holding = _writer_turn.holder = True

    def commit(self) -> None:
        try:
            super().commit()
        finally:
            self.release_writer_turn()

    def rollback(self) -> None:
        try:
            super().rollback()
        finally:
            self.release_writer_turn()

    def close(self) -> None:
        try:
            super().close()
        finally:
            self.release_writer_turn()
            if self._writer_fd is not None:
                os.close(self._writer_fd)
                self._writer_fd = None

    def release_writer_turn(self) -> None:
        """Let the next writer in (the transaction ended, or never began)."""
        if self._holding:
            self._holding = _writer_turn.holder = False
            fcntl.flock(self._writer_fd, fcntl.LOCK_UN)


class _WriterTurn(threading.local):
    """Whether this thread holds a writer file lock (through any of its connections)."""

    holder = False


_writer_turn = _WriterTurn()


@event.listens_for(Engine, "do_connect")
def _sqlite_connection_class(dialect, _record, _cargs, cparams):
    """SQLite connections are :class:`SQLiteConnection` (the writers' file lock)."""
    if dialect.name == "sqlite":
        cparams.setdefault("factory", SQLiteConnection)


@event.listens_for(Engine, "connect")
def _sqlite_on_connect(dbapi_connection, record):
    """Make SQLite behave: foreign keys on, real transactions (so savepoints work), WAL files."""
    if not isinstance(dbapi_connection, sqlite3.Connection):
        return
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=5000")
    path = cursor.execute("PRAGMA database_list").fetchone()[2]
    if path:
        cursor.execute("PRAGMA journal_mode=WAL")
        record.info["sqlite_path"] = path
    cursor.close()


@event.listens_for(Engine, "begin")
def _sqlite_on_begin(conn):
    """With pysqlite's implicit transactions off, open each transaction explicitly.

    A connection given the execution option ``sqlite_begin_immediate`` takes the write lock at
    BEGIN: a deferred transaction that reads and then writes cannot wait for a busy writer
    (SQLite refuses at once to avoid a deadlock), so busy public writes start immediate, in
    turn behind the writers' file lock (:class:`SQLiteConnection`) when the database is a file.
    """
    if conn.dialect.name != "sqlite":
        return
    if not conn.get_execution_options().get("sqlite_begin_immediate"):
        conn.exec_driver_sql("BEGIN")
        return
    pooled = conn.connection
    path = pooled.info.get("sqlite_path")  # none for an in-memory database
    writer = pooled.dbapi_connection if path else None
    if isinstance(writer, SQLiteConnection):
        writer.take_writer_turn(path)
    try:
        conn.exec_driver_sql("BEGIN IMMEDIATE")
    except BaseException:
        if isinstance(writer, SQLiteConnection):
            writer.release_writer_turn()
        raise


def insert_row(session: Session, obj, *, computed: tuple = (), only_if=None,
               params: dict | None = None) -> bool:
    """INSERT a new mapped object with one Core statement and attach it to the session, loaded.

    For a hot path that creates a row and does not change it again in the transaction (a
    public submission): the unit-of-work flush of one object cost more CPU than its
    statement. The row is the one a flush writes — column defaults, the version counter's
    first value, the foreign keys of the many-to-one objects set on it — and the object ends
    up persistent, as if read back by a query.

    ``computed`` — ``((column name, SQL expression), …)``, built once by the caller — are
    columns the database fills in the same statement (a foreign key found by a natural key:
    no read before the write), and ``only_if`` a condition on what the writer assumed without
    reading it (the configuration revisions its values were computed from); the statement is
    then ``INSERT … SELECT … WHERE only_if``, with ``params`` for their parameters. It returns
    whether the row was inserted: False when ``only_if`` was false (nothing attached).

    What a flush would run for the new row runs here too, taken from the mapper itself: its
    ``before_insert`` listeners (the ticket's search keys) before the statement, its
    ``after_insert`` listeners (the report facts' marking) after it. Flush-time work therefore
    listens on mappers, never on the session's flush events, which this cannot run (a test
    fails on such a listener).
    """
    mapper, state = sa.inspect(type(obj)), sa.inspect(obj)
    connection = session.connection()
    mapper.dispatch.before_insert(mapper, connection, state)  # as a flush calls them: the state
    table = mapper.local_table
    values = _column_values(mapper, obj)
    if computed or only_if is not None:
        for name, _expression in computed:
            values.pop(name, None)
        values.update(_python_defaults(table, values, computed))
        statement = _insert_select(table, tuple(values), computed, only_if)
        row = connection.execute(statement, {**values, **(params or {})}).first()
        if row is None:
            return False
        stored = dict(values)
        stored.update(zip([*table.primary_key.columns.keys(), *(n for n, _e in computed)], row,
                          strict=True))
    else:
        result = connection.execute(_insert_returning_key(table), values)
        stored = result.last_inserted_params()
        stored.update(zip(table.primary_key.columns.keys(), result.one(), strict=True))
    # Loaded values, as a query sets them; the next line makes them the committed state.
    state.dict.update({prop.key: stored.get(prop.columns[0].key)
                       for prop in mapper.column_attrs})
    make_transient_to_detached(obj)
    session.add(obj)
    mapper.dispatch.after_insert(mapper, connection, state)
    return True


def _column_values(mapper, obj) -> dict:
    """The values a flush would insert: the columns set, the foreign keys of the many-to-one
    objects set, and the first version number."""
    state = sa.inspect(obj)
    values = {prop.columns[0].key: state.dict[prop.key] for prop in mapper.column_attrs
              if prop.key in state.dict}
    for relationship in mapper.relationships:
        if relationship.direction is sa.orm.MANYTOONE and relationship.key in state.dict:
            values.update(_foreign_key_values(relationship, state.dict[relationship.key]))
    if mapper.version_id_col is not None:
        values.setdefault(mapper.version_id_col.key, 1)
    return values


def _foreign_key_values(relationship, target) -> dict:
    """A many-to-one object set on a new row decides its foreign key, as in a flush: ``None``
    clears it even when the key column was set too."""
    if target is None:
        return {local.key: None for local, _remote in relationship.local_remote_pairs}
    target_state = sa.inspect(target)
    if target_state.key is None:
        raise ValueError(f"{relationship} refers to an object not stored yet")
    return {local.key: getattr(target, target_state.mapper.get_property_by_column(remote).key)
            for local, remote in relationship.local_remote_pairs}


@memo("db.insert_statements")
def _insert_returning_key(table: sa.Table) -> sa.Insert:
    """``INSERT … RETURNING <primary key>``, built once per table."""
    return table.insert().returning(*table.primary_key.columns)


#: Tables no model describes: SQLite's full-text index of the ticket search key and the
#: tables FTS5 keeps for it (created by the migration that added the key, kept by triggers).
UNMODELLED_TABLES = ("ticket_search",)


def is_unmodelled_table(name: str) -> bool:
    """``name`` is one of :data:`UNMODELLED_TABLES` or one of FTS5's shadow tables of it."""
    return any(name == table or name.startswith(f"{table}_") for table in UNMODELLED_TABLES)


def include_object(dialect: str):
    """Alembic's ``include_object`` for comparing models and database on ``dialect``: skips
    the unmodelled tables and the indexes a model creates on another database only
    (``Index.ddl_if(dialect=...)``), which alembic would otherwise report as missing."""

    def include(obj, name, type_, _reflected, _compare_to) -> bool:
        if type_ == "table":
            return not is_unmodelled_table(name)
        condition = getattr(obj, "_ddl_if", None) if type_ == "index" else None
        if condition is not None and condition.dialect is not None:
            dialects = ((condition.dialect,) if isinstance(condition.dialect, str)
                        else condition.dialect)
            return dialect in dialects
        return True

    return include


def _python_defaults(table: sa.Table, values: dict, computed: tuple) -> dict:
    """The column defaults computed in Python (a new token, the creation time) of the columns
    not given: an ``INSERT … SELECT`` takes them as parameters, known to the caller."""
    skipped = set(values) | {name for name, _e in computed}
    return {column.key: (column.default.arg(None) if column.default.is_callable
                         else column.default.arg)
            for column in table.columns
            if column.key not in skipped and column.default is not None
            and (column.default.is_callable or column.default.is_scalar)}


@memo("db.insert_statements")
def _insert_select(table: sa.Table, names: tuple[str, ...], computed: tuple,
                   only_if) -> sa.Insert:
    """``INSERT … SELECT <values>, <computed> WHERE <only_if> RETURNING <primary key>,
    <computed>``, built once per table, column set and condition (the caller's expressions are
    built once, so they key the memo by identity)."""
    selected = sa.select(*(sa.bindparam(name, type_=table.c[name].type) for name in names),
                         *(expression for _name, expression in computed))
    if only_if is not None:
        selected = selected.where(only_if)
    targets = [table.c[name] for name in names] + [table.c[name] for name, _e in computed]
    return (table.insert().from_select(targets, selected)
            .returning(*table.primary_key.columns, *(table.c[name] for name, _e in computed)))
