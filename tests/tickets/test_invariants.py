"""The database itself refuses rows that break DOMAIN §3's invariants (named CHECKs), on SQLite
and on PostgreSQL alike; events are append-only and tickets are never deleted."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from app.core.clock import now_utc
from app.extensions import db
from app.tickets.models import (
    ExtensionRequest,
    SupervisionOrder,
    Ticket,
    TicketEvent,
    TicketEventImmutable,
    TicketNotDeletable,
    TicketStatus,
    Urge,
)

S = TicketStatus
T = Ticket.__table__

#: constraint name → (state of a valid ticket, column values that break only that rule)
TICKET_VIOLATIONS = {
    "ck_tickets_closed_has_closed_at": (S.SUBMITTED, {"status": "closed",
                                                      "closure_kind": "rated"}),
    "ck_tickets_closed_has_closure_kind": (S.CLOSED, {"closure_kind": None}),
    "ck_tickets_suspended_has_paused_at": (S.IN_PROGRESS, {"status": "suspended"}),
    "ck_tickets_rejected_has_rejected_at": (S.SUBMITTED, {"status": "rejected"}),
    "ck_tickets_withdrawn_has_withdrawn_at": (S.SUBMITTED, {"status": "withdrawn"}),
    "ck_tickets_merged_has_target": (S.SUBMITTED, {"status": "merged"}),
    "ck_tickets_unit_states_have_lead_unit": (S.IN_PROGRESS, {"lead_unit_id": None,
                                                              "dispatched_at": None}),
    "ck_tickets_submitted_has_no_lead_unit": (S.DISPATCHED, {"status": "submitted"}),
    "ck_tickets_lead_unit_with_dispatched_at": (S.DISPATCHED, {"dispatched_at": None}),
    "ck_tickets_replied_states_have_replied_at": (S.REPLIED, {"replied_at": None}),
    "ck_tickets_firm_or_requester_contact": (S.SUBMITTED, {"firm_id": None,
                                                           "requester_mobile": None,
                                                           "requester_email": None}),
    "ck_tickets_rating_level_range": (S.CLOSED, {"rating_level": 6}),
    "ck_tickets_counters_not_negative": (S.SUBMITTED, {"paused_seconds": -1}),
    "ck_tickets_version_positive": (S.SUBMITTED, {"version": 0}),
}


def refused(statement, constraint: str) -> None:
    """Run ``statement`` in a savepoint and check the database refuses it by that name."""
    savepoint = db.session.begin_nested()
    with pytest.raises(sa.exc.IntegrityError) as error:
        db.session.execute(statement)
    savepoint.rollback()
    assert constraint in str(error.value)


@pytest.mark.parametrize("constraint", sorted(TICKET_VIOLATIONS))
def test_database_refuses_ticket_row_breaking_invariant(constraint, ticket_in):
    state, values = TICKET_VIOLATIONS[constraint]
    ticket = ticket_in(state)
    refused(sa.update(T).where(T.c.id == ticket.id).values(**values), constraint)


def test_database_refuses_ticket_merged_into_itself(ticket_in):
    ticket = ticket_in(S.SUBMITTED)
    refused(sa.update(T).where(T.c.id == ticket.id).values(status="merged",
                                                           merged_into_id=ticket.id),
            "ck_tickets_not_merged_into_itself")


def test_database_refuses_unknown_status(ticket_in):
    ticket = ticket_in(S.SUBMITTED)
    refused(sa.text("UPDATE tickets SET status = 'lost' WHERE id = :id").bindparams(id=ticket.id),
            "ck_tickets_ticket_status")


def test_database_refuses_duplicate_reference(ticket_in):
    first, second = ticket_in(S.SUBMITTED), ticket_in(S.SUBMITTED)
    refused(sa.update(T).where(T.c.id == second.id).values(reference=first.reference),
            "reference")


def test_database_refuses_extension_decided_without_endorsement(ticket_in, cast):
    ticket = ticket_in(S.IN_PROGRESS)
    now = now_utc()
    refused(sa.insert(ExtensionRequest.__table__).values(
        ticket_id=ticket.id, status="approved", days=2, reason="x", current_due_at=now,
        proposed_due_at=now + timedelta(days=2), requested_by_id=cast.handler.id,
        requested_at=now, decided_at=now),
        "ck_ticket_extension_requests_decision_follows_endorsement")


def test_database_refuses_automatic_urge_without_dedupe_key(ticket_in):
    ticket = ticket_in(S.IN_PROGRESS)
    refused(sa.insert(Urge.__table__).values(ticket_id=ticket.id, kind="auto", at=now_utc()),
            "ck_ticket_urges_auto_urge_has_dedupe_key")


def test_database_refuses_closed_supervision_order_without_closed_at(ticket_in):
    ticket = ticket_in(S.IN_PROGRESS)
    refused(sa.insert(SupervisionOrder.__table__).values(
        ticket_id=ticket.id, status="closed", is_automatic=False, reason="x", due_at=now_utc(),
        created_at=now_utc()), "ck_ticket_supervision_orders_closed_has_closed_at")


def test_ticket_events_cannot_be_changed_or_deleted(ticket_in):
    ticket = ticket_in(S.DISPATCHED)
    event = db.session.scalars(sa.select(TicketEvent).where(
        TicketEvent.ticket_id == ticket.id)).first()
    event.reason = "rewritten"
    with pytest.raises(TicketEventImmutable):
        db.session.flush()
    db.session.rollback()
    with pytest.raises(TicketEventImmutable):
        db.session.execute(sa.delete(TicketEvent).where(TicketEvent.ticket_id == ticket.id))


def test_tickets_are_never_deleted(ticket_in):
    ticket = ticket_in(S.WITHDRAWN)
    db.session.delete(ticket)
    with pytest.raises(TicketNotDeletable):
        db.session.flush()
