"""The database keeps history append-only whatever client talks to it (issue 15, finding 9):
ticket events and ratings are never changed or removed; a decision row (extension, return and
reply requests, firm account requests) is written once, decided once, and never removed."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from app.core.clock import now_utc
from app.extensions import db
from app.portal.models import FirmRegistration, RegistrationStatus
from app.ratings.models import Rating, RatingChannel
from app.tickets.models import (
    ExtensionRequest,
    ExtensionStatus,
    ReplyApproval,
    ReplyApprovalStatus,
    ReturnRequest,
    ReturnStatus,
    TicketStatus,
)


def _refused(sql: str, **params) -> None:
    with pytest.raises(sa.exc.DatabaseError, match="append-only"), db.session.begin_nested():
        db.session.connection().execute(sa.text(sql), params)


def _allowed(sql: str, **params) -> None:
    with db.session.begin_nested():
        db.session.connection().execute(sa.text(sql), params)


@pytest.fixture
def closed(ticket_in):
    return ticket_in(TicketStatus.CLOSED)


@pytest.mark.parametrize("sql", [
    "UPDATE ticket_events SET reason = 'rewritten' WHERE ticket_id = :ticket",
    "UPDATE ticket_events SET at = at WHERE ticket_id = :ticket",
    "DELETE FROM ticket_events WHERE ticket_id = :ticket",
])
def test_the_database_refuses_changes_to_ticket_events(closed, sql):
    before = db.session.execute(sa.text("SELECT count(*), max(reason) FROM ticket_events "
                                        "WHERE ticket_id = :t"), {"t": closed.id}).one()
    _refused(sql, ticket=closed.id)
    after = db.session.execute(sa.text("SELECT count(*), max(reason) FROM ticket_events "
                                       "WHERE ticket_id = :t"), {"t": closed.id}).one()
    assert before == after and before[0] > 0


@pytest.mark.parametrize("sql", [
    "UPDATE ratings SET comment = 'rewritten' WHERE id = :row",
    "UPDATE ratings SET unit_id = NULL, handler_id = NULL WHERE id = :row",
    "DELETE FROM ratings WHERE id = :row",
])
def test_the_database_refuses_changes_to_ratings(closed, sql):
    rating = db.session.scalar(sa.select(Rating).where(Rating.ticket_id == closed.id))
    assert rating.channel == RatingChannel.PORTAL and rating.comment is None
    _refused(sql, row=rating.id)
    assert db.session.execute(sa.text("SELECT count(*), max(comment) FROM ratings "
                                      "WHERE id = :row"), {"row": rating.id}).one() == (1, None)


def _decision_rows(ticket, cast) -> dict[str, tuple[int, str]]:
    """One pending row of each decision table, with the statement that decides it."""
    now = now_utc()
    extension = ExtensionRequest(
        ticket_id=ticket.id, status=ExtensionStatus.AWAITING_ENDORSEMENT, days=3, reason="材料多",
        current_due_at=now, proposed_due_at=now + timedelta(days=3),
        requested_by_id=cast.handler.id, requested_at=now)
    ret = ReturnRequest(ticket_id=ticket.id, unit_id=cast.unit.id, status=ReturnStatus.PENDING,
                        reason="不属本单位", legal_basis="三定方案", previous_status="in_progress",
                        requested_by_id=cast.handler.id, requested_at=now)
    reply = ReplyApproval(ticket_id=ticket.id, status=ReplyApprovalStatus.PENDING, text="答复",
                          requested_by_id=cast.handler.id, requested_at=now)
    registration = FirmRegistration(uscc="91320583314159268J", firm_name="测试企业",
                                    contact_name="王明", mobile="13812345678",
                                    email="wang@example.com", status=RegistrationStatus.PENDING)
    db.session.add_all([extension, ret, reply, registration])
    db.session.flush()
    decided = "decided_at = :now, decided_by_id = :by, decision_reason = 'ok'"
    return {
        "ticket_extension_requests": (extension.id, f"status = 'rejected', {decided}"),
        "ticket_return_requests": (ret.id, f"status = 'rejected', {decided}"),
        "ticket_reply_approvals": (reply.id, f"status = 'returned', {decided}"),
        "firm_registrations": (registration.id, f"status = 'rejected', {decided}"),
    }


DECISION_TABLES = ["ticket_extension_requests", "ticket_return_requests",
                   "ticket_reply_approvals", "firm_registrations"]


@pytest.mark.parametrize("table", DECISION_TABLES)
def test_a_decision_row_is_decided_once_and_then_final(ticket_in, cast, table):
    ticket = ticket_in(TicketStatus.IN_PROGRESS)
    row_id, decide = _decision_rows(ticket, cast)[table]
    params = {"row": row_id, "now": now_utc(), "by": cast.supervisor.id}
    _allowed(f"UPDATE {table} SET {decide} WHERE id = :row", **params)  # noqa: S608
    _refused(f"UPDATE {table} SET decision_reason = 'rewritten' WHERE id = :row", row=row_id)  # noqa: S608
    _refused(f"UPDATE {table} SET status = 'pending', decided_at = NULL, decided_by_id = NULL "  # noqa: S608
             "WHERE id = :row", row=row_id)
    _refused(f"DELETE FROM {table} WHERE id = :row", row=row_id)  # noqa: S608
    assert db.session.execute(sa.text(f"SELECT decision_reason FROM {table} "  # noqa: S608
                                      "WHERE id = :row"), {"row": row_id}).scalar() == "ok"


@pytest.mark.parametrize("table", DECISION_TABLES)
def test_a_pending_decision_row_is_never_deleted(ticket_in, cast, table):
    ticket = ticket_in(TicketStatus.IN_PROGRESS)
    row_id, _decide = _decision_rows(ticket, cast)[table]
    _refused(f"DELETE FROM {table} WHERE id = :row", row=row_id)  # noqa: S608


@pytest.mark.parametrize("table", ["ticket_events", "ratings", *DECISION_TABLES])
def test_truncate_is_refused_on_postgresql(ticket_in, table):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("SQLite has no TRUNCATE")
    _refused(f"TRUNCATE {table} CASCADE")
