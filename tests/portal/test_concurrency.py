"""Public submissions on SQLite take the write lock at BEGIN, so concurrent writers queue —
behind a file lock that wakes the next writer as soon as the last one is done."""

from __future__ import annotations

import fcntl
import os
import sqlite3

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session, registry

import app.db  # noqa: F401 - registers the SQLite BEGIN hook and the writers' file lock
from app.portal.services import begin_write


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


# -- writers wait their turn on a file lock, not in SQLite's sleeping busy handler -----------


@pytest.fixture
def file_db(tmp_path):
    """A SQLite file database with one table, disposed of after the test."""
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'lock.db'}")
    with engine.begin() as setup:
        setup.exec_driver_sql("CREATE TABLE t (x INTEGER)")
    yield engine
    engine.dispose()


def _writer_lock_taken(tmp_path) -> bool:
    """Whether another writer holds the database's writer file lock right now."""
    fd = os.open(tmp_path / "lock.db-writer", os.O_RDWR | os.O_CREAT)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)  # closing drops the probe's own lock
    return False


@pytest.mark.parametrize("end", ["commit", "rollback", "close"])
def test_an_immediate_writer_holds_the_file_lock_until_its_transaction_ends(
        file_db, tmp_path, end):
    with file_db.connect().execution_options(sqlite_begin_immediate=True) as writer:
        assert not _writer_lock_taken(tmp_path)
        writer.begin()
        writer.exec_driver_sql("INSERT INTO t VALUES (1)")
        assert _writer_lock_taken(tmp_path)
        getattr(writer, end)()
        assert not _writer_lock_taken(tmp_path)


def test_a_plain_transaction_leaves_the_file_lock_alone(file_db, tmp_path):
    with file_db.begin() as connection:
        connection.exec_driver_sql("INSERT INTO t VALUES (1)")
        assert not _writer_lock_taken(tmp_path)


def test_a_second_writer_of_the_same_thread_is_refused_not_hung(file_db, tmp_path):
    """Two immediate transactions in one thread would wait on each other for ever behind the
    file lock; the second one falls back to SQLite's own lock and its busy timeout."""
    first = file_db.connect().execution_options(sqlite_begin_immediate=True)
    second = file_db.connect().execution_options(sqlite_begin_immediate=True)
    try:
        first.begin()
        second.connection.driver_connection.execute("PRAGMA busy_timeout=0")
        with pytest.raises(sa.exc.OperationalError, match="locked"):
            second.begin()
        first.commit()
        second.begin()  # its turn now, and it takes the file lock
        assert _writer_lock_taken(tmp_path)
        second.rollback()
    finally:
        first.close()
        second.close()


def test_begin_write_ends_a_reading_transaction_and_starts_a_writer(file_db, tmp_path):
    """A form's cache refresh or the signed-in user's row may have been read first: a reading
    transaction cannot wait for a busy writer, so it ends and the write turn starts fresh."""
    with Session(file_db) as session:
        session.execute(sa.text("SELECT count(*) FROM t")).scalar()
        begin_write(session)
        assert _writer_lock_taken(tmp_path)
        assert session.connection().get_execution_options()["sqlite_begin_immediate"]
        session.execute(sa.text("INSERT INTO t VALUES (1)"))
        session.commit()
        assert not _writer_lock_taken(tmp_path)


def test_begin_write_refuses_to_commit_changes_early(file_db):
    metadata = sa.MetaData()
    table = sa.Table("t", metadata, sa.Column("x", sa.Integer, primary_key=True))

    class Row:
        pass

    registry().map_imperatively(Row, table)
    with Session(file_db) as session:
        with session.no_autoflush:
            session.execute(sa.text("SELECT 1"))
            session.add(Row())
        with pytest.raises(RuntimeError, match="after changes"):
            begin_write(session)
