"""Report facts: what every ticket contributes to the supervisor figures, stored per ticket;
and a partial covering index of the open tickets by deadline (the overdue snapshot).

The table is filled here for the tickets that exist (in SQL, 50,000 ticket ids per statement;
about a minute per million tickets), before its indexes are built. After that the ticket
changes keep it current (``app.reports.facts``); ``flask reports rebuild-facts`` recomputes it
at any time, e.g. after a past day of the working calendar was changed.

The backfill's statement is written out here (:func:`_facts_insert`) as the facts were defined
when the table was created, not imported from ``app.reports.facts``: imported, it would change
this migration whenever the application's definition does. A test checks that the rows it writes
are those the application computes.

Revision ID: 538f06f3096e
Revises: d4e8a1b2c3f5
Create Date: 2026-11-26 12:12:16
"""

import sqlalchemy as sa
from alembic import op

revision = "538f06f3096e"
down_revision = "d4e8a1b2c3f5"
branch_labels = None
depends_on = None

COVERING = ["unit_id", "category_id", "handler_id", "firm_id", "a", "b", "v", "day",
            "ticket_id"]
OPEN_COVERING = ["status", "sla_status", "lead_unit_id", "category_id", "assignee_id",
                 "firm_id", "id"]
OPEN_STATES = ("submitted", "dispatched", "in_progress", "return_requested", "replied",
               "follow_up")


#: Ticket ids per statement of the backfill.
BATCH = 50_000


def _backfill() -> None:
    """The facts of every existing ticket (report_unit_days comes with 7c41e2a9b0d3)."""
    connection = op.get_bind()
    low, high = connection.execute(sa.text("SELECT min(id), max(id) FROM tickets")).one()
    if low is None:
        return
    insert = sa.text(_facts_insert(connection.dialect.name == "postgresql"))
    for start in range(low, high + 1, BATCH):
        connection.execute(insert, {"low": start, "high": start + BATCH - 1})


