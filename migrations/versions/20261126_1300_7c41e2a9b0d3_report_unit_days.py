"""Report sums per unit and day: the stored report facts summed per unit, fact, local day and
value, which the dashboard by unit reads instead of a row per ticket. Filled here from
``report_facts`` in one statement; kept current by the same code that rewrites the facts.

Revision ID: 7c41e2a9b0d3
Revises: e7a9c4d2b6f1
Create Date: 2026-11-26 13:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "7c41e2a9b0d3"
down_revision = "e7a9c4d2b6f1"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "report_unit_days",
        sa.Column("unit_key", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("fact", sa.String(length=16), nullable=False),
        sa.Column("day", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("v", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.Column("a", sa.Integer(), nullable=False),
        sa.Column("b", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("unit_key", "fact", "day", "v",
                                name=op.f("pk_report_unit_days")),
    )
    op.execute(
        "INSERT INTO report_unit_days (unit_key, fact, day, v, n, a, b) "
        "SELECT coalesce(unit_id, 0), fact, day, coalesce(v, -1), count(*), sum(a), sum(b) "
        "FROM report_facts GROUP BY coalesce(unit_id, 0), fact, day, coalesce(v, -1)")


def downgrade():
    op.drop_table("report_unit_days")
