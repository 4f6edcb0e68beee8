"""Seed a PostgreSQL database with tickets and events for the report benchmarks.

Everything is generated inside the database with ``INSERT … SELECT generate_series``: no rows
travel through Python, so a million tickets and ten million events take minutes, not hours.

    DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/ruyi_bench \\
        python bench/reports_seed.py --scale 1.0      # 1,000,000 tickets, 10,000,000 events

The schema must exist (``flask db upgrade``). The script replaces any earlier bench data:
20 units with a lead and 10 handlers each, a supervisor ``bench_supervisor`` (password
``Bench#Pass2026``), 20,000 firms, tickets created evenly from 2025-01-01 to 2026-11-20 — about
43,000 a month — with realistic states, deadlines, ratings, suspensions (5 %), return requests
(3 %) and extensions (2 %), and ten events per ticket; then the stored report facts of every ticket
(``app.reports.facts.rebuild``; the migration's backfill is a frozen copy of it) and their search
keys (``app.tickets.search.rebuild_search_keys``; the migration carries a copy of the rule).
"""

from __future__ import annotations

import argparse
import os
import secrets
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

SUPERVISOR = "bench_supervisor"
PASSWORD = "Bench#Pass2026"  # noqa: S105 - a throwaway benchmark account
UNITS = 20
HANDLERS_PER_UNIT = 10
FIRMS = 20_000

TICKETS_SQL = """
INSERT INTO tickets (id, reference, access_token, firm_id, channel, service_mode, demand_type,
    urgency, is_complex, category_id, title, description, status, lead_unit_id, assignee_id,
    intake_due_at, acknowledge_due_at, return_window_ends_at, handle_due_at, reply_review_due_at,
    follow_up_due_at, due_at, sla_status, submitted_at, first_dispatched_at, dispatched_at,
    acknowledged_at, replied_at, reply_approved_at, closed_at, withdrawn_at, paused_at,
    paused_seconds, returned_seconds, extension_count, extension_days, reopen_count,
    return_count, urge_count, is_supervised, reply_text, closure_kind, rating_level, version,
    created_at, updated_at)
SELECT i, 'B' || lpad(i::text, 9, '0'), md5(i::text), firm_id, 'portal',
    CASE WHEN r % 10 = 0 THEN 'handle_now' ELSE 'standard' END,
    CASE WHEN r % 3 = 0 THEN 'consult' ELSE 'help' END, 'normal', false, category_id,
    '诉求 ' || i, '企业反映的问题', status, unit_id, handler_id,
    created + interval '4 hours', dispatched + interval '1 day', dispatched + interval '1 day',
    handle_due, replied + interval '1 day', replied + interval '3 days',
    CASE status WHEN 'dispatched' THEN dispatched + interval '1 day'
                WHEN 'in_progress' THEN handle_due
                WHEN 'replied' THEN replied + interval '1 day'
                WHEN 'follow_up' THEN replied + interval '3 days' END,
    'on_track', created, dispatched, dispatched,
    CASE WHEN status <> 'dispatched' THEN dispatched + (r % 40) * interval '1 hour' END,
    CASE WHEN status IN ('replied', 'follow_up', 'closed') THEN replied END,
    CASE WHEN status IN ('follow_up', 'closed') THEN replied + interval '1 hour' END,
    CASE WHEN status = 'closed' THEN replied + interval '2 days' END,
    CASE WHEN status = 'withdrawn' THEN dispatched + interval '1 day' END,
    CASE WHEN status = 'suspended' THEN dispatched + interval '1 day' END,
    CASE WHEN r % 20 = 7 AND status IN ('replied', 'follow_up', 'closed') THEN 86400 ELSE 0 END,
    0, CASE WHEN r % 50 = 1 THEN 1 ELSE 0 END, CASE WHEN r % 50 = 1 THEN 3 ELSE 0 END, 0,
    0, 0, false,
    CASE WHEN status IN ('replied', 'follow_up', 'closed') THEN '已办理' END,
    CASE WHEN status = 'closed' THEN 'rated' END,
    CASE WHEN status = 'closed' THEN
        CASE WHEN r % 10 = 0 THEN 1 + (r / 10) % 2 ELSE 3 + (r / 10) % 3 END END,
    1, created, created
FROM (
    SELECT i, r, created, dispatched, firm_id, category_id, unit_id, handler_id,
        dispatched + interval '7 days' AS handle_due,
        LEAST(dispatched + ((r * 13) % 240) * interval '1 hour',
              TIMESTAMPTZ '2026-11-26 00:00+08' - interval '1 hour') AS replied,
        CASE
          WHEN created > TIMESTAMPTZ '2026-11-06 00:00+08' THEN
            CASE WHEN r < 300 THEN 'in_progress' WHEN r < 400 THEN 'dispatched'
                 WHEN r < 450 THEN 'suspended' WHEN r < 550 THEN 'replied'
                 WHEN r < 650 THEN 'follow_up' ELSE 'closed' END
          WHEN r < 8 THEN 'in_progress'
          WHEN r < 16 THEN 'withdrawn'
          ELSE 'closed' END AS status
    FROM (
        SELECT i, r, created, created + interval '1 hour' AS dispatched,
            {firm0} + (i * 7) % {firms} AS firm_id,
            (SELECT min(id) FROM ticket_categories) + i % 12 AS category_id,
            {unit0} + (i % {units}) AS unit_id,
            {handler0} + (i % {units}) * {per_unit} + (i / {units}) % {per_unit}
                AS handler_id
        FROM (
            SELECT i, (i::bigint * 7919) % 1000 AS r,
                TIMESTAMPTZ '2025-01-01 08:00+08'
                  + (i::float8 / {n}) * (TIMESTAMPTZ '2026-11-20 18:00+08'
                                           - TIMESTAMPTZ '2025-01-01 08:00+08') AS created
            FROM generate_series(1, {n}) AS i
        ) g
    ) h
) s
"""