def _facts_insert(postgresql: bool) -> str:
    """``INSERT INTO report_facts … SELECT`` of the facts of the tickets with ids between
    ``:low`` and ``:high``, one ``SELECT`` per kind of fact:

    * intake — every ticket at its creation; ``a`` = 马上办 done: answered directly at intake,
      or a handle_now ticket replied by its same-working-day deadline;
    * dispatch — the current dispatch, and each approved return (a dispatch of the returning
      unit, at the request);
    * acknowledge — acknowledged tickets at their dispatch; ``a`` = by the deadline;
    * handling — replied dispatched tickets at the reply; ``a`` = by the deadline, ``v`` =
      handling working days (from the dispatch date to the reply date counted like deadlines,
      次日起, minus the working days suspended), by the running index of working days;
    * return — every return request by the returning unit; ``a`` = approved, ``b`` = decided;
    * extension — approved extension requests at the decision; ``v`` = days granted;
    * rating — rated tickets at their closing; ``a`` = levels 3–5, ``b`` = levels 1–2.

    Dates are Asia/Shanghai (UTC + 8 hours, no daylight saving time).
    """
    def local_date(column: str) -> str:
        if postgresql:
            return f"CAST(({column} AT TIME ZONE 'Asia/Shanghai') AS DATE)"
        return f"date({column}, '+8 hours')"

    def day_number(column: str) -> str:
        if postgresql:
            return f"({local_date(column)} - DATE '1970-01-01')"
        return f"CAST(julianday({column}, '+8 hours') - 2440587.5 AS INTEGER)"

    def select(fact, ticket, unit, handler, at, a="0", b="0", v="NULL") -> str:
        return (f"SELECT '{fact}', {ticket}, {unit}, t.category_id, {handler}, t.firm_id, {at}, "
                f"{day_number(at)}, {a}, {b}, CAST({v} AS INTEGER)")

    def flag(condition: str) -> str:
        return f"CASE WHEN {condition} THEN 1 ELSE 0 END"

    chosen = "t.id BETWEEN :low AND :high"
    paused = (
        "CASE WHEN t.paused_seconds > 0 THEN (SELECT coalesce(sum(CASE WHEN "
        "e.from_status = 'suspended' THEN p.wi ELSE -p.wi END), 0) FROM ticket_events e "
        f"JOIN workday_index p ON p.day = {local_date('e.at')} WHERE e.ticket_id = t.id "
        "AND e.at >= t.dispatched_at AND (e.from_status = 'suspended' "
        "OR e.to_status = 'suspended')) ELSE 0 END")
    days = (f"(r.wi - (d.wi + CASE WHEN d.is_workday THEN 0 ELSE 1 END) - {paused})")
    direct = "t.first_dispatched_at IS NULL AND t.replied_at IS NOT NULL"
    same_day = ("t.service_mode = 'handle_now' AND t.replied_at IS NOT NULL "
                "AND t.handle_due_at IS NOT NULL AND t.replied_at <= t.handle_due_at")
    parts = [
        select("intake", "t.id", "t.lead_unit_id", "t.assignee_id", "t.created_at",
               a=flag(f"({direct} OR {same_day})"))
        + f" FROM tickets t WHERE {chosen}",
        select("dispatch", "t.id", "t.lead_unit_id", "t.assignee_id", "t.dispatched_at")
        + f" FROM tickets t WHERE {chosen} AND t.dispatched_at IS NOT NULL",
        select("dispatch", "rr.ticket_id", "rr.unit_id", "rr.requested_by_id",
               "rr.requested_at")
        + " FROM ticket_return_requests rr JOIN tickets t ON t.id = rr.ticket_id"
        f" WHERE {chosen} AND rr.status = 'approved'",
        select("acknowledge", "t.id", "t.lead_unit_id", "t.assignee_id", "t.dispatched_at",
               a=flag("t.acknowledged_at <= t.acknowledge_due_at"))
        + f" FROM tickets t WHERE {chosen} AND t.dispatched_at IS NOT NULL"
        " AND t.acknowledged_at IS NOT NULL",
        select("handling", "t.id", "t.lead_unit_id", "t.assignee_id", "t.replied_at",
               a=flag("t.replied_at <= t.handle_due_at"),
               v=f"CASE WHEN {days} < 0 THEN 0 ELSE {days} END")
        + " FROM tickets t"
        f" JOIN workday_index d ON d.day = {local_date('t.dispatched_at')}"
        f" JOIN workday_index r ON r.day = {local_date('t.replied_at')}"
        f" WHERE {chosen} AND t.handle_due_at IS NOT NULL AND t.dispatched_at IS NOT NULL"
        " AND t.replied_at IS NOT NULL AND t.status IN ('replied', 'follow_up', 'closed')",
        select("return", "rr.ticket_id", "rr.unit_id", "rr.requested_by_id", "rr.requested_at",
               a=flag("rr.status = 'approved'"), b=flag("rr.status != 'pending'"))
        + f" FROM ticket_return_requests rr JOIN tickets t ON t.id = rr.ticket_id WHERE {chosen}",
        select("extension", "er.ticket_id", "t.lead_unit_id", "er.requested_by_id",
               "er.decided_at", v="er.days")
        + " FROM ticket_extension_requests er JOIN tickets t ON t.id = er.ticket_id"
        f" WHERE {chosen} AND er.status = 'approved' AND er.decided_at IS NOT NULL",
        select("rating", "t.id", "t.lead_unit_id", "t.assignee_id", "t.closed_at",
               a=flag("t.rating_level >= 3"), b=flag("t.rating_level <= 2"),
               v="t.rating_level")
        + f" FROM tickets t WHERE {chosen} AND t.rating_level IS NOT NULL"
        " AND t.closed_at IS NOT NULL",
    ]
    return ("WITH workday_index AS (SELECT day, is_workday, sum(CASE WHEN is_workday THEN 1 "
            "ELSE 0 END) OVER (ORDER BY day) AS wi FROM work_calendar_days) "
            "INSERT INTO report_facts (fact, ticket_id, unit_id, category_id, handler_id, "
            "firm_id, at, day, a, b, v) " + " UNION ALL ".join(parts))


def upgrade():
    op.create_table(
        "report_facts",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("fact", sa.String(length=16), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=True),
        sa.Column("category_id", sa.Integer(), nullable=True),
        sa.Column("handler_id", sa.Integer(), nullable=True),
        sa.Column("firm_id", sa.Integer(), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("day", sa.Integer(), nullable=False),
        sa.Column("a", sa.SmallInteger(), nullable=False),
        sa.Column("b", sa.SmallInteger(), nullable=False),
        sa.Column("v", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["ticket_id"], ["tickets.id"], ondelete="CASCADE",
                                name=op.f("fk_report_facts_ticket_id_tickets")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_report_facts")),
    )
    _backfill()
    with op.batch_alter_table("report_facts", schema=None) as batch_op:
        batch_op.create_index("ix_report_facts_fact_at", ["fact", "at"], unique=False,
                              postgresql_include=COVERING)
        batch_op.create_index("ix_report_facts_ticket_id", ["ticket_id"], unique=False)
    open_states = sa.column("status").in_(OPEN_STATES)
    with op.batch_alter_table("tickets", schema=None) as batch_op:
        batch_op.create_index("ix_tickets_open_due_at_report", ["due_at"], unique=False,
                              postgresql_include=OPEN_COVERING, postgresql_where=open_states,
                              sqlite_where=open_states)


def downgrade():
    with op.batch_alter_table("tickets", schema=None) as batch_op:
        batch_op.drop_index("ix_tickets_open_due_at_report")
    with op.batch_alter_table("report_facts", schema=None) as batch_op:
        batch_op.drop_index("ix_report_facts_ticket_id")
        batch_op.drop_index("ix_report_facts_fact_at", postgresql_include=COVERING)
    op.drop_table("report_facts")
