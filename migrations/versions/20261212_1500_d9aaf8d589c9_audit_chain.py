"""The tamper-evident audit log (issue 15): ``audit_seals``, the hash chain over the audit rows,
and ``audit_verifications``, the verdicts of its checks. Both are append-only like the audit
table (UPDATE and DELETE refused by triggers, TRUNCATE too on PostgreSQL).

Existing audit rows: sealed by the first run of the ``audit.seal`` job (every 5 minutes) or by
``flask audit seal`` right after the upgrade, oldest first, in batches of 10,000. The migration
does not hash them itself: the hash is over the values as the application reads them, which a
migration (importing nothing from the application) would have to copy and could get wrong.

Revision ID: d9aaf8d589c9
Revises: 5e1a7c2d9b30
Create Date: 2026-12-12 15:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "d9aaf8d589c9"
down_revision = "5e1a7c2d9b30"
branch_labels = None
depends_on = None

TABLES = ("audit_seals", "audit_verifications")


def _sqlite_triggers() -> list[str]:
    return [f"CREATE TRIGGER {table}_no_{operation.lower()} BEFORE {operation} ON {table} "
            f"BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END"
            for table in TABLES for operation in ("UPDATE", "DELETE")]


def _postgresql_triggers() -> list[str]:
    """``append_only_row()`` comes from the append-only history migration."""
    statements = []
    for table in TABLES:
        statements.append(f"CREATE TRIGGER {table}_no_change BEFORE UPDATE OR DELETE ON {table} "
                          "FOR EACH ROW EXECUTE FUNCTION append_only_row()")
        statements.append(f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
                          "FOR EACH STATEMENT EXECUTE FUNCTION append_only_row()")
    return statements


def upgrade():
    op.create_table(
        "audit_seals",
        sa.Column("seq", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.Column("sealed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_audit_seals")),
        sa.UniqueConstraint("event_id", name=op.f("uq_audit_seals_event_id")),
    )
    op.create_table(
        "audit_verifications",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ok", sa.Boolean(), nullable=False),
        sa.Column("checked", sa.Integer(), nullable=False),
        sa.Column("unsealed", sa.Integer(), nullable=False),
        sa.Column("broken", sa.Integer(), nullable=False),
        sa.Column("first_broken_event_id", sa.Integer(), nullable=True),
        sa.Column("first_broken_seq", sa.BigInteger(), nullable=True),
        sa.Column("reason", sa.String(length=32), nullable=True),
        sa.Column("head_hash", sa.String(length=64), nullable=True),
        sa.Column("seconds", sa.Float(), nullable=False),
        sa.Column("via", sa.String(length=16), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_verifications")),
    )
    dialect = op.get_bind().dialect.name
    for statement in {"sqlite": _sqlite_triggers, "postgresql": _postgresql_triggers}[dialect]():
        op.execute(statement)


def downgrade():
    op.drop_table("audit_verifications")
    op.drop_table("audit_seals")
