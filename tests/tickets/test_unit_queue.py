"""A unit's queues are read from the unit's own tickets (issue 19): the same pages and capped
totals as the visibility rule gives, and — on SQLite, whose plan the test can read — a page
that never walks the tickets the reader cannot see (the intake backlog)."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from app.core.clock import now_utc
from app.extensions import db
from app.tickets import queries
from app.tickets.models import TicketAssistingUnit
from app.tickets.services import transition

QUEUES = ["all", "to_acknowledge", "in_progress", "due_soon", "overdue"]


@pytest.fixture
def tickets(cast, make, frozen_clock):
    """Tickets the unit leads, assists on (one of them also led: an old assisting row), those
    of another unit, and a backlog of submitted ones without a unit, due first."""
    def dispatched(lead, assisting=(), acknowledge=False):
        ticket = make.ticket(cast.dispatcher)
        transition(ticket, "dispatch", cast.dispatcher, lead_unit=lead,
                   assisting_units=list(assisting))
        if acknowledge:
            transition(ticket, "acknowledge", cast.handler if lead == cast.unit
                       else cast.stranger)
        db.session.commit()
        return ticket

    for _ in range(4):
        make.ticket(cast.dispatcher)  # the backlog
    for number in range(5):
        dispatched(cast.unit, acknowledge=number % 2 == 0)
    dispatched(cast.other_unit, [cast.unit])
    dispatched(cast.other_unit, [cast.unit], acknowledge=True)
    dispatched(cast.other_unit)
    both = dispatched(cast.unit)
    db.session.add(TicketAssistingUnit(ticket_id=both.id, unit_id=cast.unit.id,
                                       added_at=now_utc()))
    db.session.commit()


def _pages(user, name: str, sort: str, per_page: int, statements) -> list[tuple[list, int]]:
    pages = []
    for page in range(1, 5):
        rows, count = statements
        params = {"now": now_utc(), "limit": per_page, "offset": (page - 1) * per_page}
        ids = [row.id for row in db.session.execute(rows, params)]
        pages.append((ids, db.session.scalar(count, {"now": params["now"]})))
    return pages


@pytest.mark.parametrize("name", QUEUES)
@pytest.mark.parametrize("sort", ["deadline", "newest"])
def test_a_units_queue_pages_and_totals_follow_the_visibility_rule(cast, tickets, name, sort,
                                                                  monkeypatch):
    monkeypatch.setattr(queries, "QUEUE_COUNT_LIMIT", 3)  # the cap, crossed
    order = queries.queue_order(sort)
    filters = queries.QueueFilters()
    for user in (cast.handler, cast.lead, cast.stranger):
        walked = queries._page_statements(
            queries.queue(user, name, sa.bindparam("now"), filters), order)
        own = queries._queue_statements(user, name, filters, order)
        assert _pages(user, name, sort, 3, own) == _pages(user, name, sort, 3, walked)


def test_a_handlers_page_reads_its_units_index_not_the_whole_queue_order(cast, tickets, db):
    if db.engine.dialect.name != "sqlite":
        pytest.skip("the plan read is SQLite's")
    rows, _count = queries._queue_statements(cast.handler, "all", queries.QueueFilters(),
                                            queries.QUEUE_ORDER)
    compiled = rows.compile(dialect=db.engine.dialect)
    values = compiled.construct_params({"now": now_utc().isoformat(), "limit": 25, "offset": 0})
    plan = " ".join(str(row) for row in db.session.connection().exec_driver_sql(
        f"EXPLAIN QUERY PLAN {compiled}", tuple(values[name] for name in compiled.positiontup)))
    assert "ix_tickets_unit_queue_order" in plan
    assert "ix_tickets_queue_order" not in plan
