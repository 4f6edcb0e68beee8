"""Queue and search SQL written for each database's planner.

:mod:`app.tickets.queries` says *what* a queue or a search selects; this module holds the
conditions whose *form* was chosen so that SQLite and PostgreSQL find a good plan: the same
rows written another way would be correct and many times slower on large data. Each function
says which plan it is written for. The measurements behind them are in bench/RESULTS.md,
"Queue search plans".
"""

from __future__ import annotations

import sqlalchemy as sa

from app.core.search import key_contains, key_fragment
from app.extensions import db
from app.tickets.models import Ticket, TicketAssistingUnit

#: ``SELECT tickets.id``, built once: each queue only adds its conditions to a copy.
TICKET_IDS = sa.select(Ticket.id)

#: On SQLite, a phrase found in more tickets than this is matched on each ticket's key while
#: the queue walks its order index (the matches are dense: a page of them comes within a few
#: dozen rows) instead of looking up every match in the full-text index and sorting them all.
#: A rarer phrase is looked up in the full-text index; the count of matches reads at most
#: this many + 1 of its entries.
DENSE_MATCHES = 2_000

#: SQLite's full-text index of the search key (see :func:`key_matches`).
_TICKET_SEARCH = sa.table("ticket_search", sa.column("rowid", sa.Integer),
                          sa.column("ticket_search", sa.Text))


def among(column, ids: sa.Select) -> sa.ColumnElement[bool]:
    """``column IN (ids)``, written so that an OR of two stays indexable: on PostgreSQL
    ``= ANY(ARRAY(…))``, an array computed once, so the OR is a BitmapOr of two index scans
    (two IN subqueries would be hashed and the whole queue walked when few tickets match);
    SQLite reads an OR of IN lists through both indexes itself."""
    if db.session.get_bind().dialect.name == "postgresql":
        return column == sa.any_(sa.func.array(ids.scalar_subquery()))
    return column.in_(ids)


def assisted_by(unit_id: int) -> sa.Select:
    """The ids of the tickets the unit assists on (its rows of ``ticket_assisting_units``)."""
    return (sa.select(TicketAssistingUnit.ticket_id)
            .where(TicketAssistingUnit.unit_id == unit_id))


def unit_among(unit_id: int) -> sa.ColumnElement[bool]:
    """PostgreSQL: the unit leads the ticket or assists on it, the assisting tickets as a list
    (:func:`among`) instead of ``EXISTS``, which the planner guesses true of half the tickets:
    it then expects a rarer search's matches every few hundred entries of the order index and
    walks it, where with the list it reads the matches from the trigram index and sorts them."""
    return sa.or_(Ticket.lead_unit_id == unit_id, among(Ticket.id, assisted_by(unit_id)))


def unit_walk(unit_id: int) -> sa.ColumnElement[bool]:
    """SQLite: the unit leads the ticket or assists on it, written to be tested on each entry
    of the order index the queue walks: ``+lead_unit_id`` (read from the index entry; the
    unary plus keeps SQLite from reading the unit's tickets through their own index and
    sorting them all instead) or the id among the unit's assisting rows, read once into a
    list — not a lookup per entry."""
    lead = sa.sql.expression.UnaryExpression(
        Ticket.lead_unit_id, operator=sa.sql.operators.custom_op("+"), type_=sa.Integer())
    return sa.or_(lead == unit_id, Ticket.id.in_(assisted_by(unit_id)))


def unit_count(unit_id: int, conditions: list, limit: int) -> sa.Select:
    """SQLite: how many tickets the unit leads or assists on match ``conditions``, counted up
    to ``limit``, read from the unit's tickets: those it leads (their index), then those it
    only assists on (its rows of ``ticket_assisting_units``; one row per ticket and unit, so
    none is counted twice). The count of ``lead OR EXISTS (assisting)`` walks the table in
    rowid order instead, reading every ticket's row until enough visible ones match."""
    led = TICKET_IDS.where(Ticket.lead_unit_id == unit_id, *conditions)
    only_assisted = TICKET_IDS.where(Ticket.id.in_(assisted_by(unit_id)),
                                     Ticket.lead_unit_id.is_distinct_from(unit_id),
                                     *conditions)
    both = sa.union_all(led, only_assisted).limit(limit).subquery()
    return sa.select(sa.func.count()).select_from(both)


