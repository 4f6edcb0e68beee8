"""Read side of the portal: what a requester may see, the firm's lists, the dispatcher's queues.

A requester sees the public part of a ticket only: state, public events (never who inside the
office did what), public comments, the approved reply and public attachments.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from app.core.forms import options
from app.core.search import contains
from app.extensions import db
from app.firms.models import Firm
from app.portal.models import REGISTRATION_STATUS_LABELS, AnswerSnippet, FirmRegistration
from app.tickets import deadlines
from app.tickets.models import (
    Attachment,
    Category,
    Comment,
    CommentVisibility,
    Ticket,
    TicketEvent,
    TicketStatus,
)
from app.tickets.models.enums import STATUS_LABELS
from app.tickets.services import allowed_actions

S = TicketStatus

#: Events a requester sees on the timeline, with the words they see (no staff names).
PUBLIC_EVENTS = {
    "create": _l("Request received"),
    "answer_directly": _l("Answered"),
    "reject_intake": _l("Not accepted"),
    "merge": _l("Merged with another request on the same matter"),
    "dispatch": _l("Passed to the responsible unit"),
    "approve_return": _l("Being passed to another unit"),
    "acknowledge": _l("Accepted by the responsible unit"),
    "suspend": _l("Waiting for information from you"),
    "resume": _l("Handling resumed"),
    "approve_extension": _l("The answer date was extended"),
    "recompute_deadlines": _l("The answer date was recomputed on the official holiday "
                              "schedule"),
    "approve_reply": _l("Answered"),
    "final_reply": _l("Final answer"),
    "rate": _l("Rated"),
    "record_follow_up": _l("Follow-up recorded"),
    "reopen": _l("Reopened"),
    "reopen_closed": _l("Reopened"),
    "withdraw": _l("Withdrawn"),
    "supply_info": _l("Information added"),
}
#: Event data a requester may read, per event.
PUBLIC_EVENT_TEXT = {
    "reject_intake": ("proper_channel",),
    "suspend": ("missing_info",),
    "recompute_deadlines": ("promised_at",),
}


@dataclass
class TimelineEntry:
    """One line of the public timeline."""

    at: datetime
    label: object
    text: str | None = None


@dataclass
class RequesterView:
    """Everything the requester's page shows."""

    status_label: object
    deadline: datetime | None
    reply: str | None
    timeline: list[TimelineEntry] = field(default_factory=list)
    attachments: list[Attachment] = field(default_factory=list)
    missing_info: str | None = None
    can_supply: bool = False
    can_withdraw: bool = False
    can_rate: bool = False
    rating_level: int | None = None
    rectification: object = None
    can_give_feedback: bool = False
    #: The committed date with its provisional mark (``None`` once answered or finished).
    promise: object = None


def _public_timeline(ticket: Ticket) -> list[TimelineEntry]:
    events = db.session.scalars(sa.select(TicketEvent).where(
        TicketEvent.ticket_id == ticket.id, TicketEvent.action.in_(PUBLIC_EVENTS))
        .order_by(TicketEvent.at, TicketEvent.id)).all()
    entries = []
    for event in events:
        keys = PUBLIC_EVENT_TEXT.get(event.action, ())
        text = " · ".join(str(event.data.get(k)) for k in keys if event.data.get(k))
        if event.action == "reject_intake" and event.reason:
            text = f"{event.reason} · {text}" if text else event.reason
        entries.append(TimelineEntry(event.at, PUBLIC_EVENTS[event.action], text or None))
    comments = db.session.scalars(sa.select(Comment).where(
        Comment.ticket_id == ticket.id, Comment.visibility == CommentVisibility.PUBLIC)).all()
    entries += [TimelineEntry(c.created_at, _l("Message"), c.body) for c in comments]
    return sorted(entries, key=lambda entry: entry.at)


def public_reply(ticket: Ticket) -> str | None:
    """The answer the requester may read: approved (or direct) replies, and final replies."""
    if ticket.final_reply_text and ticket.status == S.CLOSED:
        return ticket.final_reply_text
    if ticket.reply_approved_at is not None and ticket.status in (S.FOLLOW_UP, S.CLOSED):
        return ticket.reply_text
    return None


def requester_view(ticket: Ticket, actor) -> RequesterView:
    """The requester's page of one ticket."""
    from app.ratings.models import RectificationStatus
    from app.ratings.services import rating_of, rectification_of

    names = {a.name for a in allowed_actions(ticket, actor)}
    rectification = rectification_of(ticket)
    suspend = None
    if ticket.status == S.SUSPENDED:
        suspend = db.session.scalar(sa.select(TicketEvent).where(
            TicketEvent.ticket_id == ticket.id, TicketEvent.action == "suspend")
            .order_by(TicketEvent.at.desc()).limit(1))
    promise = (None if ticket.is_finished or ticket.status == S.FOLLOW_UP
               else deadlines.promise(ticket))
    return RequesterView(
        status_label=STATUS_LABELS[ticket.status],
        deadline=promise.at if promise else None, promise=promise,
        reply=public_reply(ticket), timeline=_public_timeline(ticket),
        attachments=db.session.scalars(sa.select(Attachment).where(
            Attachment.ticket_id == ticket.id,
            Attachment.visibility == CommentVisibility.PUBLIC).order_by(Attachment.id)).all(),
        missing_info=suspend.data.get("missing_info") if suspend is not None else None,
        can_supply=ticket.status == S.SUSPENDED and "supply_info" in names,
        can_withdraw="withdraw" in names,
        can_rate="rate" in names and rating_of(ticket) is None,
        rating_level=ticket.rating_level, rectification=rectification,
        can_give_feedback=rectification is not None
        and rectification.status == RectificationStatus.AWAITING_FEEDBACK)