EVENTS_SQL = """
INSERT INTO ticket_events (ticket_id, at, actor_name, actor_role, action, from_status,
                           to_status, data)
SELECT t.id,
    CASE WHEN k = 4 AND t.paused_seconds > 0 THEN t.dispatched_at + interval '1 day'
         WHEN k = 5 AND t.paused_seconds > 0 THEN t.dispatched_at + interval '2 days'
         ELSE t.created_at + k * interval '37 minutes' END,
    'bench', 'handler',
    CASE k WHEN 1 THEN 'create' WHEN 2 THEN 'dispatch' WHEN 3 THEN 'acknowledge'
           WHEN 4 THEN CASE WHEN t.paused_seconds > 0 THEN 'suspend' ELSE 'comment' END
           WHEN 5 THEN CASE WHEN t.paused_seconds > 0 THEN 'resume' ELSE 'comment' END
           WHEN 10 THEN 'rate' ELSE 'urge' END,
    CASE WHEN k = 5 AND t.paused_seconds > 0 THEN 'suspended'
         WHEN k = 4 AND t.paused_seconds > 0 THEN 'in_progress' END,
    CASE WHEN k = 4 AND t.paused_seconds > 0 THEN 'suspended'
         WHEN k = 5 AND t.paused_seconds > 0 THEN 'in_progress' END,
    '{}'::json
FROM tickets t CROSS JOIN generate_series(1, 10) AS k
"""

RETURNS_SQL = """
INSERT INTO ticket_return_requests (ticket_id, unit_id, status, reason, legal_basis,
    previous_status, requested_by_id, requested_at, decided_at)
SELECT id, lead_unit_id, CASE WHEN id % 2 = 0 THEN 'approved' ELSE 'rejected' END, '不属本单位',
    '三定方案', 'dispatched', assignee_id, dispatched_at + interval '2 hours',
    dispatched_at + interval '1 day'
FROM tickets WHERE (id::bigint * 7919) % 1000 % 33 = 0 AND lead_unit_id IS NOT NULL
"""

