"""Ticket verbs: create a ticket, and move it through DOMAIN §3.1 with :func:`transition`.

Services flush and never commit: the view or command that called them commits once, and the
notifications they queue go out only after that commit (:mod:`app.core.mail`). They never read
the request: what they record of it (the source address) is passed in by the caller.

The ticket package is split by reason to change: :mod:`~app.tickets.workflow` is the table of
actions (states, permissions, preconditions, handlers), :mod:`~app.tickets.handlers` what each
action does, :mod:`~app.tickets.notify` who is told, and this module the verbs that put them
together — one event, one audit row and one log line per transition.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.orm.exc import StaleDataError

from app.auth.models import User
from app.core import audit
from app.core.caches import memo
from app.core.clock import now_utc, to_local
from app.core.errors import PermissionDenied, ValidationFailed
from app.core.permissions import Permission, Role
from app.db import insert_row
from app.extensions import db
from app.sla.enums import SlaStatus, SlaStep
from app.tickets import deadlines, system_texts
from app.tickets.errors import ConcurrentChange, InvalidTransition
from app.tickets.handlers import FOLLOW_UP_ATTEMPTS, Step, iso
from app.tickets.models import (
    Channel,
    Comment,
    CommentVisibility,
    DemandType,
    ServiceMode,
    Ticket,
    TicketEvent,
    TicketReferenceCounter,
    TicketStatus,
    Urgency,
    format_reference,
)
from app.tickets.models.enums import STATUS_LABELS
from app.tickets.workflow import (
    ACTIONS,
    REQUIRED_LABELS,
    Action,
    actor_may,
    allowed_actions,
    refusal,
    workflow_settings,
)

#: Also reachable here, where the callers of the verbs look for them.
__all__ = ["AFTER_TRANSITION", "FOLLOW_UP_ATTEMPTS", "ConcurrentChange", "InvalidTransition",
           "Requester", "add_comment", "allowed_actions", "batched_transitions", "create_ticket",
           "next_reference", "perform", "supply_information", "transition", "workflow_settings"]

logger = logging.getLogger("ruyi.tickets")

S = TicketStatus
P = Permission

#: Called after every transition with ``(ticket, action, actor, data)``, so other domains can
#: react (a 差评 opens a rectification) without the workflow knowing them.
AFTER_TRANSITION: list[Callable[..., None]] = []


# -- creation ----------------------------------------------------------------------------------


def next_reference(created_at: datetime, session=None) -> str:
    """The next ``KSyyyy-nnnnnn`` of the local year, allocated inside the caller's transaction.

    One atomic upsert on the year's counter row: concurrent creators queue on that row lock
    (PostgreSQL) or on the database write lock (SQLite), so numbers are unique and have no
    gaps; the unique constraint on ``tickets.reference`` is the last guard.
    """
    session = session or db.session
    year = to_local(created_at).year
    statement = _counter_upsert(session.get_bind().dialect.name)
    number = session.connection().execute(statement, {"year": year}).scalar_one()
    return format_reference(year, number)


@memo("tickets.counter_upsert")
def _counter_upsert(dialect: str):
    """The counter's upsert for this database, built once (the year is its parameter)."""
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    elif dialect == "sqlite":
        from sqlalchemy.dialects.sqlite import insert
    else:  # pragma: no cover - only PostgreSQL and SQLite are supported
        raise RuntimeError(f"unsupported database {dialect}")
    table = TicketReferenceCounter.__table__
    return (
        insert(table).values(year=sa.bindparam("year"), last_number=1)
        .on_conflict_do_update(index_elements=[table.c.year],
                               set_={"last_number": table.c.last_number + 1})
        .returning(table.c.last_number)
    )


@dataclass
class Requester:
    """An unregistered requester's contact, as typed."""

    name: str | None = None
    mobile: str | None = None
    email: str | None = None
    firm_name: str | None = None
    uscc: str | None = None


def create_ticket(actor: User | None, *, channel: Channel, service_mode: ServiceMode,
                  demand_type: DemandType, urgency: Urgency, title: str, description: str,
                  firm=None, requester: Requester | None = None, category=None,
                  is_complex: bool = False, ip: str | None = None,
                  is_taiwan_related: bool = False) -> Ticket:
    """Record a new demand in ``submitted`` with its intake deadline (DOMAIN §3.1 *create*);
    ``is_taiwan_related`` is the 涉台 mark, kept beside the requester's own category."""
    if actor is not None and not actor.can(P.TICKET_CREATE):
        raise PermissionDenied(_("You may not create tickets."))
    if firm is None and actor is not None and actor.role == Role.FIRM_USER:
        firm = actor.firm  # a firm account speaks for its registry firm
    requester = requester or Requester()
    check_demand(firm, requester, title, description)
    now = now_utc()
    ticket = new_ticket(now, channel=Channel(channel), service_mode=ServiceMode(service_mode),
                        demand_type=DemandType(demand_type), urgency=Urgency(urgency),
                        is_complex=bool(is_complex), category=category, title=title,
                        description=description, firm=firm, requester=requester,
                        created_by=actor, is_taiwan_related=bool(is_taiwan_related)
                        or bool(firm and firm.is_taiwan_invested))
    # Last before the insert: the counter's row lock is then held only for the inserts and
    # the commit, so concurrent submissions queue on it as briefly as possible.
    ticket.reference = next_reference(now)
    # Three plain inserts, no unit-of-work flush (it cost more CPU than the statements): the
    # ticket comes back with its id, nothing reads the event or the audit row back.
    insert_row(db.session, ticket)
    record_creation(ticket, actor, ip)
    return ticket


