"""Ticket search indexes: trigram indexes on reference, title and description (PostgreSQL).

The staff queues search "reference, title or description contains the text" (``ILIKE
'%text%'``). Without an index that reads every ticket — seconds at a million. On PostgreSQL a
GIN trigram index per column (``pg_trgm``, already used for firms) answers any search of three
or more characters from the index; SQLite gets plain indexes of the same names (unused by the
search, kept so that models and migrations agree on every database).

Revision ID: e7a9c4d2b6f1
Revises: 538f06f3096e
Create Date: 2026-11-26 13:05:00
"""

from alembic import op

revision = "e7a9c4d2b6f1"
down_revision = "538f06f3096e"
branch_labels = None
depends_on = None

COLUMNS = ("reference", "title", "description")


def upgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for column in COLUMNS:
        op.create_index(f"ix_tickets_{column}_trgm", "tickets", [column], unique=False,
                        postgresql_using="gin", postgresql_ops={column: "gin_trgm_ops"})


def downgrade():
    for column in reversed(COLUMNS):
        op.drop_index(f"ix_tickets_{column}_trgm", table_name="tickets")
