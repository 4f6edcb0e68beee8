"""Seed tickets for the ticket benchmarks, on SQLite or PostgreSQL.

    # 100,000 tickets and 1,000,000 events on SQLite (the schema first: flask db upgrade)
    DATABASE_URL=sqlite:////path/to/ruyi-tickets.db python bench/tickets_seed.py --n 100000
    # on a database seeded by bench/reports_seed.py: only the users and the long ticket
    DATABASE_URL=postgresql+psycopg://USER@HOST/DB python bench/tickets_seed.py --extras-only

The tickets follow bench/reports_seed.py's distribution (created evenly from 2025-01-01 to
2026-11-20, about 2 % still open, ten events each), written with multi-row INSERTs in batches
of 5,000. Both modes add, if missing: the calendar and policies, 20 units with 10 handlers
each, ``bench_supervisor`` and ``bench_dispatcher`` (password of reports_seed), and one ticket
``BLONG-000001`` of handler ``bench_h1_1``'s unit with a long timeline (400 events and 100
comments) for the ticket page. Run it on a throw-away database: it replaces earlier bench
tickets (SQLite mode) and is not meant for real data.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import sys
import time
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from app.tickets.search import search_keys
from bench.reports_seed import HANDLERS_PER_UNIT, PASSWORD, SUPERVISOR, UNITS

DISPATCHER = "bench_dispatcher"
LONG_REFERENCE = "BLONG-000001"
LONG_EVENTS, LONG_COMMENTS = 400, 100
BATCH = 5_000
START = datetime(2025, 1, 1, 0, 0, tzinfo=UTC)
END = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)
RECENT = datetime(2026, 11, 5, 16, 0, tzinfo=UTC)
REPLY_CAP = datetime(2026, 11, 25, 15, 0, tzinfo=UTC)
EVENT_ACTIONS = {1: "create", 2: "dispatch", 3: "acknowledge", 10: "rate"}


def _status(r: int, created: datetime) -> str:
    if created > RECENT:
        for bound, status in ((300, "in_progress"), (400, "dispatched"), (450, "suspended"),
                              (550, "replied"), (650, "follow_up")):
            if r < bound:
                return status
        return "closed"
    return "in_progress" if r < 8 else "withdrawn" if r < 16 else "closed"


def ticket_row(i: int, n: int, unit0: int, handler0: int) -> dict:
    """Ticket ``i`` of ``n`` as bench/reports_seed.py's SQL would write it."""
    r = (i * 7919) % 1000
    created = START + (END - START) * (i / n)
    dispatched = created + timedelta(hours=1)
    status = _status(r, created)
    handle_due = dispatched + timedelta(days=7)
    replied = min(dispatched + timedelta(hours=(r * 13) % 240), REPLY_CAP)
    done = status in ("replied", "follow_up", "closed")
    due = {"dispatched": dispatched + timedelta(days=1), "in_progress": handle_due,
           "replied": replied + timedelta(days=1),
           "follow_up": replied + timedelta(days=3)}.get(status)
    unit = i % UNITS
    return {
        "id": i, "reference": f"B{i:09d}", "access_token": hashlib.md5(  # noqa: S324 - ids
            str(i).encode()).hexdigest(), "firm_id": None, "requester_name": f"联系人{i}",
        "requester_mobile": "13812345678", "channel": "portal",
        "service_mode": "handle_now" if r % 10 == 0 else "standard",
        "demand_type": "consult" if r % 3 == 0 else "help", "urgency": "normal",
        "is_complex": False, "category_id": None, "title": f"诉求 {i}",
        "description": "企业反映的问题", "status": status, "lead_unit_id": unit0 + unit,
        "assignee_id": handler0 + unit * HANDLERS_PER_UNIT + (i // UNITS) % HANDLERS_PER_UNIT,
        "intake_due_at": created + timedelta(hours=4),
        "acknowledge_due_at": dispatched + timedelta(days=1),
        "return_window_ends_at": dispatched + timedelta(days=1), "handle_due_at": handle_due,
        "reply_review_due_at": replied + timedelta(days=1),
        "follow_up_due_at": replied + timedelta(days=3), "due_at": due, "sla_status": "on_track",
        "submitted_at": created, "first_dispatched_at": dispatched, "dispatched_at": dispatched,
        "acknowledged_at": None if status == "dispatched" else
        dispatched + timedelta(hours=r % 40),
        "replied_at": replied if done else None,
        "reply_approved_at": replied + timedelta(hours=1)
        if status in ("follow_up", "closed") else None,
        "closed_at": replied + timedelta(days=2) if status == "closed" else None,
        "withdrawn_at": dispatched + timedelta(days=1) if status == "withdrawn" else None,
        "paused_at": dispatched + timedelta(days=1) if status == "suspended" else None,
        "paused_seconds": 86400 if r % 20 == 7 and done else 0, "returned_seconds": 0,
        "extension_count": 0, "extension_days": 0, "reopen_count": 0, "return_count": 0,
        "urge_count": 0, "is_supervised": False, "reply_text": "已办理" if done else None,
        "closure_kind": "rated" if status == "closed" else None,
        "rating_level": (1 + (r // 10) % 2 if r % 10 == 0 else 3 + (r // 10) % 3)
        if status == "closed" else None,
        "version": 1, "created_at": created, "updated_at": created,
    } | search_keys(f"B{i:09d}", f"诉求 {i}", "企业反映的问题", None, f"联系人{i}")


def event_rows(ticket: dict) -> list[dict]:
    """Ten events per ticket, as bench/reports_seed.py writes them."""
    return [{"ticket_id": ticket["id"], "at": ticket["created_at"] + timedelta(minutes=37 * k),
             "actor_name": "bench", "actor_role": "handler",
             "action": EVENT_ACTIONS.get(k, "comment" if k in (4, 5) else "urge"),
             "from_status": None, "to_status": None, "data": {}} for k in range(1, 11)]


def reference_data() -> dict:
    """Calendar, policies, units and users through the application (kept if present)."""
    import sqlalchemy as sa

    from app.auth.models import Unit, UnitKind, User
    from app.auth.passwords import hash_password
    from app.core.permissions import Role
    from app.extensions import db
    from app.sla import services as sla

    sla.seed_calendar([2025, 2026])
    sla.seed_policies()
    digest = hash_password(PASSWORD)
    units = {u.code: u for u in db.session.scalars(sa.select(Unit).where(
        Unit.code.like("BU%")))}
    for number in range(1, UNITS + 1):
        if f"BU{number}" not in units:
            units[f"BU{number}"] = Unit(name=f"测评单位{number}", code=f"BU{number}",
                                        kind=UnitKind.DEPARTMENT, is_active=True)
            db.session.add(units[f"BU{number}"])
    db.session.flush()
    existing = set(db.session.scalars(sa.select(User.username).where(
        User.username.like("bench_%"))))

    def person(username, name, role, unit):
        if username not in existing:
            db.session.add(User(username=username, display_name=name, role=role,
                                unit_id=unit.id if unit else None, is_active=True,
                                password_hash=digest, must_change_password=False,
                                failed_login_count=0, email=f"{username}@example.com"))

    for number in range(1, UNITS + 1):
        for h in range(1, HANDLERS_PER_UNIT + 1):
            person(f"bench_h{number}_{h}", f"承办人{number}-{h}", Role.HANDLER,
                   units[f"BU{number}"])
    person(SUPERVISOR, "督办员", Role.SUPERVISOR, units["BU1"])
    person(DISPATCHER, "派单员", Role.DISPATCHER, units["BU1"])
    db.session.commit()
    handler0 = db.session.scalar(sa.select(User.id).where(User.username == "bench_h1_1"))
    return {"unit0": units["BU1"].id, "handler0": handler0}


@contextmanager
def history_removable(connection):
    """Bench data only: ticket events are append-only (database triggers); replacing earlier
    bench tickets lifts the triggers inside this transaction — PostgreSQL's replication role
    skips them, SQLite drops them and creates them again from their stored definitions."""
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql("SET LOCAL session_replication_role = replica")
        yield
        return
    triggers = connection.exec_driver_sql(
        "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' "
        "AND tbl_name = 'ticket_events'").all()
    for name, _sql in triggers:
        connection.exec_driver_sql(f"DROP TRIGGER {name}")
    yield
    for _name, sql in triggers:
        connection.exec_driver_sql(sql)


def seed_tickets(n: int, ids: dict) -> None:
    """``n`` tickets and ten events each, in batches of multi-row INSERTs."""
    import sqlalchemy as sa

    from app.extensions import db
    from app.tickets.models import Ticket, TicketEvent

    tickets, events = Ticket.__table__, TicketEvent.__table__
    with db.engine.begin() as connection, history_removable(connection):
        connection.execute(sa.delete(events))
        connection.execute(sa.text("DELETE FROM ticket_comments"))
        connection.execute(sa.delete(tickets))
    started = time.perf_counter()
    for first in range(1, n + 1, BATCH):
        rows = [ticket_row(i, n, ids["unit0"], ids["handler0"])
                for i in range(first, min(first + BATCH, n + 1))]
        with db.engine.begin() as connection:
            connection.execute(tickets.insert(), rows)
            connection.execute(events.insert(), [e for row in rows for e in event_rows(row)])
        print(f"\r{first + len(rows) - 1:,} tickets ({time.perf_counter() - started:.0f} s)",
              end="", flush=True)
    print()
    if db.engine.dialect.name == "postgresql":
        with db.engine.begin() as connection:
            connection.execute(sa.text("SELECT setval('tickets_id_seq', "
                                       "(SELECT max(id) FROM tickets))"))


def seed_long_ticket(ids: dict) -> None:
    """One open ticket with 400 events and 100 comments (replaced if present)."""
    import sqlalchemy as sa

    from app.extensions import db
    from app.tickets.models import Comment, Ticket, TicketEvent

    tickets = Ticket.__table__
    with db.engine.begin() as connection:
        old = connection.scalar(sa.select(tickets.c.id).where(
            tickets.c.reference == LONG_REFERENCE))
        if old is not None:
            with history_removable(connection):
                for table in (TicketEvent.__table__, Comment.__table__):
                    connection.execute(sa.delete(table).where(table.c.ticket_id == old))
                connection.execute(sa.delete(tickets).where(tickets.c.id == old))
        row = ticket_row(1, 1, ids["unit0"], ids["handler0"])
        row.pop("id")
        created = datetime(2026, 9, 1, 1, 0, tzinfo=UTC)
        row.update(reference=LONG_REFERENCE, access_token="long-timeline-bench-ticket",  # noqa: S106
                   status="in_progress", assignee_id=ids["handler0"], lead_unit_id=ids["unit0"],
                   submitted_at=created, created_at=created, updated_at=created,
                   dispatched_at=created, first_dispatched_at=created,
                   acknowledged_at=created + timedelta(hours=1),
                   handle_due_at=datetime(2026, 12, 22, 9, 0, tzinfo=UTC),
                   due_at=datetime(2026, 12, 22, 9, 0, tzinfo=UTC), replied_at=None,
                   reply_approved_at=None, closed_at=None, closure_kind=None,
                   rating_level=None, reply_text=None, title="长时间线测评工单")
        row.update(search_keys(LONG_REFERENCE, row["title"], row["description"], None,
                               row["requester_name"]))
        ticket_id = connection.execute(tickets.insert().returning(tickets.c.id), row).scalar()
        connection.execute(TicketEvent.__table__.insert(), [
            {"ticket_id": ticket_id, "at": created + timedelta(hours=3 * k),
             "actor_name": "bench", "actor_role": "handler",
             "action": "urge" if k % 2 else "comment", "from_status": "in_progress",
             "to_status": "in_progress", "reason": f"第 {k} 次跟进", "data": {}}
            for k in range(LONG_EVENTS)])
        connection.execute(Comment.__table__.insert(), [
            {"ticket_id": ticket_id, "author_id": ids["handler0"], "visibility": "internal",
             "body": f"办理进展说明第 {k} 条", "created_at": created + timedelta(hours=12 * k)}
            for k in range(LONG_COMMENTS)])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=100_000, help="tickets (10 events each)")
    parser.add_argument("--extras-only", action="store_true",
                        help="keep the tickets: add only the users and the long ticket")
    args = parser.parse_args()
    from app import create_app
    from app.extensions import db

    app = create_app("development")
    started = time.perf_counter()
    with app.app_context():
        ids = reference_data()
        if not args.extras_only:
            seed_tickets(args.n, ids)
        seed_long_ticket(ids)
        with db.engine.connect() as connection:
            connection.execute(db.text("ANALYZE"))
            connection.commit()
    print(f"seeded in {time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    main()
