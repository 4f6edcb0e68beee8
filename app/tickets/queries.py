"""Read-side queries: which tickets a user may see, queues, timelines.

:func:`visible_tickets` is :meth:`Ticket.can_view` written in SQL; a test checks that list and
detail always agree.
"""

from __future__ import annotations

import sqlalchemy as sa

from app.core.permissions import Permission
from app.extensions import db
from app.tickets.models import Comment, Ticket, TicketAssistingUnit, TicketEvent


def visibility_clause(user) -> sa.ColumnElement[bool]:
    """The WHERE condition matching exactly the tickets ``user`` may see."""
    if user is None or not getattr(user, "is_authenticated", False):
        return sa.false()
    if user.can(Permission.TICKET_VIEW_ALL):
        return sa.true()
    if user.can(Permission.TICKET_VIEW_UNIT):
        if user.unit_id is None:
            return sa.false()
        assisting = sa.exists().where(TicketAssistingUnit.ticket_id == Ticket.id,
                                      TicketAssistingUnit.unit_id == user.unit_id)
        return sa.or_(Ticket.lead_unit_id == user.unit_id, assisting)
    if user.can(Permission.TICKET_VIEW_OWN):
        own = [Ticket.created_by_id == user.id]
        firm_id = getattr(user, "firm_id", None)
        if firm_id is not None:
            own.append(Ticket.firm_id == firm_id)
        return sa.or_(*own)
    return sa.false()


def visible_tickets(user) -> sa.Select:
    """``select(Ticket)`` limited to what ``user`` may see (DOMAIN §1)."""
    return sa.select(Ticket).where(visibility_clause(user))


def get_visible(user, ticket_id: int) -> Ticket | None:
    """One ticket by id, or ``None`` if it does not exist or the user may not see it."""
    return db.session.scalar(visible_tickets(user).where(Ticket.id == ticket_id))


def get_visible_by_reference(user, reference: str) -> Ticket | None:
    """One ticket by its human reference, under the same rule."""
    return db.session.scalar(visible_tickets(user).where(Ticket.reference == reference))


def timeline(ticket: Ticket, include_internal: bool) -> list[Comment | TicketEvent]:
    """Events and comments of a ticket in time order; firms see public comments only."""
    events = db.session.scalars(sa.select(TicketEvent).where(TicketEvent.ticket_id == ticket.id)
                                .order_by(TicketEvent.at, TicketEvent.id)).all()
    comments_query = sa.select(Comment).where(Comment.ticket_id == ticket.id)
    if not include_internal:
        comments_query = comments_query.where(Comment.visibility == "public")
    comments = db.session.scalars(comments_query.order_by(Comment.created_at, Comment.id)).all()
    return sorted([*events, *comments], key=lambda row: getattr(row, "at", None)
                  or row.created_at)
