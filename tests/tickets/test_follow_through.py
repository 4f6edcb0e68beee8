"""Follow-through (issue 16): whoever records a ticket — from a visit, at intake, for a firm —
can open it and follow it, and is told when it is answered and when it closes."""

from __future__ import annotations

import sqlalchemy as sa

from app.core.errors import DomainError
from app.extensions import db
from app.notifications.models import Notification
from app.tickets import queries, services
from app.tickets.models import Channel, TicketStatus

S = TicketStatus


def _subjects(user) -> list[str]:
    return list(db.session.scalars(sa.select(Notification.subject).where(
        Notification.recipient_id == user.id)))


def test_the_officer_who_recorded_a_ticket_opens_it_before_and_after_dispatch(
        make, cast, login_as, client):
    ticket = make.ticket(cast.stranger, channel=Channel.VISIT)
    login_as(cast.stranger)
    assert client.get(f"/tickets/{ticket.reference}").status_code == 200
    visible = db.session.scalars(sa.select(queries.Ticket.id).where(
        queries.visibility_clause(cast.stranger))).all()
    assert ticket.id in visible
    services.transition(ticket, "dispatch", cast.dispatcher, lead_unit=cast.unit)
    db.session.commit()
    assert client.get(f"/tickets/{ticket.reference}").status_code == 200
    other = make.user("handler", unit=cast.other_unit)
    login_as(other)
    assert client.get(f"/tickets/{ticket.reference}").status_code == 404  # others still not


def test_the_officer_who_recorded_it_may_not_act_for_the_lead_unit(make, cast):
    ticket = make.ticket(cast.stranger, channel=Channel.VISIT)
    services.transition(ticket, "dispatch", cast.dispatcher, lead_unit=cast.unit)
    assert "acknowledge" not in [a.name for a in services.allowed_actions(ticket, cast.stranger)]
    try:
        services.transition(ticket, "acknowledge", cast.stranger)
    except DomainError:
        db.session.rollback()
    else:  # pragma: no cover - the rule broke
        raise AssertionError("a non-member acknowledged")


def test_the_recording_officer_is_told_of_the_reply_and_the_close(ticket_in, cast, make):
    ticket = ticket_in(S.REPLIED, actor=cast.stranger)
    before = _subjects(cast.stranger)
    services.transition(ticket, "approve_reply", cast.dispatcher)
    db.session.commit()
    answered = [s for s in _subjects(cast.stranger) if s not in before]
    assert len(answered) == 1 and ticket.reference in answered[0]
    services.transition(ticket, "record_follow_up", cast.dispatcher, outcome="level", level="4")
    db.session.commit()
    closed = [s for s in _subjects(cast.stranger) if s not in before + answered]
    assert len(closed) == 1 and ticket.reference in closed[0]


def test_nobody_is_told_twice_of_their_own_close(ticket_in, cast):
    ticket = ticket_in(S.FOLLOW_UP, actor=cast.dispatcher)
    before = _subjects(cast.dispatcher)
    services.transition(ticket, "record_follow_up", cast.dispatcher, outcome="level", level="5")
    db.session.commit()
    assert _subjects(cast.dispatcher) == before


def test_a_refused_action_names_the_state_by_its_label(ticket_in, cast, app):
    ticket = ticket_in(S.SUBMITTED)
    from flask_babel import refresh

    with app.test_request_context(headers={"Accept-Language": "en"}):
        refresh()
        try:
            services.transition(ticket, "approve_reply", cast.dispatcher)
        except DomainError as error:
            message = str(error)
    assert "Submitted" in message and "submitted" not in message
