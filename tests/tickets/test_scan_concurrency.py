"""Two whole ``flask sla scan`` processes at once (PostgreSQL): no duplicate urge, order or
event, and the same end state as one scan alone.

The tickets are committed first (the scanners are separate processes with their own
connections) and removed again at the end. The scanners run ``--at`` a fixed instant, the
child processes' stand-in for the tests' frozen clock.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.extensions import db

ROOT = Path(__file__).resolve().parents[2]
#: The scanners' "now": Monday 2026-03-16 10:00 in Beijing.
NOW = datetime(2026, 3, 16, 2, 0, tzinfo=UTC)
#: Per set: overdue in progress (order + mark), overdue dispatched (order + mark), on track.
KINDS = {"late_in_progress": 12, "late_dispatched": 6, "on_track": 6}


@pytest.fixture
def committed(app):
    """A unit, its handler and :func:`_ticket_set` calls, all committed; removed afterwards."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("two scanner processes need a server database (row locks, SKIP LOCKED)")
    from app.auth.models import Unit, UnitKind, User
    from app.core.permissions import Role

    engine = db.engine
    with Session(engine) as setup, setup.begin():
        unit = Unit(name="并发扫描进程测试单位", code="SCANPROC", kind=UnitKind.DEPARTMENT)
        setup.add(unit)
        setup.flush()
        handler = User(username="scanproc_handler", display_name="并发扫描承办人",
                       role=Role.HANDLER, unit_id=unit.id, is_active=True,
                       must_change_password=False, password_hash="!", failed_login_count=0)
        setup.add(handler)
        setup.flush()
        people = {"unit": unit.id, "handler": handler.id}
    made: list[int] = []
    try:
        yield people, made
    finally:
        _remove(engine, people, made)


def _ticket_set(engine, people: dict, made: list[int], tag: str) -> dict[str, list[int]]:
    from app.tickets.models import Channel, DemandType, ServiceMode, Ticket, TicketStatus, Urgency

    long_ago, far_ahead = NOW - timedelta(days=40), NOW + timedelta(days=40)
    ids: dict[str, list[int]] = {kind: [] for kind in KINDS}
    with Session(engine) as session, session.begin():
        for kind, count in KINDS.items():
            for n in range(count):
                late = kind != "on_track"
                status = (TicketStatus.DISPATCHED if kind == "late_dispatched"
                          else TicketStatus.IN_PROGRESS)
                due = long_ago if late else far_ahead
                ticket = Ticket(
                    reference=f"SP{tag}-{kind[:6]}{n:03d}", channel=Channel.PHONE,
                    service_mode=ServiceMode.STANDARD, demand_type=DemandType.HELP,
                    urgency=Urgency.NORMAL, title="并发扫描", description="两个扫描进程同时运行",
                    requester_name="测试", requester_mobile="13812345678", status=status,
                    lead_unit_id=people["unit"], assignee_id=people["handler"],
                    submitted_at=due - timedelta(days=9), dispatched_at=due - timedelta(days=8),
                    acknowledged_at=(None if status == TicketStatus.DISPATCHED
                                     else due - timedelta(days=7)),
                    acknowledge_due_at=due, handle_due_at=due, due_at=due)
                session.add(ticket)
                session.flush()
                ids[kind].append(ticket.id)
    made.extend(i for group in ids.values() for i in group)
    return ids


def _scan_processes(count: int) -> list[subprocess.CompletedProcess]:
    """Run ``count`` scanners at once, in small batches so that they interleave."""
    env = {**os.environ, "DATABASE_URL": str(db.engine.url.render_as_string(
        hide_password=False)), "FLASK_APP": "wsgi.py", "RUYI_ENV": "development",
        "SECRET_KEY": "scan-concurrency-test", "LOG_LEVEL": "WARNING"}
    command = [sys.executable, "-m", "flask", "sla", "scan", "--batch-size", "3",
               "--at", NOW.isoformat(timespec="seconds")]
    running = [subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE,  # noqa: S603 - our own command
                                stderr=subprocess.PIPE, text=True) for _ in range(count)]
    done = []
    for process in running:
        out, err = process.communicate(timeout=300)
        done.append(subprocess.CompletedProcess(process.args, process.returncode, out, err))
    return done


