"""Provisional deadlines: those counted over next year's provisional calendar days.

Next year, before the State Council's notice reaches the calendar, is covered by provisional
days (:func:`app.sla.services.provisional_year`). A ticket's deadline counted over them is
stored with its bit in ``Ticket.provisional_deadlines``
(:func:`app.tickets.deadlines.mark_provisional`). This module counts them for the calendar
page, and recomputes them when the official days replace the provisional ones
(:func:`recompute_published`, called in the publishing transaction by
:data:`app.sla.services.CALENDAR_CHANGED`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace
from datetime import datetime

import sqlalchemy as sa
from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from app.core import audit
from app.core.clock import now_utc, to_local
from app.core.rendering import translated
from app.extensions import db
from app.sla import deadlines as engine
from app.sla import services as sla_services
from app.sla.calendar import CalendarNotConfigured
from app.sla.services import CalendarChange
from app.tickets import deadlines, notify, services
from app.tickets.models import (
    FINISHED_STATES,
    ExtensionRequest,
    SupervisionOrder,
    SupervisionStatus,
    Ticket,
    TicketEvent,
    TicketStatus,
)
from app.tickets.models.enums import OPEN_EXTENSION_STATES

logger = logging.getLogger("ruyi.tickets")
S = TicketStatus

#: Open tickets with a provisional deadline: read through the partial index.
_OPEN_PROVISIONAL = (Ticket.provisional_deadlines != 0,
                     Ticket.status.not_in([str(s) for s in FINISHED_STATES]))


def open_provisional_count() -> int:
    """Open tickets with at least one provisional deadline."""
    return db.session.scalar(sa.select(sa.func.count()).select_from(Ticket)
                             .where(*_OPEN_PROVISIONAL)) or 0


sla_services.PROVISIONAL_USE_COUNTERS.append(open_provisional_count)


# -- recomputing when the official days arrive ------------------------------------------------

#: The deadlines still running in each open state (a finished step's deadline is history:
#: its met/missed mark stays as it was recorded).
RUNNING_DEADLINES = {
    S.SUBMITTED: ("intake_due_at",),
    S.DISPATCHED: ("acknowledge_due_at", "return_window_ends_at", "handle_due_at"),
    S.IN_PROGRESS: ("return_window_ends_at", "handle_due_at"),
    S.RETURN_REQUESTED: ("return_window_ends_at", "handle_due_at"),
    S.SUSPENDED: ("return_window_ends_at", "handle_due_at"),
    S.REPLIED: ("reply_review_due_at",),
    S.FOLLOW_UP: ("follow_up_due_at",),
}
#: States in which the firm sees a committed date (the tracking page's "We will answer by").
PROMISE_STATES = frozenset(RUNNING_DEADLINES) - {S.FOLLOW_UP}
#: Tickets per flush.
BATCH = 200


@dataclass
class TicketRecomputed:
    """What publishing the official days did to one ticket."""

    reference: str
    #: column → (before, after), only the deadlines that moved
    moved: dict[str, tuple[datetime, datetime]] = field(default_factory=dict)
    promise_before: datetime | None = None
    promise_after: datetime | None = None

    @property
    def promise_moved(self) -> bool:
        """The firm's committed date changed (it is told)."""
        return self.promise_before != self.promise_after


@dataclass
class Recomputation:
    """Every ticket a publication touched, and the finished tickets whose marks were cleared."""

    years: tuple[int, ...]
    tickets: list[TicketRecomputed] = field(default_factory=list)
    finished_cleared: int = 0

    @property
    def moved(self) -> list[TicketRecomputed]:
        """The tickets with at least one deadline moved."""
        return [t for t in self.tickets if t.moved]

    @property
    def told(self) -> int:
        """Firms told of a new committed date."""
        return sum(t.promise_moved for t in self.tickets)


