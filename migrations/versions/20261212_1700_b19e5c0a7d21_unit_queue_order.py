"""A unit's queue read from its own tickets (issue 19): ``ix_tickets_unit_queue_order``, the
queue order within each lead unit, with the columns a queue's filters test.

A handler's queue used to walk the queue order of every ticket, skipping those of other units
and the intake backlog (never dispatched, no unit): 100,000 submitted tickets due first made
every handler's page read 100,000 index entries. With the unit first, the page reads its
unit's entries only (app/tickets/queries_sql.py, ``unit_page``).

Revision ID: b19e5c0a7d21
Revises: 4ff1fea48abd
Create Date: 2026-12-12 09:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "b19e5c0a7d21"
down_revision = "4ff1fea48abd"
branch_labels = None
depends_on = None


def upgrade():
    op.create_index("ix_tickets_unit_queue_order", "tickets",
                    ["lead_unit_id", sa.text("(due_at IS NULL)"), "due_at", sa.text("id DESC"),
                     "status", "sla_status", "service_mode", "demand_type", "urgency",
                     "category_id", "firm_id", "submitted_at"])


def downgrade():
    op.drop_index("ix_tickets_unit_queue_order", table_name="tickets")