def _state(engine, ids: list[int]) -> list[tuple]:
    """Per ticket, in id order: its mark, flags, and how many orders, urges, events of each
    action, notifications and audit rows it has."""
    from app.tickets.models import SupervisionOrder, Ticket, TicketEvent, Urge

    with engine.connect() as connection:
        tickets = {row.id: row for row in connection.execute(
            sa.select(Ticket.__table__).where(Ticket.__table__.c.id.in_(ids)))}
        per = {}
        for name, table in (("orders", SupervisionOrder.__table__),
                            ("urges", Urge.__table__)):
            per[name] = Counter(connection.scalars(
                sa.select(table.c.ticket_id).where(table.c.ticket_id.in_(ids))))
        events = Counter(connection.execute(
            sa.select(TicketEvent.__table__.c.ticket_id, TicketEvent.__table__.c.action)
            .where(TicketEvent.__table__.c.ticket_id.in_(ids))).all())
        audits = Counter(connection.scalars(sa.text(
            "SELECT object_id FROM audit_events WHERE object_type = 'tickets' "
            "AND object_id = ANY(:ids)"), {"ids": [str(i) for i in ids]}))
    return [(str(tickets[i].sla_status), tickets[i].is_supervised, tickets[i].urge_count,
             tickets[i].version, per["orders"][i], per["urges"][i],
             events[(i, "supervise")], events[(i, "urge")], audits[str(i)]) for i in ids]


def _notifications(engine, people) -> int:
    with engine.connect() as connection:
        return connection.scalar(sa.text("SELECT count(*) FROM notifications "
                                         "WHERE recipient_id = :id"), {"id": people["handler"]})


def _remove(engine, people: dict, made: list[int]) -> None:
    with engine.begin() as connection:
        from app.tickets.models import SupervisionOrder, TicketEvent, Urge

        # Audit rows and events are append-only (a trigger refuses deletes); this test's own
        # rows go with the replication role, which skips triggers for this transaction only.
        connection.exec_driver_sql("SET LOCAL session_replication_role = replica")

        from app.reports import facts
        from app.reports.models import ReportFact

        for model in (TicketEvent, SupervisionOrder, Urge, ReportFact):
            table = model.__table__
            connection.execute(sa.delete(table).where(table.c.ticket_id.in_(made)))
        facts.sum_unit_days(connection)  # the per-unit sums without these tickets
        connection.execute(sa.text("DELETE FROM audit_events WHERE object_type = 'tickets' "
                                   "AND object_id = ANY(:ids)"), {"ids": [str(i) for i in made]})
        connection.execute(sa.text("DELETE FROM notifications WHERE recipient_id = :id"),
                           {"id": people["handler"]})
        connection.execute(sa.text("DELETE FROM tickets WHERE id = ANY(:ids)"), {"ids": made})
        connection.execute(sa.text("DELETE FROM users WHERE id = :id"), {"id": people["handler"]})
        connection.execute(sa.text("DELETE FROM units WHERE id = :id"), {"id": people["unit"]})


def test_two_scan_processes_at_once_do_what_one_scan_does(committed):
    people, made = committed
    engine = db.engine
    # One scan alone on a first set: the reference end state.
    alone = _ticket_set(engine, people, made, "A")
    first = _scan_processes(1)
    assert all(p.returncode == 0 for p in first), [p.stderr[-3000:] for p in first]
    reference = _state(engine, [i for group in alone.values() for i in group])
    notes_after_one = _notifications(engine, people)
    # Two scans at once on an identical second set (the first set is scanned again by both).
    twin = _ticket_set(engine, people, made, "B")
    runs = _scan_processes(2)
    assert all(p.returncode == 0 for p in runs), [p.stderr[-2000:] for p in runs]
    assert _state(engine, [i for group in twin.values() for i in group]) == reference
    assert _state(engine, [i for group in alone.values() for i in group]) == reference
    # Each late ticket has exactly one order, one supervise event and one notification.
    late = len(alone["late_in_progress"]) + len(alone["late_dispatched"])
    for row in reference[:late]:
        assert row[:2] == ("overdue", True) and row[4] == 1 and row[6] == 1
    for row in reference[late:]:
        assert row[:2] == ("on_track", False) and row[4:8] == (0, 0, 0, 0)
    assert _notifications(engine, people) == notes_after_one * 2 == late * 2
    # Both processes did part of the work, and together exactly the work of one.
    supervised = [int(p.stdout.split(" urged, ")[1].split(" ")[0]) for p in runs]
    assert sum(supervised) == late
