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

Both are filled for existing tickets here, 5,000 per statement with progress in the log. The
key needs OpenCC's conversion and the token rule, which SQL cannot express: they are copied
here as they were when the column was added (from ``app.core.search`` and
``app.tickets.search``; imported, they would change this migration whenever the application's
rule does — a later change of the rule comes with its own migration that rebuilds the keys).
A test checks that the keys written here are those the application gives. About 5 minutes per
million tickets on PostgreSQL (4 min 54 s on a busy 2-core machine, bench/RESULTS.md), during
which ``tickets`` is locked: run it in a maintenance window.

Revision ID: f2b8d6a4c1e9
Revises: a3f1c9e7b2d4
Create Date: 2026-11-26 15:00:00
"""

import functools
import logging
import re
import time
from pathlib import Path

import opencc
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
    postgresql = op.get_bind().dialect.name == "postgresql"
    op.add_column("tickets", sa.Column("search_key", sa.Text(), server_default="",
                                       nullable=False))
    op.add_column("tickets", sa.Column("requester_firm_key", sa.Text(),
                                       nullable=True))
    if postgresql:
        for column in OLD_COLUMNS:
            op.drop_index(f"ix_tickets_{column}_trgm", table_name="tickets")
    _rebuild_search_keys(op.get_bind())
    if postgresql:
        op.execute("SET LOCAL maintenance_work_mem = '256MB'")
        op.create_index("ix_tickets_search_key_trgm", "tickets", ["search_key"], unique=False,
                        postgresql_using="gin", postgresql_ops={"search_key": "gin_trgm_ops"})
        op.execute("ANALYZE tickets")  # the planner's estimates of the search need the key's
    else:
        for column in OLD_COLUMNS:
            op.drop_index(f"ix_tickets_{column}_trgm", table_name="tickets")
        _create_sqlite_index()


# -- the key as it was when the column was added ---------------------------------------------

#: The columns a ticket's key is built from, in the key's order.
SOURCES = ("reference", "title", "description", "requester_firm_name", "requester_name")
#: Tickets per statement.
BATCH = 5_000
_HAN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]+")
_tickets = sa.table("tickets", sa.column("id", sa.Integer),
                    *(sa.column(name, sa.Text)
                      for name in (*SOURCES, "search_key", "requester_firm_key")))


@functools.cache
def _converter() -> opencc.OpenCC:
    return opencc.OpenCC("t2s")


@functools.cache
def _convertible() -> frozenset[str]:
    """Characters OpenCC's Traditional → Simplified tables could change (text with none of
    them converts to itself, so the slow conversion is skipped)."""
    dictionary = Path(opencc.__file__).parent / "dictionary"
    chars: set[str] = set()
    with open(dictionary / "TSCharacters.txt", encoding="utf-8") as handle:
        for line in handle:
            chars.update(line.split("\t", 1)[0])
    with open(dictionary / "TSPhrases.txt", encoding="utf-8") as handle:
        for line in handle:
            phrase, _tab, target = line.rstrip("\n").partition("\t")
            if chars.isdisjoint(phrase) and phrase not in target.split(" "):
                chars.update(phrase)
    return frozenset(chars)


def _simplify(text: str) -> str:
    """Traditional → Simplified, lower-cased."""
    if text.isascii() or _convertible().isdisjoint(text):
        return text.lower()
    return _converter().convert(text).lower()


def _key(parts) -> str:
    """Each part simplified, then every Chinese character and adjacent pair as a word, each
    followed by a space (empty parts left out)."""
    text = " ".join(_simplify(part.strip()) for part in parts if part and part.strip())
    tokens: set[str] = set()
    for run in _HAN.findall(text):
        tokens.update(run)
        tokens.update(run[i:i + 2] for i in range(len(run) - 1))
    return f"{text} | {' '.join(sorted(tokens))} "


def _keys(row) -> dict:
    firm_name = row.requester_firm_name
    firm = _simplify(firm_name.strip()) if firm_name else None
    return {"id": row.id, "search_key": _key(row[1:]), "requester_firm_key": firm or None}


def _rebuild_search_keys(connection) -> None:
    """Every ticket's keys, ``BATCH`` tickets per statement in id order, with progress."""
    log = logging.getLogger("alembic.runtime.migration")
    total = connection.scalar(sa.select(sa.func.count()).select_from(_tickets))
    started, done, last_id = time.perf_counter(), 0, 0
    while True:
        rows = connection.execute(
            sa.select(_tickets.c.id, *(_tickets.c[name] for name in SOURCES))
            .where(_tickets.c.id > last_id).order_by(_tickets.c.id).limit(BATCH)).all()
        if not rows:
            break
        _write_keys(connection, [_keys(row) for row in rows])
        done, last_id = done + len(rows), rows[-1].id
        if done % (BATCH * 10) < BATCH or done == total:
            log.info(f"ticket search keys: {done:,} of {total:,} "
                     f"({time.perf_counter() - started:.0f} s)")


def _write_keys(connection, rows: list[dict]) -> None:
    if connection.dialect.name == "postgresql":
        connection.execute(sa.text(
            "UPDATE tickets SET search_key = v.search_key, requester_firm_key = v.firm_key "
            "FROM unnest(CAST(:ids AS integer[]), CAST(:keys AS text[]), "
            "CAST(:firm_keys AS text[])) AS v(id, search_key, firm_key) "
            "WHERE tickets.id = v.id"),
            {"ids": [row["id"] for row in rows], "keys": [row["search_key"] for row in rows],
             "firm_keys": [row["requester_firm_key"] for row in rows]})
        return
    connection.execute(
        sa.update(_tickets).where(_tickets.c.id == sa.bindparam("b_id"))
        .values(search_key=sa.bindparam("b_search_key"),
                requester_firm_key=sa.bindparam("b_requester_firm_key")),
        [{f"b_{name}": value for name, value in row.items()} for row in rows])


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
