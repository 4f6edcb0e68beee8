"""History the database keeps append-only, whatever client talks to it (issue 15).

* ``ticket_events`` and ``ratings``: UPDATE and DELETE refused (and TRUNCATE on PostgreSQL),
  as the audit table's triggers already do.
* Decision rows — ``ticket_extension_requests``, ``ticket_return_requests``,
  ``ticket_reply_approvals``, ``firm_registrations``: written pending, changed while pending
  (an extension's endorsement, the decision itself), final once ``decided_at`` is set; never
  deleted, pending or not.

SQLite: ``RAISE(ABORT, …)`` triggers per table and operation. PostgreSQL: two trigger
functions shared by the tables (``append_only_row`` names the table in its refusal;
``final_once_decided`` lets a pending row change). A later migration that rebuilds one of
these tables on SQLite (``batch_alter_table`` with a copy) drops its triggers and must create
them again: the tests of the append-only rules fail otherwise.

Downgrade: the triggers and functions go; no data changes either way.

Revision ID: 88dc589028a0
Revises: 7c454ae89ff5
Create Date: 2026-12-10 09:00:00
"""

from alembic import op

revision = "88dc589028a0"
down_revision = "7c454ae89ff5"
branch_labels = None
depends_on = None

APPEND_ONLY = ("ticket_events", "ratings")
DECISIONS = ("ticket_extension_requests", "ticket_return_requests", "ticket_reply_approvals",
             "firm_registrations")


def _sqlite_create() -> list[str]:
    statements = []
    for table in APPEND_ONLY:
        for operation in ("UPDATE", "DELETE"):
            statements.append(
                f"CREATE TRIGGER {table}_no_{operation.lower()} BEFORE {operation} ON {table} "
                f"BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END")
    for table in DECISIONS:
        statements.append(
            f"CREATE TRIGGER {table}_final_once_decided BEFORE UPDATE ON {table} "
            "WHEN OLD.decided_at IS NOT NULL "
            f"BEGIN SELECT RAISE(ABORT, '{table} is append-only once decided'); END")
        statements.append(
            f"CREATE TRIGGER {table}_no_delete BEFORE DELETE ON {table} "
            f"BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END")
    return statements


def _sqlite_drop() -> list[str]:
    names = [f"{table}_no_{op_}" for table in APPEND_ONLY for op_ in ("update", "delete")]
    names += [f"{table}_{suffix}" for table in DECISIONS
              for suffix in ("final_once_decided", "no_delete")]
    return [f"DROP TRIGGER IF EXISTS {name}" for name in names]


POSTGRESQL_FUNCTIONS = [
    "CREATE FUNCTION append_only_row() RETURNS trigger LANGUAGE plpgsql AS $$ "
    "BEGIN RAISE EXCEPTION '% is append-only', TG_TABLE_NAME; END $$",
    "CREATE FUNCTION final_once_decided() RETURNS trigger LANGUAGE plpgsql AS $$ "
    "BEGIN "
    "IF OLD.decided_at IS NOT NULL THEN "
    "RAISE EXCEPTION '% is append-only once decided', TG_TABLE_NAME; "
    "END IF; "
    "RETURN NEW; "
    "END $$",
]


def _postgresql_create() -> list[str]:
    statements = list(POSTGRESQL_FUNCTIONS)
    for table in APPEND_ONLY:
        statements.append(
            f"CREATE TRIGGER {table}_no_change BEFORE UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION append_only_row()")
    for table in DECISIONS:
        statements.append(
            f"CREATE TRIGGER {table}_final_once_decided BEFORE UPDATE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION final_once_decided()")
        statements.append(
            f"CREATE TRIGGER {table}_no_delete BEFORE DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION append_only_row()")
    for table in APPEND_ONLY + DECISIONS:
        statements.append(
            f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION append_only_row()")
    return statements


def _postgresql_drop() -> list[str]:
    statements = []
    for table in APPEND_ONLY:
        statements.append(f"DROP TRIGGER IF EXISTS {table}_no_change ON {table}")
    for table in DECISIONS:
        statements.append(f"DROP TRIGGER IF EXISTS {table}_final_once_decided ON {table}")
        statements.append(f"DROP TRIGGER IF EXISTS {table}_no_delete ON {table}")
    for table in APPEND_ONLY + DECISIONS:
        statements.append(f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}")
    statements.append("DROP FUNCTION IF EXISTS final_once_decided()")
    statements.append("DROP FUNCTION IF EXISTS append_only_row()")
    return statements


def upgrade():
    dialect = op.get_bind().dialect.name
    for statement in {"sqlite": _sqlite_create, "postgresql": _postgresql_create}[dialect]():
        op.execute(statement)


def downgrade():
    dialect = op.get_bind().dialect.name
    for statement in {"sqlite": _sqlite_drop, "postgresql": _postgresql_drop}[dialect]():
        op.execute(statement)
