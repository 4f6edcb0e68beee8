"""Report indexes: one per timestamp column a supervisor figure reads by period.

The figures of DOMAIN §7 select a period of tickets by when they were dispatched, replied,
closed or due, and returns and extensions by when they were requested or decided. Without these
indexes a month's dashboard over a million tickets scans the whole table.

Revision ID: c7d1e2f3a4b5
Revises: a94f8cf97e33
Create Date: 2026-11-26 10:55:00
"""

from alembic import op

revision = "c7d1e2f3a4b5"
down_revision = "a94f8cf97e33"
branch_labels = None
depends_on = None

INDEXES = (
    ("ix_tickets_dispatched_at", "tickets", "dispatched_at"),
    ("ix_tickets_replied_at", "tickets", "replied_at"),
    ("ix_tickets_closed_at", "tickets", "closed_at"),
    ("ix_tickets_handle_due_at", "tickets", "handle_due_at"),
    ("ix_tickets_due_at", "tickets", "due_at"),
    ("ix_ticket_return_requests_requested_at", "ticket_return_requests", "requested_at"),
    ("ix_ticket_extension_requests_decided_at", "ticket_extension_requests", "decided_at"),
)


def upgrade():
    for name, table, column in INDEXES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.create_index(name, [column], unique=False)


def downgrade():
    for name, table, _column in reversed(INDEXES):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_index(name)
