"""The demo tickets (issue 4 §9): made by the real services under a moving frozen clock, so they
cover every state, mode, channel and unit, their deadlines are what the SLA engine computes from
their own timelines, and at "now" some are overdue and some due soon."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from app.auth.models import Unit, UnitKind
from app.core import clock
from app.demo import tickets as demo
from app.demo.cli import seed_units, seed_users
from app.extensions import db
from app.firms.demo import seed_firms
from app.sla.enums import SlaStatus, SlaStep
from app.tickets import deadlines
from app.tickets.models import (
    Channel,
    DemandType,
    ServiceMode,
    SupervisionOrder,
    Ticket,
    TicketEvent,
    TicketStatus,
    Urge,
)
from app.tickets.scan import STEP_OF_STATE, current_status

#: Thursday 2026-11-26 10:00 in Kunshan: the demo's "now" in these tests.
NOW = datetime(2026, 11, 26, 2, 0, tzinfo=UTC)
#: Enough for every story and every held state once, few enough for a quick test.
COUNT = 61


@pytest.fixture
def demo_tickets(db):
    """The demo cast and COUNT demo tickets, seeded at NOW."""
    clock.freeze(NOW)
    units = seed_units()
    seed_users(units)
    seed_firms(30)
    seed_users(units)
    assert demo.seed_tickets(COUNT) == COUNT
    assert clock.now_utc() == NOW  # the caller's frozen clock is given back
    return db.session.scalars(sa.select(Ticket).order_by(Ticket.id)).all()


def test_the_demo_covers_every_state_mode_channel_demand_and_unit_over_six_months(demo_tickets):
    assert {t.status for t in demo_tickets} == set(TicketStatus)
    assert {t.service_mode for t in demo_tickets} == set(ServiceMode)
    assert {t.channel for t in demo_tickets} == set(Channel)
    assert {t.demand_type for t in demo_tickets} == set(DemandType)
    handling_units = set(db.session.scalars(sa.select(Unit.name).where(
        Unit.kind.in_([UnitKind.DEPARTMENT, UnitKind.AREA]))))
    dispatched_to = {event.data["lead_unit"] for event in db.session.scalars(
        sa.select(TicketEvent).where(TicketEvent.action == "dispatch"))}
    assert handling_units <= dispatched_to
    first = min(t.submitted_at for t in demo_tickets)
    assert (NOW - first).days >= 170
    last_event = db.session.scalar(sa.select(sa.func.max(TicketEvent.at)))
    assert last_event <= NOW
    references = [t.reference for t in sorted(demo_tickets, key=lambda t: t.created_at)]
    assert references == sorted(references)  # one clock, moving forward
    from app.ratings.models import Rating, Rectification

    assert db.session.scalar(sa.select(sa.func.count(Rating.id))) > 5
    assert db.session.scalar(sa.select(sa.func.count(Rectification.id))) >= 1
    assert db.session.scalar(sa.select(sa.func.count(Urge.id))) >= 1
    assert db.session.scalar(sa.select(sa.func.count(SupervisionOrder.id))) >= 1
    actions = set(db.session.scalars(sa.select(TicketEvent.action).distinct()))
    assert {"suspend", "resume", "approve_extension", "approve_return", "reject_return",
            "send_back", "reopen", "reopen_closed", "final_reply", "record_follow_up",
            "rate", "answer_directly", "merge", "withdraw"} <= actions


def replayed_handle_due(ticket, sla):
    """The handling deadline rebuilt from the ticket's timeline with the SLA engine."""
    due = None
    events = db.session.scalars(sa.select(TicketEvent).where(TicketEvent.ticket_id == ticket.id)
                                .order_by(TicketEvent.at, TicketEvent.id))
    for event in events:
        if event.action == "dispatch":
            due = sla.due(SlaStep.HANDLE, event.at)
        elif event.action == "resume":
            paused_from = datetime.fromisoformat(event.data["paused_from"])
            due = sla.after_pause(due, SlaStep.HANDLE, paused_from, event.at)
        elif event.action == "approve_extension":
            due = sla.extended(due, event.data["days"])
        elif event.action in ("reopen", "reopen_closed") and due is not None:
            due = sla.due(SlaStep.HANDLE, event.at)
        elif event.action == "approve_return":
            due = None
    return due


def test_every_deadline_is_what_the_sla_engine_computes_from_the_timeline(demo_tickets):
    checked = 0
    for ticket in demo_tickets:
        sla = deadlines.for_ticket(ticket)
        assert ticket.intake_due_at == sla.due(SlaStep.INTAKE, ticket.submitted_at)
        if ticket.dispatched_at is not None:
            assert ticket.acknowledge_due_at == sla.due(SlaStep.ACKNOWLEDGE,
                                                        ticket.dispatched_at)
            assert ticket.handle_due_at == replayed_handle_due(ticket, sla), ticket.reference
            checked += 1
        if ticket.replied_at is not None and ticket.lead_unit_id is not None:
            assert ticket.reply_review_due_at == sla.due(SlaStep.REPLY_REVIEW,
                                                         ticket.replied_at)
        if ticket.reply_approved_at is not None:
            assert ticket.follow_up_due_at == sla.due(SlaStep.FOLLOW_UP,
                                                      ticket.reply_approved_at)
    assert checked > COUNT // 2


def test_at_now_some_tickets_are_overdue_and_some_due_soon_as_the_scan_says(demo_tickets):
    running = [t for t in demo_tickets if t.status in STEP_OF_STATE and t.due_at is not None]
    for ticket in running:
        db.session.refresh(ticket)  # the scan writes its marks in bulk
        assert ticket.sla_status == current_status(ticket, deadlines.for_ticket(ticket), NOW)
    marks = [t.sla_status for t in running]
    assert marks.count(SlaStatus.OVERDUE) >= 2
    assert marks.count(SlaStatus.DUE_SOON) >= 1
    assert any(t.due_at < NOW for t in running) and any(t.due_at > NOW for t in running)
    assert demo.seed_tickets(COUNT) == 0  # made once per database
    assert db.session.scalar(sa.select(sa.func.count(Ticket.id))) == len(demo_tickets)


def test_every_demo_rectification_older_than_a_fortnight_is_worked_to_the_end(demo_tickets):
    """Call-back, classification (a reopened ticket is 立行立改 too), result and the evaluator's
    feedback: a 差评 of the demo never stays waiting for classification."""
    from app.ratings.models import Rectification, RectificationStatus

    rows = db.session.scalars(sa.select(Rectification)).all()
    old = [r for r in rows if (NOW - r.created_at).days > 14]
    assert old, "the demo has 差评 rectifications"
    assert {r.status for r in old} == {RectificationStatus.CLOSED}
    reopened = [t for t in demo_tickets if t.reopen_count and t.rating_level is not None
                and t.rating_level <= 2]
    assert reopened and all(t.status == TicketStatus.CLOSED for t in reopened
                            if (NOW - t.submitted_at).days > 30)