def check_demand(firm, requester: Requester, title: str, description: str) -> None:
    """A new ticket's contact and texts: refused with a clear message if missing."""
    _check_contact(firm, requester)
    if not (title or "").strip() or not (description or "").strip():
        raise ValidationFailed(_("A ticket needs a title and a description of the demand."))


def new_ticket(now: datetime, *, requester: Requester, title: str, description: str,
               **columns) -> Ticket:
    """A ticket in ``submitted`` with its intake deadline, not stored yet."""
    ticket = Ticket(
        title=title.strip(), description=description.strip(),
        requester_name=_blank_to_none(requester.name),
        requester_mobile=_blank_to_none(requester.mobile),
        requester_email=_blank_to_none(requester.email),
        requester_firm_name=_blank_to_none(requester.firm_name),
        requester_uscc=_blank_to_none(requester.uscc),
        status=S.SUBMITTED, submitted_at=now, **columns)
    set_intake_deadline(ticket, now)
    return ticket


def set_intake_deadline(ticket: Ticket, now: datetime) -> None:
    """The intake deadline and the current deadline of a new ticket."""
    ticket.intake_due_at = deadlines.for_ticket(ticket).due(SlaStep.INTAKE, now)
    _refresh_due(ticket, now)


def record_creation(ticket: Ticket, actor: User | None, ip: str | None) -> None:
    """The ``create`` event, the audit row and the log line of a ticket just inserted: two
    plain inserts (nothing reads them back)."""
    db.session.connection().execute(_INSERT_EVENT, _event_values(
        ticket, "create", actor, None, S.SUBMITTED, None,
        {"channel": str(ticket.channel), "intake_due_at": iso(ticket.intake_due_at)}, ip))
    audit.append("ticket.create", actor=actor, obj=ticket,
                 details={"reference": ticket.reference})
    logger.info("ticket %s created by %s", ticket.reference, _actor_name(actor))


def _check_contact(firm, requester: Requester) -> None:
    if firm is not None:
        return
    if not (requester.name or "").strip():
        raise ValidationFailed(_("Choose a registered firm or give the requester's name."))
    if not ((requester.mobile or "").strip() or (requester.email or "").strip()):
        raise ValidationFailed(_("Give a mobile number or an e-mail address for the reply."))


def _blank_to_none(value: str | None) -> str | None:
    value = (value or "").strip()
    return value or None


# -- the one transition service ----------------------------------------------------------------


def transition(ticket: Ticket, name: str, actor: User | None, *,
               expected_version: int | None = None, ip: str | None = None,
               **data) -> TicketEvent:
    """Perform one action of DOMAIN §3.1 on a ticket and write exactly one event.

    :param actor: the user acting, or ``None`` for the system (scan, automatic resume).
    :param expected_version: the version the user saw; a different one means someone else
        changed the ticket meanwhile and nothing is done (:class:`ConcurrentChange`).
    :raises PermissionDenied: the actor may not do this to this ticket.
    :raises InvalidTransition: the state does not allow it, or a rule of the action refuses.
    :raises ValidationFailed: required data is missing.
    """
    spec = ACTIONS.get(name)
    if spec is None:
        raise InvalidTransition(_("Unknown action."))
    if expected_version is not None and int(expected_version) != ticket.version:
        raise ConcurrentChange(ticket)
    if not actor_may(spec, ticket, actor):
        raise PermissionDenied(_("You may not do this on this ticket."))
    if ticket.status not in spec.sources:
        raise InvalidTransition(_("This action is not possible while the ticket is %(state)s.",
                                  state=STATUS_LABELS[ticket.status]))
    blocked = refusal(spec, ticket)
    if blocked is not None:
        raise InvalidTransition(str(blocked))
    _require(spec, data)
    step = Step(ticket, actor, data, now_utc(), spec.target, reason=_text(data.get("reason")))
    from_status = ticket.status
    with db.session.no_autoflush:  # the row is consistent again only once the handler is done
        spec.handler(step)
        if step.target is not None:
            ticket.status = step.target
        _refresh_due(ticket, step.now)
    event = _write_event(ticket, name, actor, from_status, step.target, step.reason,
                         step.event_data, ip)
    _flush(ticket)
    for hook in AFTER_TRANSITION:
        hook(ticket, name, actor, data)
    audit.record(f"ticket.{name}", actor=actor, obj=ticket,
                 details={"reference": ticket.reference, "from": str(from_status),
                          "to": str(ticket.status)}, flush=not _BATCHED.get())
    logger.info("ticket %s: %s by %s (%s -> %s)", ticket.reference, name,
                _actor_name(actor), from_status, ticket.status)
    return event