EXTENSIONS_SQL = """
INSERT INTO ticket_extension_requests (ticket_id, status, days, reason, current_due_at,
    proposed_due_at, requested_by_id, requested_at, endorsed_by_id, endorsed_at, decided_at)
SELECT id, 'approved', 3, '需现场核查', handle_due_at, handle_due_at + interval '3 days',
    assignee_id, dispatched_at + interval '1 day', assignee_id,
    dispatched_at + interval '1 day', dispatched_at + interval '1 day 1 hour'
FROM tickets WHERE extension_count > 0
"""


def _app():
    from app import create_app

    return create_app("production" if os.environ.get("RUYI_ENV") == "production"
                      else "development")


def _reference_data(n: int) -> None:
    """Calendar, policies, units, users and firms through the application."""
    import sqlalchemy as sa

    from app.auth.passwords import hash_password
    from app.extensions import db
    from app.sla import services as sla

    with _app().app_context():
        sla.seed_calendar([2025, 2026])
        sla.seed_policies()
        db.session.commit()
        digest = hash_password(PASSWORD)
        with db.engine.begin() as conn:
            conn.exec_driver_sql("SET session_replication_role = replica")
            for table in ("report_facts", "ticket_events", "ticket_return_requests",
                          "ticket_extension_requests", "ticket_assisting_units", "ticket_urges",
                          "ticket_supervision_orders", "ticket_comments", "ticket_attachments"):
                conn.exec_driver_sql(f"TRUNCATE {table} CASCADE")
            conn.exec_driver_sql("DELETE FROM tickets")
            conn.execute(sa.text(
                "INSERT INTO units (name, code, kind, is_active, created_at, updated_at) "
                "SELECT '测评单位' || u, 'BU' || u, 'department', true, now(), now() "
                "FROM generate_series(1, :units) u ON CONFLICT DO NOTHING"), {"units": UNITS})
            unit0 = conn.scalar(sa.text("SELECT min(id) FROM units WHERE code LIKE 'BU%'"))
            conn.execute(sa.text(
                "INSERT INTO users (username, display_name, role, unit_id, is_active, "
                "password_hash, must_change_password, failed_login_count, session_token, "
                "created_at, updated_at) "
                "SELECT 'bench_h' || u || '_' || h, '承办人' || u || '-' || h, 'handler', "
                ":unit0 + u - 1, true, :digest, false, 0, md5('h' || u || h), now(), now() "
                "FROM generate_series(1, :units) u, generate_series(1, :per) h "
                "ORDER BY u, h ON CONFLICT DO NOTHING"),
                {"unit0": unit0, "digest": digest, "units": UNITS, "per": HANDLERS_PER_UNIT})
            conn.execute(sa.text(
                "INSERT INTO users (username, display_name, role, unit_id, is_active, "
                "password_hash, must_change_password, failed_login_count, session_token, "
                "email, created_at, updated_at) VALUES (:name, '督办员', 'supervisor', :unit0, "
                "true, :digest, false, 0, :token, 'bench@example.com', now(), now()) "
                "ON CONFLICT DO NOTHING"), {"name": SUPERVISOR, "unit0": unit0, "digest": digest,
                                             "token": secrets.token_hex(16)})
            handler0 = conn.scalar(sa.text(
                "SELECT min(id) FROM users WHERE username LIKE 'bench_h%'"))
            area0 = conn.scalar(sa.text("SELECT min(id) FROM areas"))
            areas = conn.scalar(sa.text("SELECT count(*) FROM areas"))
            conn.execute(sa.text(
                "INSERT INTO firms (uscc, name, search_key, area_id, industry_code, "
                "industry_section, legal_form, capital_origin, is_key_firm, created_at, "
                "updated_at) SELECT 'BENCH' || lpad(f::text, 13, '0'), '测评企业' || f, "
                "'测评企业' || f, :area0 + f % :areas, 'C3484', 'C', 'limited_liability', "
                "'domestic', false, now(), now() FROM generate_series(1, :firms) f "
                "ON CONFLICT DO NOTHING"), {"area0": area0, "areas": areas, "firms": FIRMS})
            firm0 = conn.scalar(sa.text("SELECT min(id) FROM firms WHERE uscc LIKE 'BENCH%'"))
        return {"unit0": unit0, "handler0": handler0, "firm0": firm0, "n": n,
                "event_indexes": _event_indexes(db.engine)}


