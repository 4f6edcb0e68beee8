"""Ticket queue indexes: the staff queues' order, so a page of 25 reads 25 index entries.

Every queue lists open deadlines soonest first and then the other tickets newest first
(``ORDER BY due_at IS NULL, due_at, id DESC``). An expression index in exactly that order, and
one per state for the intake and to-acknowledge queues, lets SQLite and PostgreSQL stop after
the page instead of sorting a million tickets. The trailing columns (lead unit, state, SLA
mark) make them covering, so a unit's queue is filtered on the index alone.

Revision ID: d4e8a1b2c3f5
Revises: 8b4e6c2d1f90
Create Date: 2026-11-26 12:20:00
"""

import sqlalchemy as sa
from alembic import op

revision = "d4e8a1b2c3f5"
down_revision = "8b4e6c2d1f90"
branch_labels = None
depends_on = None

ORDER = [sa.text("(due_at IS NULL)"), "due_at", sa.text("id DESC")]


def upgrade():
    op.create_index("ix_tickets_queue_order", "tickets",
                    [*ORDER, "lead_unit_id", "status", "sla_status"], unique=False)
    op.create_index("ix_tickets_status_queue_order", "tickets",
                    ["status", *ORDER, "lead_unit_id", "sla_status"], unique=False)


def downgrade():
    op.drop_index("ix_tickets_status_queue_order", table_name="tickets")
    op.drop_index("ix_tickets_queue_order", table_name="tickets")