def _require(spec: Action, data: dict[str, Any]) -> None:
    missing = [key for key in spec.required if data.get(key) in (None, "", [])
               or (isinstance(data.get(key), str) and not data[key].strip())]
    if missing:
        raise ValidationFailed(_("Please fill in: %(fields)s.", fields=_(", ").join(
            str(REQUIRED_LABELS.get(key, key)) for key in missing)))


#: True inside :func:`batched_transitions`: transitions leave the flush to the caller.
_BATCHED: ContextVar[bool] = ContextVar("batched_transitions", default=False)


@contextmanager
def batched_transitions():
    """Within the block, transitions are not flushed one by one: the caller flushes its batch
    in one go (a few multi-row statements instead of six round trips per ticket).

    Only for a caller holding row locks on its tickets (the SLA scan): nobody else can change
    them meanwhile, so the optimistic-lock check made at the flush cannot fail half-way.
    """
    token = _BATCHED.set(True)
    try:
        with db.session.no_autoflush:
            yield
    finally:
        _BATCHED.reset(token)


def _flush(ticket: Ticket) -> None:
    if _BATCHED.get():
        return
    try:
        db.session.flush()
    except StaleDataError as error:
        raise ConcurrentChange(ticket) from error


def _event_values(ticket, action, actor, from_status, to_status, reason, data, ip) -> dict:
    return {"ticket_id": ticket.id, "at": now_utc(), "actor_id": getattr(actor, "id", None),
            "actor_name": getattr(actor, "display_name", None),
            "actor_role": str(actor.role) if actor is not None else None,
            "action": action, "from_status": from_status, "to_status": to_status,
            "reason": reason, "data": data or {}, "ip": ip}


_INSERT_EVENT = sa.insert(TicketEvent.__table__)


def _write_event(ticket, action, actor, from_status, to_status, reason, data, ip) -> TicketEvent:
    event = TicketEvent(ticket=ticket, **_event_values(ticket, action, actor, from_status,
                                                       to_status, reason, data, ip))
    db.session.add(event)
    return event


def _refresh_due(ticket: Ticket, now: datetime) -> None:
    """Point ``due_at`` at the deadline of the current state and reset its SLA mark."""
    due = {
        S.SUBMITTED: ticket.intake_due_at,
        S.DISPATCHED: ticket.acknowledge_due_at,
        S.IN_PROGRESS: ticket.handle_due_at,
        S.RETURN_REQUESTED: ticket.handle_due_at,
        S.REPLIED: ticket.reply_review_due_at,
        S.FOLLOW_UP: ticket.follow_up_due_at,
    }.get(ticket.status)
    deadlines.mark_provisional(ticket)
    if due == ticket.due_at and ticket.sla_status is not None:
        return  # same deadline: keep the scan's mark
    ticket.due_at = due
    overdue = due is not None and now > due
    ticket.sla_status = SlaStatus.OVERDUE if overdue else SlaStatus.ON_TRACK


def _text(value) -> str | None:
    return value.strip() or None if isinstance(value, str) else None


def _actor_name(actor) -> str:
    return getattr(actor, "username", None) or "system"


def supply_information(ticket: Ticket, actor: User, text: str, **kwargs) -> TicketEvent:
    """The firm adds what was missing; a suspended ticket then resumes automatically."""
    event = transition(ticket, "supply_info", actor, text=text, **kwargs)
    if ticket.status == S.SUSPENDED:
        transition(ticket, "resume", None, reason=_(system_texts.FIRM_SUPPLIED),
                   ip=kwargs.get("ip"))
    return event


def perform(ticket: Ticket, name: str, actor: User | None, **kwargs) -> TicketEvent:
    """:func:`transition`, plus the automatic follow-on of supplying information."""
    if name == "supply_info":
        return supply_information(ticket, actor, kwargs.pop("text", ""), **kwargs)
    return transition(ticket, name, actor, **kwargs)


# -- comments ----------------------------------------------------------------------------------


def add_comment(ticket: Ticket, actor: User, body: str,
                visibility: CommentVisibility = CommentVisibility.INTERNAL) -> Comment:
    """A staff note on the timeline; only public ones reach the firm."""
    if not ticket.can_view(actor) or not actor.can(P.TICKET_COMMENT):
        raise PermissionDenied(_("You may not comment on this ticket."))
    if not (body or "").strip():
        raise ValidationFailed(_("Write something first."))
    comment = Comment(ticket_id=ticket.id, author_id=actor.id, body=body.strip(),
                      visibility=CommentVisibility(visibility), created_at=now_utc())
    db.session.add(comment)
    db.session.flush()
    audit.record("ticket.comment", actor=actor, obj=ticket,
                 details={"comment": comment.id, "visibility": str(comment.visibility)})
    return comment