def public_attachment(ticket: Ticket, stored_name: str) -> Attachment | None:
    """A public attachment of this ticket by its random name."""
    return db.session.scalar(sa.select(Attachment).where(
        Attachment.ticket_id == ticket.id, Attachment.stored_name == stored_name,
        Attachment.visibility == CommentVisibility.PUBLIC))


def active_categories() -> list[Category]:
    """Categories offered on forms."""
    return db.session.scalars(sa.select(Category).where(Category.is_active.is_(True))
                              .order_by(Category.sort_order, Category.name)).all()


# -- the firm account --------------------------------------------------------------------------


def _firm_clause(user):
    return Ticket.firm_id == user.firm_id if user.firm_id is not None else sa.false()


def firm_ticket(user, reference: str) -> Ticket | None:
    """One ticket of the user's firm, by reference (another firm's is simply not found)."""
    return db.session.scalar(sa.select(Ticket).where(
        _firm_clause(user), Ticket.reference == (reference or "").upper()))


def firm_tickets(user, q: str = "", status: str = "") -> sa.Select:
    """The firm's tickets, newest first."""
    statement = sa.select(Ticket).where(_firm_clause(user))
    if q:
        statement = statement.where(contains(q.strip(), Ticket.reference, Ticket.title))
    if status in set(TicketStatus):
        statement = statement.where(Ticket.status == status)
    return statement.order_by(Ticket.submitted_at.desc(), Ticket.id.desc())


def status_choices():
    """Status filter options."""
    return options([("", _l("All states")), *STATUS_LABELS.items()])


# -- the dispatcher ----------------------------------------------------------------------------


def registrations(q: str = "", status: str = "") -> sa.Select:
    """Account requests, oldest pending first."""
    statement = sa.select(FirmRegistration)
    if q:
        statement = statement.where(contains(q.strip(), FirmRegistration.firm_name,
                                             FirmRegistration.uscc, FirmRegistration.contact_name,
                                             FirmRegistration.mobile))
    if status:
        statement = statement.where(FirmRegistration.status == status)
    return statement.order_by(FirmRegistration.status != "pending",
                              FirmRegistration.created_at, FirmRegistration.id)


def registration_status_choices():
    """Registration status filter options."""
    return options([("", _l("All states")), *REGISTRATION_STATUS_LABELS.items()])


def firm_choices(row: FirmRegistration):
    """Registry firms to link: the one with the request's USCC first, then name matches."""
    matches = db.session.scalars(sa.select(Firm).where(
        Firm.archived_at.is_(None),
        sa.or_(Firm.uscc == row.uscc, contains(row.firm_name[:20], Firm.name)))
        .order_by(Firm.uscc != row.uscc, Firm.name).limit(50)).all()
    return options([("", _l("Choose…")),
                    *[(str(f.id), f"{f.name} ({f.uscc})") for f in matches]])


def snippets(q: str = "", status: str = "active") -> sa.Select:
    """Snippets by title, most used first."""
    statement = sa.select(AnswerSnippet)
    if q:
        statement = statement.where(contains(q.strip(), AnswerSnippet.title, AnswerSnippet.body))
    if status != "all":
        statement = statement.where(AnswerSnippet.is_active.is_(status != "archived"))
    return statement.order_by(AnswerSnippet.used_count.desc(), AnswerSnippet.title)


def snippet_status_choices():
    """Snippet filter options."""
    return options([("active", _l("In use")), ("archived", _l("Archived")),
                    ("all", _l("All"))])


def snippet(value) -> AnswerSnippet | None:
    """An active snippet by id (from the picker), or ``None``."""
    try:
        row = db.session.get(AnswerSnippet, int(value))
    except (TypeError, ValueError):
        return None
    return row if row is not None and row.is_active else None


def snippet_choices(ticket: Ticket):
    """Active snippets, those of the ticket's category first."""
    rows = db.session.scalars(sa.select(AnswerSnippet).where(AnswerSnippet.is_active.is_(True))
                              .order_by(AnswerSnippet.category_id != ticket.category_id,
                                        AnswerSnippet.used_count.desc(),
                                        AnswerSnippet.title)).all()
    return options([("", _l("None")), *[(str(r.id), r.title) for r in rows]])


def intake_queue(q: str = "") -> sa.Select:
    """Submitted tickets, the earliest intake deadline first."""
    statement = sa.select(Ticket).where(Ticket.status == S.SUBMITTED)
    if q:
        statement = statement.where(contains(q.strip(), Ticket.reference, Ticket.title,
                                             Ticket.requester_firm_name))
    return statement.order_by(Ticket.intake_due_at, Ticket.id)
