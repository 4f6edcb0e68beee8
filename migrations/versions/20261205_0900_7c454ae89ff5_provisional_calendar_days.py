"""Provisional calendar days and provisional deadlines (issue: the year boundary).

* ``work_calendar_days.source`` may be ``provisional``: next year before its official
  schedule is published, covered by weekends and the rule-based statutory holidays. The
  column's CHECK (and its length, 17 → 19) change; on SQLite the small table is rebuilt.
* ``tickets.provisional_deadlines``: which stored deadlines were counted over provisional
  days (a bit per deadline, 0 for every existing ticket), with a CHECK on its range and a
  partial index of the tickets that have any — what publishing the official year recomputes.
  On SQLite the column and its CHECK are added by ``ALTER TABLE … ADD COLUMN`` (no rebuild of
  ``tickets``, so the search index's triggers stay); both are instant on a million tickets.

Downgrade: provisional days become ``generated`` (entered for the year), and the column goes.

Revision ID: 7c454ae89ff5
Revises: 749b62a1a1a0
Create Date: 2026-12-05 09:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "7c454ae89ff5"
down_revision = "749b62a1a1a0"
branch_labels = None
depends_on = None

OLD_SOURCES = ("package", "generated", "admin")
NEW_SOURCES = (*OLD_SOURCES, "provisional")
BITS_CHECK = "provisional_deadlines BETWEEN 0 AND 63"
BITS_NAME = "ck_tickets_provisional_deadlines_bits"
INDEX = "ix_tickets_provisional_deadlines"
HAS_BITS = sa.text("provisional_deadlines <> 0")


def _source_type(values: tuple[str, ...], length: int) -> sa.Enum:
    return sa.Enum(*values, name="day_source", native_enum=False, create_constraint=True,
                   length=length)


def upgrade():
    with op.batch_alter_table("work_calendar_days") as batch_op:
        batch_op.alter_column("source", existing_type=_source_type(OLD_SOURCES, 17),
                              type_=_source_type(NEW_SOURCES, 19), existing_nullable=False)
    if op.get_bind().dialect.name == "sqlite":
        op.execute("ALTER TABLE tickets ADD COLUMN provisional_deadlines SMALLINT DEFAULT '0' "
                   f"NOT NULL CONSTRAINT {BITS_NAME} CHECK ({BITS_CHECK})")
    else:
        op.add_column("tickets", sa.Column("provisional_deadlines", sa.SmallInteger(),
                                           server_default="0", nullable=False))
        op.create_check_constraint("provisional_deadlines_bits", "tickets", BITS_CHECK)
    op.create_index(INDEX, "tickets", ["id"], unique=False, postgresql_where=HAS_BITS,
                    sqlite_where=HAS_BITS)


def downgrade():
    op.drop_index(INDEX, table_name="tickets", postgresql_where=HAS_BITS, sqlite_where=HAS_BITS)
    if op.get_bind().dialect.name != "sqlite":
        op.drop_constraint("provisional_deadlines_bits", "tickets", type_="check")
    op.drop_column("tickets", "provisional_deadlines")
    op.execute("UPDATE work_calendar_days SET source = 'generated' "
               "WHERE source = 'provisional'")
    with op.batch_alter_table("work_calendar_days") as batch_op:
        batch_op.alter_column("source", existing_type=_source_type(NEW_SOURCES, 19),
                              type_=_source_type(OLD_SOURCES, 17), existing_nullable=False)
