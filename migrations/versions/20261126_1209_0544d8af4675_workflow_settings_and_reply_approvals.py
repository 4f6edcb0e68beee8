"""Workflow rules as settings (reopen limit, supervision order days, unit-lead reply approval)
and the table of replies waiting for the unit lead's approval (DOMAIN §3.1 [cfg]).

The new settings columns get their defaults from the server, so the existing settings row keeps
today's behaviour (2 reopens, 3 working days, no reply approval) without a backfill step.

Revision ID: 0544d8af4675
Revises: 139c9999520f
Create Date: 2026-11-26 12:09:53
"""

import sqlalchemy as sa
from alembic import op

revision = "0544d8af4675"
down_revision = "139c9999520f"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "ticket_reply_approvals",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.Enum("pending", "approved", "returned",
                                    name="reply_approval_status", native_enum=False,
                                    create_constraint=True, length=16), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("requested_by_id", sa.Integer(), nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_by_id", sa.Integer(), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decision_reason", sa.Text(), nullable=True),
        sa.CheckConstraint("(status = 'pending') = (decided_at IS NULL)",
                           name=op.f("ck_ticket_reply_approvals_decided_has_decided_at")),
        sa.ForeignKeyConstraint(["decided_by_id"], ["users.id"],
                                name=op.f("fk_ticket_reply_approvals_decided_by_id_users")),
        sa.ForeignKeyConstraint(["requested_by_id"], ["users.id"],
                                name=op.f("fk_ticket_reply_approvals_requested_by_id_users")),
        sa.ForeignKeyConstraint(["ticket_id"], ["tickets.id"],
                                name=op.f("fk_ticket_reply_approvals_ticket_id_tickets")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ticket_reply_approvals")),
    )
    with op.batch_alter_table("ticket_reply_approvals", schema=None) as batch_op:
        batch_op.create_index("ix_ticket_reply_approvals_ticket_id_status",
                              ["ticket_id", "status"], unique=False)

    with op.batch_alter_table("sla_settings", schema=None) as batch_op:
        batch_op.add_column(sa.Column("reopen_limit", sa.Integer(), server_default="2",
                                      nullable=False))
        batch_op.add_column(sa.Column("supervision_order_days", sa.Integer(),
                                      server_default="3", nullable=False))
        batch_op.add_column(sa.Column("reply_needs_unit_lead_approval", sa.Boolean(),
                                      server_default=sa.false(), nullable=False))
        batch_op.create_check_constraint(
            "workflow_rules_in_range", "reopen_limit >= 0 AND supervision_order_days >= 1")


def downgrade():
    with op.batch_alter_table("sla_settings", schema=None) as batch_op:
        batch_op.drop_constraint("workflow_rules_in_range", type_="check")
        batch_op.drop_column("reply_needs_unit_lead_approval")
        batch_op.drop_column("supervision_order_days")
        batch_op.drop_column("reopen_limit")

    with op.batch_alter_table("ticket_reply_approvals", schema=None) as batch_op:
        batch_op.drop_index("ix_ticket_reply_approvals_ticket_id_status")
    op.drop_table("ticket_reply_approvals")
