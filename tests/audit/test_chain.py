"""The tamper-evident audit log: every row sealed once, in order; a row changed, removed or a
seal touched behind the triggers' back (as a superuser would) is found and named."""

from __future__ import annotations

from contextlib import contextmanager
from itertools import pairwise

import pytest
import sqlalchemy as sa

from app.audit import chain
from app.audit.chain import AuditSeal, AuditVerification
from app.core import audit
from app.core.audit import AuditEvent
from app.core.permissions import Role
from app.extensions import db as _db


def _rows(n: int, start: int = 0) -> list[int]:
    ids = [audit.record(f"test.row{start + i}", details={"n": start + i, "名": "值"}).id
           for i in range(n)]
    _db.session.commit()
    return ids


@contextmanager
def behind_the_triggers(db):
    """What a superuser can do: PostgreSQL skips triggers under ``session_replication_role =
    replica``; on SQLite the triggers are dropped (inside the test's transaction)."""
    connection = db.session.connection()
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql("SET LOCAL session_replication_role = replica")
        yield connection
        connection.exec_driver_sql("SET LOCAL session_replication_role = origin")
        return
    for table in ("audit_events", "audit_seals"):
        for name in connection.exec_driver_sql(
                "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = ?",
                (table,)).scalars().all():
            connection.exec_driver_sql(f"DROP TRIGGER {name}")
    yield connection


def test_every_row_is_sealed_once_in_id_order_and_the_chain_verifies(db):
    ids = _rows(5)
    chain.seal_all()
    later = _rows(3, start=5)
    assert chain.seal_all() == 3
    assert chain.seal_all() == 0
    seals = db.session.scalars(sa.select(AuditSeal).order_by(AuditSeal.seq)).all()
    sealed = [s.event_id for s in seals]
    assert sealed[-8:] == ids + later and len(set(sealed)) == len(sealed)
    assert [s.seq for s in seals] == list(range(1, len(seals) + 1))
    assert all(b.prev_hash == a.hash for a, b in pairwise(seals))
    verdict = chain.verify()
    assert verdict.ok and verdict.checked == len(seals) and verdict.unsealed == 0
    assert verdict.head_hash == seals[-1].hash


def test_the_chain_is_read_in_blocks(db, monkeypatch):
    monkeypatch.setattr(chain, "BLOCK", 3)
    _rows(7)
    assert chain.seal_all(limit=3) >= 7
    verdict = chain.verify()
    assert verdict.ok and verdict.checked == db.session.scalar(
        sa.select(sa.func.count()).select_from(AuditSeal))


def test_rows_not_sealed_yet_are_counted(db):
    _rows(2)
    chain.seal_all()
    _rows(2, start=2)
    verdict = chain.verify()
    assert verdict.ok and verdict.unsealed == 2


@pytest.mark.parametrize(("tamper", "reason"), [
    ("UPDATE audit_events SET actor_name = 'someone else' WHERE id = {event}", "row-changed"),
    ("UPDATE audit_events SET details = '{{\"n\": 99}}' WHERE id = {event}", "row-changed"),
    ("DELETE FROM audit_events WHERE id = {event}", "row-missing"),
    ("DELETE FROM audit_seals WHERE event_id = {event}", "seal-missing"),
    ("UPDATE audit_seals SET content_hash = '{fake}' WHERE event_id = {event}", "row-changed"),
    ("UPDATE audit_seals SET hash = '{fake}' WHERE event_id = {event}", "seal-changed"),
    ("UPDATE audit_seals SET prev_hash = '{fake}' WHERE event_id = {event}", "link-broken"),
])
def test_a_change_behind_the_triggers_back_is_found_and_named(db, tamper, reason):
    ids = _rows(6)
    chain.seal_all()
    victim = ids[2]
    seq = db.session.scalar(sa.select(AuditSeal.seq).where(AuditSeal.event_id == victim))
    with behind_the_triggers(db) as connection:
        connection.exec_driver_sql(tamper.format(event=victim, fake="f" * 64))
    verdict = chain.verify()
    assert not verdict.ok and verdict.reason == reason
    assert verdict.first_broken_seq == seq
    if reason in ("row-changed", "row-missing"):
        assert verdict.first_broken_event_id == victim


def test_seals_and_verdicts_are_append_only(db):
    _rows(1)
    chain.seal_all()
    chain.record(chain.verify(), "test")
    for sql in ("UPDATE audit_seals SET hash = 'x'", "DELETE FROM audit_seals",
                "UPDATE audit_verifications SET ok = false", "DELETE FROM audit_verifications"):
        with pytest.raises(sa.exc.DatabaseError, match="append-only"), \
                db.session.begin_nested():
            db.session.connection().exec_driver_sql(sql)


def test_flask_audit_verify_names_the_first_broken_row(app, db):
    ids = _rows(3)
    runner = app.test_cli_runner()
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 0, result.output
    assert "Audit chain intact" in result.output
    with behind_the_triggers(db) as connection:
        connection.execute(sa.text(
            "UPDATE audit_events SET action = 'nothing.happened' WHERE id = :id"), {"id": ids[1]})
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 1
    assert f"audit event #{ids[1]} (row-changed)" in result.output
    last = chain.last_verification()
    assert (last.ok, last.first_broken_event_id, last.via) == (False, ids[1], "cli")
    assert db.session.scalar(sa.select(AuditEvent.success).where(
        AuditEvent.action == "audit.verify").order_by(AuditEvent.id.desc()).limit(1)) is False


def test_the_auditor_page_shows_the_last_verification(client, login_as, make, db):
    login_as(make.user(Role.AUDITOR))
    assert b"has not been verified yet" in client.get("/audit/").data
    ids = _rows(2)
    chain.seal_all()
    chain.record(chain.verify(), "job")
    db.session.commit()
    page = client.get("/audit/").get_data(as_text=True)
    assert "Audit chain verified" in page and "rows intact" in page
    with behind_the_triggers(db) as connection:
        connection.execute(sa.text("DELETE FROM audit_events WHERE id = :id"), {"id": ids[0]})
    chain.record(chain.verify(), "job")
    db.session.commit()
    page = client.get("/audit/").get_data(as_text=True)
    assert "BROKEN" in page and f"audit event #{ids[0]}" in page
    assert "A sealed audit row was removed." in page


def test_the_jobs_seal_and_verify(db):
    from app.audit import jobs

    _rows(2)
    assert jobs.seal(None)["sealed"] >= 2
    result = jobs.verify(None)
    assert result["ok"] and db.session.scalar(
        sa.select(AuditVerification.via).order_by(AuditVerification.id.desc()).limit(1)) == "job"