def unit_page(unit_id: int, conditions: list, order: tuple, newest: bool) -> sa.Select:
    """Both databases: the ids of a page (parameters ``limit`` and ``offset``) of the tickets
    the unit leads or assists on that match ``conditions``, in ``order`` (the queue order, or
    the newest first if ``newest``), read from the unit's
    own tickets — never from those it cannot see.

    Written as the union of two ordered branches, each cut at ``offset + limit``: the tickets
    the unit leads, read in order from ``ix_tickets_unit_queue_order`` (the unit first, then
    the queue order: the first entries are the page's), and those it only assists on (its
    rows of ``ticket_assisting_units``, a few, sorted). ``lead = unit OR assisting`` instead
    walks the queue order of every ticket testing each entry: a backlog of 100,000 submitted
    tickets without a unit, due first, was read on every page of every handler (bench/RESULTS.md,
    "Queues and the intake backlog")."""
    cut = sa.bindparam("limit") + sa.bindparam("offset")
    led = (sa.select(Ticket.id, Ticket.due_at).where(Ticket.lead_unit_id == unit_id, *conditions)
           .order_by(*order).limit(cut))
    only_assisted = (sa.select(Ticket.id, Ticket.due_at)
                     .where(Ticket.id.in_(assisted_by(unit_id)),
                            Ticket.lead_unit_id.is_distinct_from(unit_id), *conditions)
                     .order_by(*order).limit(cut))
    both = sa.union_all(led.subquery().select(), only_assisted.subquery().select()).subquery()
    merged = ((both.c.id.desc(),) if newest
              else (both.c.due_at.is_(None), both.c.due_at, both.c.id.desc()))
    return (sa.select(both.c.id).order_by(*merged)
            .limit(sa.bindparam("limit")).offset(sa.bindparam("offset")))


def key_matches(text: str) -> sa.ColumnElement[bool]:
    """The ticket's search key contains ``text``, through the database's index.

    PostgreSQL matches the key with ``LIKE`` through its trigram index. SQLite asks the FTS5
    trigram table ``ticket_search`` for the same substring as a phrase (consecutive trigrams,
    case-sensitive like the key: exactly "contains"), which needs three characters — one or two
    Chinese characters have them as `` 电子 ``; a shorter fragment (``ab``), or a phrase in
    more than :data:`DENSE_MATCHES` tickets, reads the keys.
    """
    fragment = key_fragment(text)
    if len(fragment) >= 3 and db.session.get_bind().dialect.name == "sqlite":
        phrase = '"' + fragment.replace('"', '""') + '"'
        matches = (sa.select(_TICKET_SEARCH.c.rowid)
                   .where(_TICKET_SEARCH.c.ticket_search.match(phrase)))
        if not _more_than(matches, DENSE_MATCHES):
            return Ticket.id.in_(matches)
    return key_contains(Ticket.search_key, text)


def reads_keys(search: sa.ColumnElement[bool]) -> bool:
    """Whether the search condition is a ``LIKE`` on the ticket's search key (SQLite then
    walks the order index testing each entry: :func:`unit_walk`)."""
    left = getattr(search, "left", None)
    return left is not None and left.compare(Ticket.__table__.c.search_key)


def _more_than(matches: sa.Select, limit: int) -> bool:
    """Whether the full-text ``matches`` hold more than ``limit`` rows (read at most limit + 1)."""
    counted = sa.select(sa.func.count()).select_from(matches.limit(limit + 1).subquery())
    return db.session.scalar(counted) > limit
