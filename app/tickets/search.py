"""The ticket search key: what the staff queue search matches (DOMAIN §3).

A ticket's key holds its reference, title and description and — for a walk-in requester, whose
firm is not in the registry — the firm name and contact name as typed (on the portal the
requester types them for registered firms too; they are kept, since that is what the caller
said). A registry firm's own name is not copied into its tickets' keys: renaming a firm would
rewrite thousands of tickets, and the queue's firm filter finds those tickets by the registry.
Mobile numbers and e-mail addresses are not searchable.

The key is built by :func:`app.core.search.build_key`, like the firm's: Simplified,
lower-case, with every Chinese character and adjacent pair as separate words, so one or two
characters are found through an index (PostgreSQL: a trigram index on the key; SQLite: an FTS5
trigram table over it, see the migration that added it, which carries its own copy of this
rule). The ORM keeps it current on every flush (:mod:`app.tickets.models.ticket`).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

import sqlalchemy as sa

from app.core.search import build_key, simplify

#: The columns a ticket's key is built from, in the key's order.
SOURCES = ("reference", "title", "description", "requester_firm_name", "requester_name")
#: The columns derived from them.
KEYS = ("search_key", "requester_firm_key")
#: Tickets per statement when keys are rebuilt.
BATCH = 5_000

logger = logging.getLogger(__name__)
_tickets = sa.table("tickets", sa.column("id", sa.Integer),
                    *(sa.column(name, sa.Text) for name in (*SOURCES, *KEYS)))


def search_keys(reference: str | None, title: str | None, description: str | None,
                requester_firm_name: str | None = None,
                requester_name: str | None = None) -> dict[str, str | None]:
    """The derived columns of a ticket's texts: ``search_key`` (see the module docstring) and
    ``requester_firm_key``, the typed firm name alone as the queue's firm filter matches it."""
    firm = simplify(requester_firm_name.strip()) if requester_firm_name else None
    return {"search_key": build_key((reference, title, description, requester_firm_name,
                                     requester_name)),
            "requester_firm_key": firm or None}


def rebuild_search_keys(connection: sa.Connection, batch: int = BATCH,
                        progress: Callable[[str], None] = logger.info) -> int:
    """Recompute every ticket's key, ``batch`` tickets per statement in id order; returns how
    many tickets were written. Used by the bench seed (a migration that changes what the key
    holds carries its own copy of the rule).

    On PostgreSQL a batch is one ``UPDATE … FROM unnest(ids, keys)``; SQLite runs an
    executemany in-process. ``progress`` hears about every tenth batch.
    """
    total = connection.scalar(sa.select(sa.func.count()).select_from(_tickets))
    started, done, last_id = time.perf_counter(), 0, 0
    while True:
        rows = connection.execute(
            sa.select(_tickets.c.id, *(_tickets.c[name] for name in SOURCES))
            .where(_tickets.c.id > last_id).order_by(_tickets.c.id).limit(batch)).all()
        if not rows:
            break
        _write(connection, [{"id": row.id, **search_keys(*row[1:])} for row in rows])
        done, last_id = done + len(rows), rows[-1].id
        if done % (batch * 10) < batch or done == total:
            progress(f"ticket search keys: {done:,} of {total:,} "
                     f"({time.perf_counter() - started:.0f} s)")
    return done


def _write(connection: sa.Connection, rows: list[dict]) -> None:
    if connection.dialect.name == "postgresql":
        connection.execute(sa.text(
            "UPDATE tickets SET search_key = v.search_key, requester_firm_key = v.firm_key "
            "FROM unnest(CAST(:ids AS integer[]), CAST(:keys AS text[]), "
            "CAST(:firm_keys AS text[])) AS v(id, search_key, firm_key) "
            "WHERE tickets.id = v.id"),
            {"ids": [row["id"] for row in rows], "keys": [row["search_key"] for row in rows],
             "firm_keys": [row["requester_firm_key"] for row in rows]})
        return
    connection.execute(sa.update(_tickets).where(_tickets.c.id == sa.bindparam("b_id"))
                       .values({name: sa.bindparam(f"b_{name}") for name in KEYS}),
                       [{f"b_{name}": value for name, value in row.items()} for row in rows])