def recompute_published(change: CalendarChange) -> Recomputation | None:
    """When official days replace provisional ones, recompute every open ticket's deadlines
    that were counted over them — from their original start, with the suspensions and
    approved extensions since (:func:`counted_again`) — in the publishing transaction: each
    ticket gets a timeline entry and an audit row, a firm whose committed date moved is told,
    and the scan's urge and supervision times follow the new deadlines. Finished tickets keep their
    deadlines and met/missed marks; only their provisional marks are cleared."""
    if not change.published:
        return None
    result = Recomputation(tuple(sorted(change.published)))
    finished = [str(s) for s in FINISHED_STATES]
    cleared = db.session.execute(sa.update(Ticket.__table__).where(
        Ticket.__table__.c.provisional_deadlines != 0,
        Ticket.__table__.c.status.in_(finished)).values(provisional_deadlines=0))
    result.finished_cleared = cleared.rowcount or 0
    ids = list(db.session.scalars(sa.select(Ticket.id).where(
        Ticket.status.not_in(finished),
        sa.or_(Ticket.provisional_deadlines != 0, Ticket.status == S.SUBMITTED))
        .order_by(Ticket.id)))
    for start in range(0, len(ids), BATCH):
        batch = ids[start:start + BATCH]
        tickets = db.session.scalars(sa.select(Ticket).where(Ticket.id.in_(batch))
                                     .order_by(Ticket.id)).all()
        history = _history(batch)
        for ticket in tickets:
            done = _recompute(ticket, change, history.get(ticket.id, []))
            if done is not None:
                result.tickets.append(done)
        db.session.flush()
    audit.record("calendar.recompute", actor=change.actor, object_type="tickets",
                 details={"years": list(result.years), "tickets": len(result.tickets),
                          "moved": len(result.moved), "firms_told": result.told,
                          "finished_cleared": result.finished_cleared})
    logger.warning("official calendar %s: %d open tickets recomputed (%d moved, %d firms "
                   "told), %d finished tickets' marks cleared", list(result.years),
                   len(result.tickets), len(result.moved), result.told, result.finished_cleared)
    change.outcomes["tickets"] = result
    return result


def _history(ids: list[int]) -> dict[int, list[TicketEvent]]:
    """Each ticket's reopens, resumes and approved extensions, oldest first: what its running
    deadlines were counted from and shifted by."""
    history: dict[int, list[TicketEvent]] = {}
    for event in db.session.scalars(sa.select(TicketEvent).where(
            TicketEvent.ticket_id.in_(ids), TicketEvent.action.in_(_REPLAYED))
            .order_by(TicketEvent.at, TicketEvent.id)):
        history.setdefault(event.ticket_id, []).append(event)
    return history


_REPLAYED = ("reopen", "reopen_closed", "resume", "approve_extension")


def _start(ticket: Ticket, column: str, history: list[TicketEvent]) -> datetime | None:
    """Where a running deadline was counted from."""
    if column == "intake_due_at":
        return ticket.submitted_at
    if column == "handle_due_at":
        reopened = [e.at for e in history if e.action in ("reopen", "reopen_closed")
                    and e.to_status == S.IN_PROGRESS]
        return max(filter(None, (ticket.dispatched_at, *reopened)), default=None)
    if column == "reply_review_due_at":
        return ticket.replied_at
    if column == "follow_up_due_at":
        return ticket.reply_approved_at or ticket.replied_at
    return ticket.dispatched_at  # acknowledge, return window


def counted_again(ticket: Ticket, column: str, sla, history: list[TicketEvent]) -> datetime | None:
    """A running deadline counted again on ``sla``'s calendar from its original start: the
    step's limit, then — for handling — every suspension given back and every approved
    extension since, in the order they happened (as :mod:`app.tickets.services` did)."""
    start = _start(ticket, column, history)
    if start is None:
        return None
    step = deadlines.PROVISIONAL_BITS[column][0]
    due = sla.due(step, start)
    if column != "handle_due_at":
        return due
    for event in history:
        if event.at <= start:
            continue
        if event.action == "resume" and event.data.get("paused_from"):
            paused_from = datetime.fromisoformat(event.data["paused_from"])
            due = sla.after_pause(due, step, paused_from, event.at)
        elif event.action == "approve_extension" and event.data.get("days"):
            due = sla.extended(due, int(event.data["days"]))
    return due


def _recompute(ticket: Ticket, change: CalendarChange,
               history: list[TicketEvent]) -> TicketRecomputed | None:
    new_sla = deadlines.for_ticket(ticket)
    old_sla = replace(new_sla, calendar=change.old)
    touched = ticket.provisional_deadlines != 0
    done = TicketRecomputed(ticket.reference)
    if ticket.status in PROMISE_STATES:
        done.promise_before = _promise(ticket, old_sla)
    for column in RUNNING_DEADLINES.get(ticket.status, ()):
        due = getattr(ticket, column)
        if due is None or not ticket.is_provisional(column):
            continue
        moved = counted_again(ticket, column, new_sla, history)
        if moved is not None and moved != due:
            setattr(ticket, column, moved)
            done.moved[column] = (due, moved)
    _follow_handling(ticket, change, done)
    if ticket.status in PROMISE_STATES:
        done.promise_after = _promise(ticket, new_sla)
    if not (touched or done.moved or done.promise_moved):
        return None
    services._refresh_due(ticket, now_utc())
    _record(ticket, change, done)
    return done


