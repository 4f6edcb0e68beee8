"""Report facts: what every ticket contributes to the supervisor figures, stored per ticket;
and a partial covering index of the open tickets by deadline (the overdue snapshot).

The table is filled here for the tickets that exist (in SQL, 50,000 ticket ids per statement;
about a minute per million tickets), before its indexes are built. After that the ticket
changes keep it current (``app.reports.facts``); ``flask reports rebuild-facts`` recomputes it
at any time, e.g. after a past day of the working calendar was changed.

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


def _backfill() -> None:
    from app.reports.facts import rebuild
    from app.sla.calendar import WorkCalendar

    connection = op.get_bind()
    if connection.execute(sa.text("SELECT 1 FROM tickets LIMIT 1")).first() is None:
        return
    calendar = None
    if connection.dialect.name == "postgresql":
        calendar = WorkCalendar((day, bool(workday)) for day, workday in connection.execute(
            sa.text("SELECT day, is_workday FROM work_calendar_days")))
    rebuild(connection, calendar, sums=False)  # report_unit_days comes with 7c41e2a9b0d3


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