def _event_indexes(engine) -> list[tuple[str, str]]:
    """The events table's indexes as the models declare them: dropped for the bulk load and
    rebuilt afterwards (much faster than maintaining them row by row)."""
    import sqlalchemy as sa

    from app.tickets.models import TicketEvent

    return [(index.name, str(sa.schema.CreateIndex(index).compile(dialect=engine.dialect)))
            for index in TicketEvent.__table__.indexes]


def _bulk(database_url: str, ids: dict) -> None:
    import psycopg

    url = database_url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("SET session_replication_role = replica")
        conn.execute("SET maintenance_work_mem = '256MB'")
        conn.execute("SET work_mem = '64MB'")
        sql = TICKETS_SQL.format(firms=FIRMS, units=UNITS, per_unit=HANDLERS_PER_UNIT, **ids)
        for name, _definition in ids["event_indexes"]:
            conn.execute(f"DROP INDEX IF EXISTS {name}")
        for label, statement in (("tickets", sql), ("events", EVENTS_SQL),
                                 ("returns", RETURNS_SQL), ("extensions", EXTENSIONS_SQL)):
            started = time.perf_counter()
            count = conn.execute(statement).rowcount
            print(f"{label}: {count:,} rows in {time.perf_counter() - started:.1f} s",
                  flush=True)
        started = time.perf_counter()
        for _name, definition in ids["event_indexes"]:
            conn.execute(definition)
        conn.execute("SELECT setval('tickets_id_seq', (SELECT max(id) FROM tickets))")
        conn.execute("VACUUM ANALYZE")
        print(f"indexes and analyze: {time.perf_counter() - started:.1f} s", flush=True)


def _report_facts() -> None:
    """The stored report facts of the seeded tickets, by the application's own SQL (the
    indexes dropped for the load and built afterwards)."""
    import sqlalchemy as sa

    from app.extensions import db
    from app.reports import facts
    from app.reports.models import ReportFact
    from app.sla.services import load_calendar

    started = time.perf_counter()
    with _app().app_context():
        dialect = db.engine.dialect
        indexes = [(index.name, str(sa.schema.CreateIndex(index).compile(dialect=dialect)))
                   for index in ReportFact.__table__.indexes]
        calendar = load_calendar()
        with db.engine.begin() as conn:
            for name, _definition in indexes:
                conn.exec_driver_sql(f"DROP INDEX IF EXISTS {name}")
            rows = facts.rebuild(conn, calendar)
            for _name, definition in indexes:
                conn.exec_driver_sql(definition)
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM ANALYZE report_facts")
    print(f"report facts: {rows:,} rows in {time.perf_counter() - started:.1f} s", flush=True)


def _search_keys() -> None:
    """The seeded tickets' search keys, by the application's own code (the trigram index
    dropped for the load and built afterwards)."""
    from app.extensions import db
    from app.tickets.models import Ticket
    from app.tickets.search import rebuild_search_keys

    started = time.perf_counter()
    with _app().app_context():
        index = next(i for i in Ticket.__table__.indexes if i.name == "ix_tickets_search_key_trgm")
        with db.engine.begin() as conn:
            conn.exec_driver_sql(f"DROP INDEX IF EXISTS {index.name}")
            rows = rebuild_search_keys(conn, progress=lambda line: print(line, flush=True))
            conn.exec_driver_sql("SET LOCAL maintenance_work_mem = '256MB'")
            index.create(conn)
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM ANALYZE tickets")
    print(f"search keys: {rows:,} tickets in {time.perf_counter() - started:.1f} s", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=float, default=1.0,
                        help="1.0 = 1,000,000 tickets and 10,000,000 events")
    args = parser.parse_args()
    database_url = os.environ["DATABASE_URL"]
    if not database_url.startswith("postgresql"):
        raise SystemExit("The benchmark seed needs PostgreSQL (DATABASE_URL).")
    n = int(1_000_000 * args.scale)
    started = time.perf_counter()
    ids = _reference_data(n)
    _bulk(database_url, ids)
    _report_facts()
    _search_keys()
    print(f"seeded {n:,} tickets in {time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    main()
