"""Job records: one row per background job (kind, requester, state, attempts, error,
progress, result), and the unique period key that makes a scheduled job run once per period
whichever machine's scheduler asks first. The queue itself is the job engine's (Huey).

Revision ID: 749b62a1a1a0
Revises: f2b8d6a4c1e9
Create Date: 2026-12-05 08:52:29
"""

import sqlalchemy as sa
from alembic import op

revision = "749b62a1a1a0"
down_revision = "f2b8d6a4c1e9"
branch_labels = None
depends_on = None


STATES = ("queued", "running", "retrying", "succeeded", "failed", "cancelled")


def upgrade() -> None:
    op.create_table(
        "jobs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=64), nullable=False),
        sa.Column("state", sa.Enum(*STATES, name="state", native_enum=False,
                                   create_constraint=True, length=17), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("params", sa.JSON(), nullable=False),
        sa.Column("locale", sa.String(length=16), nullable=True),
        sa.Column("ip", sa.String(length=45), nullable=True),
        sa.Column("period_key", sa.String(length=96), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("progress_done", sa.Integer(), nullable=True),
        sa.Column("progress_total", sa.Integer(), nullable=True),
        sa.Column("result", sa.JSON(), nullable=True),
        sa.Column("queued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "(state IN ('succeeded', 'failed', 'cancelled')) = (finished_at IS NOT NULL)",
            name=op.f("ck_jobs_finished_iff_finished_at")),
        sa.CheckConstraint("state <> 'running' OR started_at IS NOT NULL",
                           name=op.f("ck_jobs_running_has_started_at")),
        sa.CheckConstraint("attempts >= 0", name=op.f("ck_jobs_attempts_not_negative")),
        sa.ForeignKeyConstraint(["actor_id"], ["users.id"], name=op.f("fk_jobs_actor_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_jobs")),
        sa.UniqueConstraint("period_key", name=op.f("uq_jobs_period_key")),
    )
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.create_index("ix_jobs_actor_id_id", ["actor_id", "id"], unique=False)
        batch_op.create_index("ix_jobs_kind_id", ["kind", "id"], unique=False)
        batch_op.create_index("ix_jobs_state_id", ["state", "id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.drop_index("ix_jobs_state_id")
        batch_op.drop_index("ix_jobs_kind_id")
        batch_op.drop_index("ix_jobs_actor_id_id")
    op.drop_table("jobs")
