"""Ticket search key: one normalised column the queue search matches, indexed on both
databases (the three per-column trigram indexes go), and the typed firm name's key.

``tickets.search_key`` holds the reference, title, description and the walk-in requester's
firm and contact name, Traditional → Simplified and lower-cased, with every Chinese character
and adjacent pair as separate words (``app.tickets.search``), so 臺灣 finds 台湾 and a search of
one or two Chinese characters is found through an index:

* PostgreSQL: one GIN trigram index on the key (``LIKE '% 电子 %'`` has trigrams; the old
  per-column indexes could not serve fewer than three characters);
* SQLite: an FTS5 table ``ticket_search`` with the ``trigram`` tokenizer over the key
  (external content: it stores only the index, reading ``tickets`` for nothing), kept in step
  by triggers on insert, delete and a change of the key. No model describes it (alembic's
  comparison skips it, ``app.db.include_object``). A later migration that rebuilds
  ``tickets`` on SQLite (``batch_alter_table``) drops these triggers and must create them
  again (:func:`_create_sqlite_index`) and rebuild the index.

``tickets.requester_firm_key`` is the walk-in requester's typed firm name alone, converted
the same way: the queue's firm filter now also finds tickets without a registry firm by it.

Both are filled for existing tickets here, 5,000 per statement with progress in the log.
This migration imports ``app.tickets.search`` (which imports no models): the key needs
OpenCC's conversion and the token rule, which SQL cannot express, and a copy here would drift
from the key every new ticket gets. About 5 minutes per million tickets on PostgreSQL (4 min
54 s on a busy 2-core machine, bench/RESULTS.md), during which ``tickets`` is locked: run it in
a maintenance window.

Revision ID: f2b8d6a4c1e9
Revises: a3f1c9e7b2d4
Create Date: 2026-11-26 15:00:00
"""

import logging

import sqlalchemy as sa
from alembic import op

revision = "f2b8d6a4c1e9"
down_revision = "a3f1c9e7b2d4"
branch_labels = None
depends_on = None

OLD_COLUMNS = ("reference", "title", "description")

SQLITE_INDEX = [
    "CREATE VIRTUAL TABLE ticket_search USING fts5(search_key, content='tickets', "
    "content_rowid='id', tokenize='trigram case_sensitive 1', detail='full')",
    "CREATE TRIGGER ticket_search_insert AFTER INSERT ON tickets BEGIN "
    "INSERT INTO ticket_search(rowid, search_key) VALUES (new.id, new.search_key); END",
    "CREATE TRIGGER ticket_search_delete AFTER DELETE ON tickets BEGIN "
    "INSERT INTO ticket_search(ticket_search, rowid, search_key) "
    "VALUES ('delete', old.id, old.search_key); END",
    "CREATE TRIGGER ticket_search_update AFTER UPDATE OF search_key ON tickets BEGIN "
    "INSERT INTO ticket_search(ticket_search, rowid, search_key) "
    "VALUES ('delete', old.id, old.search_key); "
    "INSERT INTO ticket_search(rowid, search_key) VALUES (new.id, new.search_key); END",
]


def upgrade():
    from app.tickets.search import rebuild_search_keys

    postgresql = op.get_bind().dialect.name == "postgresql"
    op.add_column("tickets", sa.Column("search_key", sa.Text(), server_default="",
                                       nullable=False))
    op.add_column("tickets", sa.Column("requester_firm_key", sa.Text(),
                                       nullable=True))
    if postgresql:
        for column in OLD_COLUMNS:
            op.drop_index(f"ix_tickets_{column}_trgm", table_name="tickets")
    rebuild_search_keys(op.get_bind(), progress=logging.getLogger("alembic.runtime.migration").info)
    if postgresql:
        op.execute("SET LOCAL maintenance_work_mem = '256MB'")
        op.create_index("ix_tickets_search_key_trgm", "tickets", ["search_key"], unique=False,
                        postgresql_using="gin", postgresql_ops={"search_key": "gin_trgm_ops"})
        op.execute("ANALYZE tickets")  # the planner's estimates of the search need the key's
    else:
        for column in OLD_COLUMNS:
            op.drop_index(f"ix_tickets_{column}_trgm", table_name="tickets")
        _create_sqlite_index()


def _create_sqlite_index():
    """The FTS5 table and its triggers, filled from the keys already stored."""
    for statement in SQLITE_INDEX:
        op.execute(statement)
    op.execute("INSERT INTO ticket_search(ticket_search) VALUES ('rebuild')")


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.drop_index("ix_tickets_search_key_trgm", table_name="tickets")
    else:
        for name in ("ticket_search_update", "ticket_search_delete", "ticket_search_insert"):
            op.execute(f"DROP TRIGGER {name}")
        op.execute("DROP TABLE ticket_search")
    # Not a batch: rebuilding ``tickets`` on SQLite would lose its expression indexes.
    op.drop_column("tickets", "requester_firm_key")
    op.drop_column("tickets", "search_key")
    for column in OLD_COLUMNS:
        op.create_index(f"ix_tickets_{column}_trgm", "tickets", [column], unique=False,
                        postgresql_using="gin", postgresql_ops={column: "gin_trgm_ops"})
