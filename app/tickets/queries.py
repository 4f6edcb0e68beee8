"""Read-side queries: which tickets a user may see, queues, timelines.

:func:`visible_tickets` is :meth:`Ticket.can_view` written in SQL; a test checks that list and
detail always agree.
"""

from __future__ import annotations

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from app.core.permissions import Permission
from app.core.search import contains
from app.extensions import db
from app.sla.enums import SlaStatus
from app.tickets.models import (
    Category,
    Comment,
    DispatchRule,
    Ticket,
    TicketAssistingUnit,
    TicketEvent,
    TicketStatus,
)
from app.tickets.workflow import PUBLIC_EVENTS


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
        if getattr(user, "tracking_ticket_id", None) is not None:
            return Ticket.id == user.tracking_ticket_id  # a tracking link opens one ticket
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
    """Events and comments in time order; firms see public comments and the public events
    only (the template also hides the reasons of internal steps from them)."""
    events_query = sa.select(TicketEvent).where(TicketEvent.ticket_id == ticket.id)
    if not include_internal:
        events_query = events_query.where(TicketEvent.action.in_(sorted(PUBLIC_EVENTS)))
    events = db.session.scalars(events_query.order_by(TicketEvent.at, TicketEvent.id)).all()
    comments_query = sa.select(Comment).where(Comment.ticket_id == ticket.id)
    if not include_internal:
        comments_query = comments_query.where(Comment.visibility == "public")
    comments = db.session.scalars(comments_query.order_by(Comment.created_at, Comment.id)).all()
    return sorted([*events, *comments], key=lambda row: getattr(row, "at", None)
                  or row.created_at)


def queue(user, name: str, now, q: str = "", status: str = "", sla_status: str = "") -> sa.Select:
    """One queue of the visible tickets, filtered and ordered by the nearest deadline."""
    statement = visible_tickets(user)
    statement = {
        "intake": lambda s: s.where(Ticket.status == TicketStatus.SUBMITTED),
        "to_acknowledge": lambda s: s.where(Ticket.status == TicketStatus.DISPATCHED),
        "in_progress": lambda s: s.where(Ticket.status.in_(IN_PROGRESS_STATES)),
        "due_soon": lambda s: s.where(Ticket.sla_status == SlaStatus.DUE_SOON,
                                      Ticket.due_at >= now),
        "overdue": lambda s: s.where(Ticket.due_at < now),
    }.get(name, lambda s: s)(statement)
    if q.strip():
        statement = statement.where(contains(q.strip(), Ticket.reference, Ticket.title,
                                             Ticket.description))
    if status in set(TicketStatus):
        statement = statement.where(Ticket.status == status)
    if sla_status == SlaStatus.OVERDUE:
        statement = statement.where(Ticket.due_at < now)
    elif sla_status in (SlaStatus.ON_TRACK, SlaStatus.DUE_SOON):
        statement = statement.where(Ticket.sla_status == sla_status, Ticket.due_at >= now)
    return statement.order_by(Ticket.due_at.is_(None), Ticket.due_at, Ticket.id.desc())


IN_PROGRESS_STATES = (TicketStatus.IN_PROGRESS, TicketStatus.RETURN_REQUESTED,
                      TicketStatus.SUSPENDED, TicketStatus.REPLIED)


def suggested_lead_unit_id(ticket: Ticket) -> int | None:
    """The dispatch catalogue's lead unit for the ticket's category, if any."""
    if ticket.category_id is None:
        return None
    return db.session.scalar(sa.select(DispatchRule.lead_unit_id).where(
        DispatchRule.category_id == ticket.category_id, DispatchRule.is_active.is_(True)))


#: (label, deadline column, step-done column) shown on the ticket page.
DEADLINES = (
    (_l("Intake"), "intake_due_at", "first_dispatched_at"),
    (_l("Acknowledge"), "acknowledge_due_at", "acknowledged_at"),
    (_l("Return window"), "return_window_ends_at", None),
    (_l("Handle"), "handle_due_at", "replied_at"),
    (_l("Reply review"), "reply_review_due_at", "reply_approved_at"),
    (_l("Follow-up"), "follow_up_due_at", "closed_at"),
)


def deadline_rows(ticket: Ticket, now) -> list[dict]:
    """Each deadline with when its step happened and a simple met / missed / overdue mark."""
    rows = []
    for label, due_column, done_column in DEADLINES:
        due = getattr(ticket, due_column)
        if due is None:
            continue
        done = getattr(ticket, done_column) if done_column else None
        if done_column is None:  # a window closes; it is not a step to be met
            rows.append({"label": label, "due_at": due, "done_at": None, "days_left": None,
                         "status": None})
            continue
        if done is not None:
            status = SlaStatus.MET if done <= due else SlaStatus.MISSED
        elif now > due:
            status = SlaStatus.OVERDUE
        else:
            status = ticket.sla_status if ticket.due_at == due else SlaStatus.ON_TRACK
        rows.append({"label": label, "due_at": due, "done_at": done, "status": status,
                     "days_left": _days_left(ticket, due, now) if done is None else None})
    return rows


def _days_left(ticket: Ticket, due, now) -> float | None:
    """Working days left (negative once late), for the countdown; None without a calendar."""
    from app.sla.calendar import CalendarNotConfigured
    from app.tickets import deadlines

    try:
        return round(deadlines.for_ticket(ticket).working_days_left(now, due), 1)
    except CalendarNotConfigured:
        return None


def active_categories() -> sa.Select:
    """Categories offered on forms, in their configured order."""
    return sa.select(Category).where(Category.is_active.is_(True)).order_by(Category.sort_order,
                                                                            Category.name)


def find_firm(text: str):
    """The registered, non-archived firm a caller names: by USCC, else by exact legal name."""
    from app.firms.models import Firm
    from app.firms.uscc import normalise

    text = (text or "").strip()
    if not text:
        return None
    live = sa.select(Firm).where(Firm.archived_at.is_(None))
    firm = db.session.scalar(live.where(Firm.uscc == normalise(text)))
    if firm is not None:
        return firm
    matches = db.session.scalars(live.where(Firm.name == text).limit(2)).all()
    return matches[0] if len(matches) == 1 else None


def side_requests(ticket: Ticket) -> dict[str, list]:
    """Extension, return and reply-approval requests and supervision orders, newest first."""
    from app.tickets.models import (
        ExtensionRequest,
        ReplyApproval,
        ReturnRequest,
        SupervisionOrder,
        TicketStatus,
    )

    def rows(model, column):
        return db.session.scalars(sa.select(model).where(model.ticket_id == ticket.id)
                                  .order_by(column.desc())).all()

    return {"extensions": rows(ExtensionRequest, ExtensionRequest.requested_at),
            "returns": rows(ReturnRequest, ReturnRequest.requested_at),
            "orders": rows(SupervisionOrder, SupervisionOrder.created_at),
            # Only an in-progress ticket can have a reply waiting for its unit lead.
            "replies": rows(ReplyApproval, ReplyApproval.requested_at)
            if ticket.status == TicketStatus.IN_PROGRESS else []}
