"""Public submissions on SQLite take the write lock at BEGIN, so concurrent writers queue."""

from __future__ import annotations

import sqlite3

import pytest
import sqlalchemy as sa

import app.db  # noqa: F401 - registers the SQLite BEGIN hook


def _raw(engine):
    """A second, plain sqlite3 connection that gives up at once when the file is locked."""
    connection = engine.raw_connection().driver_connection
    connection.execute("PRAGMA busy_timeout=0")
    return connection


def test_an_immediate_transaction_holds_the_write_lock_from_begin(tmp_path):
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'lock.db'}")
    with engine.begin() as setup:
        setup.exec_driver_sql("CREATE TABLE t (x INTEGER)")
    writer = engine.connect().execution_options(sqlite_begin_immediate=True)
    other = _raw(engine)
    try:
        writer.begin()
        with pytest.raises(sqlite3.OperationalError, match="locked"):
            other.execute("BEGIN IMMEDIATE")
        writer.rollback()
        other.execute("BEGIN IMMEDIATE")  # free again once the writer is done
        other.execute("ROLLBACK")
    finally:
        writer.close()
        other.close()
        engine.dispose()


def test_a_plain_transaction_takes_no_lock_until_it_writes(tmp_path):
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'lock.db'}")
    with engine.begin() as setup:
        setup.exec_driver_sql("CREATE TABLE t (x INTEGER)")
    reader, other = engine.connect(), _raw(engine)
    try:
        reader.begin()
        reader.exec_driver_sql("SELECT count(*) FROM t").scalar()
        other.execute("BEGIN IMMEDIATE")
        other.execute("ROLLBACK")
        reader.rollback()
    finally:
        reader.close()
        other.close()
        engine.dispose()
