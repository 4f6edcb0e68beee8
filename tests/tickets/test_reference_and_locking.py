"""References are sequential per year and unique under concurrent creation; access tokens are
random; two people changing one ticket never silently overwrite each other."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.core import clock
from app.extensions import db
from app.sla import services as sla_services
from app.tickets.models import TicketReferenceCounter, TicketStatus
from app.tickets.services import ConcurrentChange, next_reference, transition

S = TicketStatus


def test_references_are_sequential_within_a_year(make, cast, frozen_clock):
    refs = [make.ticket(actor=cast.dispatcher).reference for _ in range(3)]
    numbers = [int(ref.split("-")[1]) for ref in refs]
    assert all(ref.startswith("KS2026-") for ref in refs)
    assert numbers == list(range(numbers[0], numbers[0] + 3))


def test_reference_numbering_restarts_with_the_local_year(make, cast):
    # 2025-12-31 23:30 in Beijing is still 2025; thirty minutes later it is 2026.
    sla_services.seed_calendar([2025])
    clock.freeze(datetime(2025, 12, 31, 15, 30, tzinfo=UTC))
    last_of_2025 = make.ticket(actor=cast.dispatcher)
    clock.advance(timedelta(minutes=31))
    first_of_2026 = make.ticket(actor=cast.dispatcher)
    assert last_of_2025.reference.startswith("KS2025-")
    assert first_of_2026.reference == "KS2026-000001"


def test_access_token_is_long_random_and_not_the_id(make, cast):
    first, second = make.ticket(actor=cast.dispatcher), make.ticket(actor=cast.dispatcher)
    assert len(first.access_token) >= 43  # 256 bits in URL-safe base64
    assert first.access_token != second.access_token
    assert first.access_token != str(first.id)


def test_concurrent_reference_allocation_gives_unique_gapless_numbers(app):
    """Eight transactions on eight connections allocate at once (PostgreSQL row locks)."""
    engine = db.engine
    if engine.dialect.name != "postgresql":
        pytest.skip("needs a server database with real concurrent connections")
    year_instant = datetime(2099, 6, 1, 4, 0, tzinfo=UTC)
    workers, per_worker = 8, 5
    barrier = threading.Barrier(workers)
    results: list[str] = []
    lock = threading.Lock()

    def allocate():
        barrier.wait()
        for _ in range(per_worker):
            with Session(engine) as session, session.begin():
                reference = next_reference(year_instant, session)
            with lock:
                results.append(reference)

    threads = [threading.Thread(target=allocate) for _ in range(workers)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        expected = {f"KS2099-{n:06d}" for n in range(1, workers * per_worker + 1)}
        assert len(results) == workers * per_worker
        assert set(results) == expected
    finally:
        with engine.begin() as connection:
            connection.execute(sa.delete(TicketReferenceCounter.__table__).where(
                TicketReferenceCounter.__table__.c.year == 2099))


def test_stale_form_version_is_refused_with_reload_message(ticket_in, cast):
    ticket = ticket_in(S.DISPATCHED)
    seen_version = ticket.version
    transition(ticket, "urge", cast.dispatcher)  # someone else changes it meanwhile
    with pytest.raises(ConcurrentChange) as error:
        transition(ticket, "acknowledge", cast.handler, expected_version=seen_version)
    assert str(error.value) == str(ConcurrentChange())  # the "reload" message
    assert ticket.status == S.DISPATCHED


def test_concurrent_update_of_loaded_ticket_is_refused(ticket_in, cast):
    """Another transaction bumped the row after we loaded it: our write finds no row."""
    ticket = ticket_in(S.DISPATCHED)
    table = ticket.__table__
    db.session.execute(sa.update(table).where(table.c.id == ticket.id)
                       .values(version=table.c.version + 1))
    savepoint = db.session.begin_nested()
    with pytest.raises(ConcurrentChange):
        transition(ticket, "acknowledge", cast.handler)
    savepoint.rollback()
    db.session.refresh(ticket)
    assert ticket.status == S.DISPATCHED
    assert ticket.acknowledged_at is None