def _follow_handling(ticket: Ticket, change: CalendarChange, done: TicketRecomputed) -> None:
    """What was counted like the handling deadline: the assisting units' deadlines, a pending
    extension's proposed date and the open automatic supervision orders' answer dates."""
    old, new = change.old, change.new
    if ticket.dispatched_at is not None:
        for row in ticket.assisting_units:
            if row.due_at is not None and row.responded_at is None and old.is_provisional(
                    row.due_at):
                row.due_at = engine.rebase_days(ticket.dispatched_at, row.due_at, old, new)
    for request in db.session.scalars(sa.select(ExtensionRequest).where(
            ExtensionRequest.ticket_id == ticket.id,
            ExtensionRequest.status.in_(OPEN_EXTENSION_STATES))):
        if ticket.handle_due_at is not None:
            request.current_due_at = ticket.handle_due_at
            request.proposed_due_at = new.shift_working_days(ticket.handle_due_at, request.days)
    for order in db.session.scalars(sa.select(SupervisionOrder).where(
            SupervisionOrder.ticket_id == ticket.id, SupervisionOrder.is_automatic.is_(True),
            SupervisionOrder.status == SupervisionStatus.OPEN)):
        if old.is_provisional(order.due_at):
            order.due_at = engine.rebase_days(order.created_at, order.due_at, old, new)


def _promise(ticket: Ticket, sla) -> datetime | None:
    try:
        return deadlines.promised_answer_at(ticket, sla)
    except CalendarNotConfigured:
        return None


def _record(ticket: Ticket, change: CalendarChange, done: TicketRecomputed) -> None:
    """The timeline entry and the audit row of one ticket, and the firm's message."""
    years = "、".join(str(y) for y in sorted(change.published))
    data = {"years": sorted(change.published),
            "moved": {c: [_iso(a), _iso(b)] for c, (a, b) in done.moved.items()},
            "by": getattr(change.actor, "display_name", None)}
    with force_locale(current_app.config.get("BABEL_DEFAULT_LOCALE", "zh_Hans_CN")):
        labels = translated(DEADLINE_NAMES)
        if done.moved:
            reason = _("Deadlines recomputed on the official holiday schedule of %(years)s: "
                       "%(moves)s.", years=years, moves="; ".join(
                           f"{labels[c]} {_local(a)} → {_local(b)}"
                           for c, (a, b) in done.moved.items()))
        else:
            reason = _("Deadlines confirmed on the official holiday schedule of %(years)s: "
                       "none moved.", years=years)
    if done.promise_after is not None and ticket.status in PROMISE_STATES:
        data["promised_at"] = _local(done.promise_after)
    action = "recompute_deadlines" if done.moved or done.promise_moved else "confirm_deadlines"
    db.session.add(TicketEvent(ticket=ticket, at=now_utc(), actor_id=None, actor_name=None,
                               actor_role=None, action=action, from_status=ticket.status,
                               to_status=ticket.status, reason=reason, data=data))
    audit.record(f"ticket.{action}", actor=change.actor, obj=ticket,
                 details={"reference": ticket.reference, **data}, flush=False)
    if done.promise_moved and done.promise_after is not None:
        notify.deadline_recomputed(ticket, years, done.promise_before, done.promise_after)


#: The deadlines as the timeline names them.
DEADLINE_NAMES = {
    "intake_due_at": _l("Intake"), "acknowledge_due_at": _l("Acknowledge"),
    "return_window_ends_at": _l("Return window"), "handle_due_at": _l("Handle"),
    "reply_review_due_at": _l("Reply review"), "follow_up_due_at": _l("Follow-up"),
}


def _local(value: datetime | None) -> str:
    return to_local(value).strftime("%Y-%m-%d %H:%M") if value else "-"


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


sla_services.CALENDAR_CHANGED.append(recompute_published)
