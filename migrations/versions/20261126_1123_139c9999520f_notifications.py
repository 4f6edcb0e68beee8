"""In-app notifications: one row per recipient, with the unread index the navigation badge counts.

A row is written in the transaction of the change that causes it (a dispatch, an urge, a
supervision order, an extension decision, a public reply), so a rolled-back change leaves none.

Revision ID: 139c9999520f
Revises: c7d1e2f3a4b5
Create Date: 2026-11-26 11:23:40
"""

import sqlalchemy as sa
from alembic import op

revision = "139c9999520f"
down_revision = "c7d1e2f3a4b5"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "notifications",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("recipient_id", sa.Integer(), nullable=False),
        sa.Column("subject", sa.String(length=300), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("link", sa.String(length=300), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("read_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["recipient_id"], ["users.id"],
                                name=op.f("fk_notifications_recipient_id_users"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notifications")),
    )
    op.create_index("ix_notifications_recipient_read", "notifications",
                    ["recipient_id", "read_at"])


def downgrade():
    op.drop_index("ix_notifications_recipient_read", table_name="notifications")
    op.drop_table("notifications")
