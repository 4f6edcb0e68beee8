"""Ticket verbs: create a ticket, and move it through DOMAIN §3.1 with :func:`transition`.

Services flush and never commit: the view or command that called them commits once, and the
notifications they queue go out only after that commit (:mod:`app.core.mail`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString
from sqlalchemy.orm.exc import StaleDataError

from app.auth.models import Unit, User
from app.core import audit, mail
from app.core.caches import memo
from app.core.clock import now_utc, to_local
from app.core.errors import DomainError, PermissionDenied, ValidationFailed
from app.core.permissions import Permission, Role
from app.db import insert_row
from app.extensions import db
from app.notifications.services import add_in_app, notify, notify_all
from app.sla.enums import SlaStatus, SlaStep
from app.tickets import deadlines, system_texts
from app.tickets.models import (
    FINISHED_STATES,
    Channel,
    ClosureKind,
    Comment,
    CommentVisibility,
    DemandType,
    ExtensionRequest,
    ExtensionStatus,
    ReplyApproval,
    ReplyApprovalStatus,
    ReturnRequest,
    ReturnStatus,
    ServiceMode,
    SupervisionOrder,
    Ticket,
    TicketAssistingUnit,
    TicketEvent,
    TicketReferenceCounter,
    TicketStatus,
    Urge,
    UrgeKind,
    Urgency,
    format_reference,
)
from app.tickets.workflow import ACTIONS, Action, ActorRule

logger = logging.getLogger("ruyi.tickets")

S = TicketStatus
P = Permission

#: "Unreachable after 3 attempts on different days" closes a follow-up without a rating.
#: DOMAIN §3.1 fixes the number (it is not marked [cfg]), so it is not an admin setting. The
#: reopen limit, the supervision order's answer time and the unit lead's reply approval are
#: policy: they live in :class:`app.sla.models.SlaSettings` (see :func:`workflow_settings`).
FOLLOW_UP_ATTEMPTS = 3


def workflow_settings():
    """The editable workflow rules (reopen limit, supervision days, reply approval)."""
    from app.sla.services import load_settings

    return load_settings()


class InvalidTransition(DomainError):
    """The action is not possible in the ticket's current state, or its data breaks a rule."""


#: Called after every transition with ``(ticket, action, actor, data)``, so other domains can
#: react (a 差评 opens a rectification) without the workflow knowing them.
AFTER_TRANSITION: list[Callable[..., None]] = []


class ConcurrentChange(DomainError):
    """Someone else changed the ticket since it was loaded (optimistic locking)."""

    def __init__(self, ticket: Ticket | None = None):
        super().__init__(_("This ticket was changed by someone else in the meantime. "
                           "Reload it and try again; your text has been kept."))
        self.ticket = ticket


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
                  is_complex: bool = False, ip: str | None = None) -> Ticket:
    """Record a new demand in ``submitted`` with its intake deadline (DOMAIN §3.1 *create*)."""
    if actor is not None and not actor.can(P.TICKET_CREATE):
        raise PermissionDenied(_("You may not create tickets."))
    if firm is None and actor is not None and actor.role == Role.FIRM_USER:
        firm = actor.firm  # a firm account speaks for its registry firm
    requester = requester or Requester()
    _check_contact(firm, requester)
    if not (title or "").strip() or not (description or "").strip():
        raise ValidationFailed(_("A ticket needs a title and a description of the demand."))
    now = now_utc()
    ticket = Ticket(
        channel=Channel(channel),
        service_mode=ServiceMode(service_mode), demand_type=DemandType(demand_type),
        urgency=Urgency(urgency), is_complex=bool(is_complex), category=category,
        title=title.strip(), description=description.strip(), firm=firm,
        requester_name=_blank_to_none(requester.name),
        requester_mobile=_blank_to_none(requester.mobile),
        requester_email=_blank_to_none(requester.email),
        requester_firm_name=_blank_to_none(requester.firm_name),
        requester_uscc=_blank_to_none(requester.uscc),
        created_by=actor, status=S.SUBMITTED, submitted_at=now,
    )
    ticket.intake_due_at = deadlines.for_ticket(ticket).due(SlaStep.INTAKE, now)
    _refresh_due(ticket, now)
    # Last before the insert: the counter's row lock is then held only for the inserts and
    # the commit, so concurrent submissions queue on it as briefly as possible.
    ticket.reference = next_reference(now)
    # Three plain inserts, no unit-of-work flush (it cost more CPU than the statements): the
    # ticket comes back with its id, nothing reads the event or the audit row back.
    insert_row(db.session, ticket)
    db.session.connection().execute(_INSERT_EVENT, _event_values(
        ticket, "create", actor, None, S.SUBMITTED, None,
        {"channel": str(ticket.channel), "intake_due_at": _iso(ticket.intake_due_at)}, ip))
    audit.append("ticket.create", actor=actor, obj=ticket,
                 details={"reference": ticket.reference})
    logger.info("ticket %s created by %s", ticket.reference, _actor_name(actor))
    return ticket


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


# -- authorization -----------------------------------------------------------------------------


def permission_for(spec: Action, ticket: Ticket) -> Permission:
    """The permission an action needs on this ticket (reopening past the limit escalates)."""
    if spec.name == "reopen" and ticket.reopen_count >= workflow_settings().reopen_limit:
        return P.TICKET_REOPEN_BEYOND_LIMIT
    if spec.name == "reply" and workflow_settings().reply_needs_unit_lead_approval:
        return P.TICKET_APPROVE_UNIT_REPLY  # a handler submits instead (submit_reply)
    return spec.permission


def actor_may(spec: Action, ticket: Ticket, actor: User | None) -> bool:
    """Permission plus the object rule of the action (without looking at the state)."""
    if actor is None:
        return spec.system_allowed
    if not ticket.can_view(actor) or not actor.can(permission_for(spec, ticket)):
        return False
    if spec.name == "submit_reply" and actor.can(P.TICKET_APPROVE_UNIT_REPLY):
        return False  # the unit lead's own reply needs no approval: they reply directly
    if spec.actor_rule == ActorRule.LEAD_UNIT:
        return ticket.is_lead_unit_member(actor)
    if spec.actor_rule == ActorRule.REQUESTER and not actor.can(P.TICKET_VIEW_ALL):
        return ticket.belongs_to_firm_user(actor)
    return True


def allowed_actions(ticket: Ticket, user: User | None) -> list[Action]:
    """The actions this user may take on this ticket now: what the UI offers, nothing more.

    The open extension request and a reply waiting for approval are read once, in one
    statement, for all the actions' checks.
    """
    token = _PENDING_MEMO.set({})
    try:
        return [spec for spec in ACTIONS.values()
                if ticket.status in spec.sources and actor_may(spec, ticket, user)
                and _precondition(spec.name, ticket) is None]
    finally:
        _PENDING_MEMO.reset(token)


#: Why an action cannot happen now: a lazy text, translated only if it is shown (the page
#: asks every offered action's precondition and shows none of the refusals).
Refusal = LazyString | None


def _precondition(name: str, ticket: Ticket) -> Refusal:
    """A data-free reason an action cannot happen now (shown as the error), or ``None``."""
    check = _PRECONDITIONS.get(name)
    return check(ticket) if check else None


# -- the one transition service ----------------------------------------------------------------


@dataclass
class Step:
    """What a handler needs and what it reports back for the event."""

    ticket: Ticket
    actor: User | None
    data: dict[str, Any]
    now: datetime
    target: TicketStatus | None
    reason: str | None = None
    event_data: dict[str, Any] = field(default_factory=dict)
    _sla: deadlines.TicketSla | None = None

    @property
    def sla(self) -> deadlines.TicketSla:
        """The ticket's SLA context, loaded on first use."""
        if self._sla is None:
            self._sla = deadlines.for_ticket(self.ticket)
        return self._sla


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
                                  state=ticket.status.value))
    blocked = _precondition(name, ticket)
    if blocked is not None:
        raise InvalidTransition(str(blocked))
    _require(spec, data)
    step = Step(ticket, actor, data, now_utc(), spec.target, reason=_text(data.get("reason")))
    from_status = ticket.status
    with db.session.no_autoflush:  # the row is consistent again only once the handler is done
        _HANDLERS[name](step)
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
        raise ValidationFailed(_("Please fill in: %(fields)s.", fields=", ".join(missing)))


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


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _actor_name(actor) -> str:
    return getattr(actor, "username", None) or "system"


def _met(step: Step, sla_step: SlaStep, due: datetime | None) -> dict[str, Any]:
    """Event data saying whether a completed step met its deadline, and by how much."""
    if due is None:
        return {}
    margin = step.sla.margin(sla_step, due, step.now)
    return {"due_at": _iso(due), "met": step.now <= due, "margin_seconds": round(margin)}


# -- intake ------------------------------------------------------------------------------------


def _answer_directly(step: Step) -> None:
    """马上办: the ticket becomes ``handle_now`` with its same-working-day deadline counted from
    submission (DOMAIN §3.2), so the 马上办率 and the ticket's own record say what happened."""
    t = step.ticket
    if t.service_mode != ServiceMode.HANDLE_NOW:
        t.service_mode = ServiceMode.HANDLE_NOW
        step._sla = None  # the policy is keyed by the service mode
    t.handle_due_at = step.sla.due(SlaStep.HANDLE, t.submitted_at or step.now)
    t.reply_text = step.data["answer"].strip()
    t.replied_at = t.reply_approved_at = step.now
    t.follow_up_due_at = step.sla.due(SlaStep.FOLLOW_UP, step.now)
    step.event_data = {**_met(step, SlaStep.INTAKE, t.intake_due_at), "answer": t.reply_text,
                       "handle_due_at": _iso(t.handle_due_at)}
    _notify_requester(t, _("Your request %(ref)s has been answered", ref=t.reference),
                      t.reply_text)


def _reject_intake(step: Step) -> None:
    step.ticket.rejected_at = step.now
    step.event_data = {"proper_channel": step.data["proper_channel"].strip()}
    _notify_requester(step.ticket, _("Your request %(ref)s was not accepted",
                                     ref=step.ticket.reference),
                      _("Reason: %(reason)s\nPlease turn to: %(channel)s",
                        reason=step.reason, channel=step.data["proper_channel"]))


def _merge(step: Step) -> None:
    t, target = step.ticket, step.data["target"]
    if not isinstance(target, Ticket) or target.id == t.id or target.status in FINISHED_STATES:
        raise InvalidTransition(_("Merge into another ticket that is still open."))
    t.merged_into = target
    step.event_data = {"target": target.reference}
    _notify_requester(t, _("Your request %(ref)s was merged", ref=t.reference),
                      _("It is handled together with %(other)s.", other=target.reference))


def _dispatch(step: Step) -> None:
    t, lead = step.ticket, step.data["lead_unit"]
    assisting = list(dict.fromkeys(step.data.get("assisting_units") or []))
    _check_units(lead, assisting)
    if "is_complex" in step.data:  # the dispatcher's call (DOMAIN §3); it selects the policy
        t.is_complex = bool(step.data["is_complex"])
        step._sla = None
    t.lead_unit = lead
    t.dispatched_at = step.now
    t.first_dispatched_at = t.first_dispatched_at or step.now
    t.acknowledged_at = t.assignee_id = None
    t.acknowledge_due_at = step.sla.due(SlaStep.ACKNOWLEDGE, step.now)
    t.return_window_ends_at = step.sla.due(SlaStep.RETURN_WINDOW, step.now)
    t.handle_due_at = step.sla.due(SlaStep.HANDLE, step.now)
    days = step.data.get("assisting_days")
    assisting_due = (step.sla.calendar.add_working_days(step.now, _positive_int(days))
                     if days else t.handle_due_at)
    t.assisting_units = [TicketAssistingUnit(unit=unit, due_at=assisting_due, added_at=step.now)
                         for unit in assisting]
    step.event_data = {
        **_met(step, SlaStep.INTAKE, t.intake_due_at), "lead_unit": lead.name,
        "assisting_units": [u.name for u in assisting],
        "acknowledge_due_at": _iso(t.acknowledge_due_at),
        "handle_due_at": _iso(t.handle_due_at),
    }
    _notify_units(t, [lead, *assisting], _("New ticket %(ref)s for your unit", ref=t.reference),
                  t.title)


def _check_units(lead, assisting) -> None:
    if not isinstance(lead, Unit) or not lead.is_active:
        raise ValidationFailed(_("Choose exactly one active lead unit."))
    if any(unit.id == lead.id for unit in assisting):
        raise ValidationFailed(_("The lead unit cannot also be an assisting unit."))
    if any(not unit.is_active for unit in assisting):
        raise ValidationFailed(_("Assisting units must be active."))


# -- handling ----------------------------------------------------------------------------------


def _acknowledge(step: Step) -> None:
    t = step.ticket
    t.acknowledged_at = step.now
    t.assignee = t.assignee or step.actor
    # A late acknowledge is recorded, never blocked (DOMAIN §3.1).
    step.event_data = _met(step, SlaStep.ACKNOWLEDGE, t.acknowledge_due_at)


def _request_return(step: Step) -> None:
    t = step.ticket
    suggested = step.data["suggested_unit"]
    if not isinstance(suggested, Unit) or suggested.id == t.lead_unit_id:
        raise ValidationFailed(_("Suggest another unit that should handle the ticket."))
    db.session.add(ReturnRequest(
        ticket=t, unit_id=t.lead_unit_id, reason=step.reason,
        legal_basis=step.data["legal_basis"].strip(), suggested_unit=suggested,
        previous_status=str(t.status), requested_by=step.actor, requested_at=step.now))
    step.event_data = {"legal_basis": step.data["legal_basis"].strip(),
                       "suggested_unit": suggested.name}


def _pending_return(ticket: Ticket) -> ReturnRequest | None:
    return db.session.scalar(sa.select(ReturnRequest).where(
        ReturnRequest.ticket_id == ticket.id, ReturnRequest.status == ReturnStatus.PENDING))


def _decide_return(step: Step, status: ReturnStatus) -> ReturnRequest:
    pending = _pending_return(step.ticket)
    if pending is None:
        raise InvalidTransition(_("There is no return request to decide."))
    pending.status, pending.decided_at = status, step.now
    pending.decided_by_id, pending.decision_reason = getattr(step.actor, "id", None), step.reason
    return pending


def _approve_return(step: Step) -> None:
    """改派: the misrouted time does not count; intake starts again, then a new dispatch."""
    t = step.ticket
    pending = _decide_return(step, ReturnStatus.APPROVED)
    t.returned_seconds += max(0, int((step.now - t.dispatched_at).total_seconds()))
    t.return_count += 1
    step.event_data = {"returned_by": pending.unit.name,
                       "suggested_unit": getattr(pending.suggested_unit, "name", None)}
    t.lead_unit = None
    t.lead_unit_id = t.dispatched_at = t.acknowledged_at = t.assignee_id = None
    t.assignee = None
    t.acknowledge_due_at = t.return_window_ends_at = t.handle_due_at = None
    t.assisting_units = []
    t.submitted_at = step.now
    t.intake_due_at = step.sla.due(SlaStep.INTAKE, step.now)


def _reject_return(step: Step) -> None:
    """首办负责: the unit keeps the ticket and the clock still runs from the original dispatch."""
    _decide_return(step, ReturnStatus.REJECTED)
    step.event_data = {"handle_due_at": _iso(step.ticket.handle_due_at)}
    _notify_units(step.ticket, [step.ticket.lead_unit],
                  _("Return of %(ref)s refused", ref=step.ticket.reference), step.reason)


def _suspend(step: Step) -> None:
    step.ticket.paused_at = step.now
    step.event_data = {"missing_info": step.data["missing_info"].strip(),
                       "contact_attempt": step.data["contact_attempt"].strip()}
    _notify_requester(step.ticket, _("Information needed for %(ref)s", ref=step.ticket.reference),
                      step.data["missing_info"])


def _resume(step: Step) -> None:
    """Suspended time does not count: every running deadline moves by the paused working time."""
    t = step.ticket
    paused_from = t.paused_at
    end_pause(t, step.now)
    t.handle_due_at = step.sla.after_pause(t.handle_due_at, SlaStep.HANDLE, paused_from, step.now)
    for row in t.assisting_units:
        row.due_at = step.sla.after_pause(row.due_at, SlaStep.HANDLE, paused_from, step.now)
    step.event_data = {"paused_from": _iso(paused_from), "handle_due_at": _iso(t.handle_due_at)}


def end_pause(ticket: Ticket, now: datetime) -> None:
    """Close a suspension, adding its length to ``paused_seconds``."""
    if ticket.paused_at is not None:
        ticket.paused_seconds += max(0, int((now - ticket.paused_at).total_seconds()))
        ticket.paused_at = None


# -- extensions --------------------------------------------------------------------------------


def open_extension(ticket: Ticket) -> ExtensionRequest | None:
    """The extension request still waiting for the unit lead or the supervisor."""
    return db.session.scalar(sa.select(ExtensionRequest).where(
        ExtensionRequest.ticket_id == ticket.id,
        ExtensionRequest.status.in_(OPEN_EXTENSION_STATES)))


OPEN_EXTENSION_STATES = (ExtensionStatus.AWAITING_ENDORSEMENT, ExtensionStatus.AWAITING_DECISION)

#: While :func:`allowed_actions` runs: ticket id → :func:`_pending` (one statement per page).
_PENDING_MEMO: ContextVar[dict | None] = ContextVar("pending_requests_memo", default=None)


def _pending(ticket: Ticket) -> tuple[ExtensionStatus | None, bool]:
    """The state of the open extension request (or ``None``) and whether a reply waits for the
    unit lead: what the preconditions ask, in one statement (remembered in allowed_actions)."""
    memo = _PENDING_MEMO.get()
    if memo is not None and ticket.id in memo:
        return memo[ticket.id]
    status, waiting = db.session.execute(_pending_statement(), {"ticket_id": ticket.id}).one()
    value = (ExtensionStatus(status) if status else None, bool(waiting))
    if memo is not None:
        memo[ticket.id] = value
    return value


@memo("tickets.pending_statement")
def _pending_statement() -> sa.Select:
    """:func:`_pending`'s statement, with the parameter ``ticket_id``: built once, as building
    it and its cache key cost more than running it (every ticket page asks)."""
    ticket_id = sa.bindparam("ticket_id")
    extension = (sa.select(ExtensionRequest.status)
                 .where(ExtensionRequest.ticket_id == ticket_id,
                        ExtensionRequest.status.in_(OPEN_EXTENSION_STATES))
                 .limit(1).scalar_subquery())
    reply = sa.exists().where(ReplyApproval.ticket_id == ticket_id,
                              ReplyApproval.status == ReplyApprovalStatus.PENDING)
    return sa.select(extension, reply)


def _request_extension(step: Step) -> None:
    t, settings = step.ticket, step.sla.settings
    days = _positive_int(step.data["days"])
    if open_extension(t) is not None:
        raise InvalidTransition(_("An extension request is already waiting for a decision."))
    if t.extension_count >= settings.extension_max_requests:
        raise InvalidTransition(_("At most %(n)d extension requests are allowed.",
                                  n=settings.extension_max_requests))
    if t.extension_days + days > settings.extension_max_total_days:
        raise InvalidTransition(_("Extensions may add at most %(n)d working days in total.",
                                  n=settings.extension_max_total_days))
    lead = settings.extension_request_lead_days
    if step.sla.working_days_left(step.now, t.handle_due_at) < lead:
        raise InvalidTransition(_("An extension must be requested at least %(n)d working "
                                  "day(s) before the deadline.", n=lead))
    endorsed = step.actor.can(P.TICKET_ENDORSE_EXTENSION)
    request_row = ExtensionRequest(
        ticket=t, days=days, reason=step.reason, current_due_at=t.handle_due_at,
        proposed_due_at=step.sla.extended(t.handle_due_at, days), requested_by=step.actor,
        requested_at=step.now,
        status=ExtensionStatus.AWAITING_DECISION if endorsed
        else ExtensionStatus.AWAITING_ENDORSEMENT,
        endorsed_by_id=step.actor.id if endorsed else None,
        endorsed_at=step.now if endorsed else None)
    db.session.add(request_row)
    t.extension_count += 1
    step.event_data = {"days": days, "proposed_due_at": _iso(request_row.proposed_due_at),
                       "endorsed": endorsed}


def _positive_int(value) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        number = 0
    if number <= 0:
        raise ValidationFailed(_("Enter a whole number of working days greater than zero."))
    return number


def _open_extension_in(step: Step, status: ExtensionStatus) -> ExtensionRequest:
    row = open_extension(step.ticket)
    if row is None or row.status != status:
        raise InvalidTransition(_("There is no extension request waiting for this decision."))
    return row


def _endorse_extension(step: Step) -> None:
    row = _open_extension_in(step, ExtensionStatus.AWAITING_ENDORSEMENT)
    row.status, row.endorsed_by_id, row.endorsed_at = (ExtensionStatus.AWAITING_DECISION,
                                                       step.actor.id, step.now)
    step.event_data = {"extension_request": row.id, "days": row.days}


def _decline_extension(step: Step) -> None:
    row = _open_extension_in(step, ExtensionStatus.AWAITING_ENDORSEMENT)
    _close_extension(step, row, ExtensionStatus.REJECTED)


def _approve_extension(step: Step) -> None:
    t = step.ticket
    row = _open_extension_in(step, ExtensionStatus.AWAITING_DECISION)
    _close_extension(step, row, ExtensionStatus.APPROVED)
    previous = t.handle_due_at
    t.handle_due_at = step.sla.extended(t.handle_due_at, row.days)
    t.extension_days += row.days
    step.event_data.update({"previous_due_at": _iso(previous),
                            "handle_due_at": _iso(t.handle_due_at)})
    _notify_requester(t, _("The deadline of %(ref)s was extended", ref=t.reference),
                      _("New deadline: %(at)s", at=_local_text(t.handle_due_at)))


def _reject_extension(step: Step) -> None:
    row = open_extension(step.ticket)
    if row is None:
        raise InvalidTransition(_("There is no extension request waiting for this decision."))
    _close_extension(step, row, ExtensionStatus.REJECTED)


def _close_extension(step: Step, row: ExtensionRequest, status: ExtensionStatus) -> None:
    row.status, row.decided_at = status, step.now
    row.decided_by_id, row.decision_reason = step.actor.id, step.reason
    step.event_data = {"extension_request": row.id, "days": row.days, "decision": str(status)}
    _notify_assignee(step.ticket, _("Extension of %(ref)s: %(decision)s",
                                    ref=step.ticket.reference, decision=str(status)),
                     step.reason or "")


# -- reply, follow-up, closing -----------------------------------------------------------------


def _reply(step: Step) -> None:
    _record_reply(step, step.data["text"].strip())


def _record_reply(step: Step, text: str) -> None:
    t = step.ticket
    t.reply_text = text
    t.replied_at = step.now
    t.reply_review_due_at = step.sla.due(SlaStep.REPLY_REVIEW, step.now)
    step.event_data = {**_met(step, SlaStep.HANDLE, t.handle_due_at), "text": t.reply_text}


def pending_reply_approval(ticket: Ticket) -> ReplyApproval | None:
    """The handler's reply waiting for the unit lead, if any."""
    return db.session.scalar(sa.select(ReplyApproval).where(
        ReplyApproval.ticket_id == ticket.id,
        ReplyApproval.status == ReplyApprovalStatus.PENDING))


def _submit_reply(step: Step) -> None:
    """Where policy says so the unit lead approves the reply first; the clock keeps running."""
    t, text = step.ticket, step.data["text"].strip()
    db.session.add(ReplyApproval(ticket=t, text=text, requested_by_id=step.actor.id,
                                 requested_at=step.now))
    step.event_data = {"text": text}
    leads = [u for u in _unit_members([t.lead_unit]) if u.can(P.TICKET_APPROVE_UNIT_REPLY)]
    notify_all(leads, _("Reply to %(ref)s awaits your approval", ref=t.reference), text,
               _ticket_link(t), ticket=t.reference)


def _decide_reply_approval(step: Step, status: ReplyApprovalStatus) -> ReplyApproval:
    row = pending_reply_approval(step.ticket)
    if row is None:  # pragma: no cover - the precondition refuses first
        raise InvalidTransition(_("There is no reply waiting for approval."))
    row.status, row.decided_at = status, step.now
    row.decided_by_id, row.decision_reason = step.actor.id, step.reason
    return row


def _approve_unit_reply(step: Step) -> None:
    row = _decide_reply_approval(step, ReplyApprovalStatus.APPROVED)
    _record_reply(step, row.text)
    step.event_data["submitted_by"] = row.requested_by_id


def _return_unit_reply(step: Step) -> None:
    row = _decide_reply_approval(step, ReplyApprovalStatus.RETURNED)
    step.event_data = {"text": row.text}
    notify(row.requested_by, _("Reply to %(ref)s returned by the unit lead",
                               ref=step.ticket.reference), step.reason or "",
           _ticket_link(step.ticket), ticket=step.ticket.reference)


def _approve_reply(step: Step) -> None:
    t = step.ticket
    t.reply_approved_at = step.now
    t.follow_up_due_at = step.sla.due(SlaStep.FOLLOW_UP, step.now)
    step.event_data = _met(step, SlaStep.REPLY_REVIEW, t.reply_review_due_at)
    _notify_requester(t, _("Reply to your request %(ref)s", ref=t.reference), t.reply_text or "")


def _send_back(step: Step) -> None:
    step.event_data = {"handle_due_at": _iso(step.ticket.handle_due_at)}
    _notify_assignee(step.ticket, _("Reply to %(ref)s sent back", ref=step.ticket.reference),
                     step.reason or "")


def _close(step: Step, kind: ClosureKind, level: int | None = None) -> None:
    t = step.ticket
    t.closed_at, t.closure_kind = step.now, kind
    if level is not None:
        t.rating_level = level
    step.event_data = {**_met(step, SlaStep.FOLLOW_UP, t.follow_up_due_at),
                       "closure": str(kind), **({"level": level} if level else {})}


def _rating_level(value) -> int:
    try:
        level = int(value)
    except (TypeError, ValueError):
        level = 0
    if not 1 <= level <= 5:
        raise ValidationFailed(_("Choose one of the five rating levels."))
    return level


def _rate(step: Step) -> None:
    if step.ticket.rating_level is not None:
        raise InvalidTransition(_("This ticket has already been rated."))
    _close(step, ClosureKind.RATED, _rating_level(step.data["level"]))


def _log_follow_up_attempt(step: Step) -> None:
    step.reason = step.data["note"].strip()
    step.event_data = {"local_day": to_local(step.now).date().isoformat()}


def _record_follow_up(step: Step) -> None:
    outcome = step.data["outcome"]
    if outcome == "unreachable":
        days = _attempt_days(step.ticket)
        if len(days) < FOLLOW_UP_ATTEMPTS:
            raise InvalidTransition(_("Unreachable needs %(n)d call attempts on different days "
                                      "(%(done)d so far).", n=FOLLOW_UP_ATTEMPTS, done=len(days)))
        _close(step, ClosureKind.UNREACHABLE)
        return
    if step.ticket.rating_level is not None:
        _close(step, ClosureKind.FOLLOWED_UP)
        return
    _close(step, ClosureKind.FOLLOWED_UP, _rating_level(step.data.get("level")))


def _attempt_days(ticket: Ticket) -> set[str]:
    """Local days with a logged follow-up attempt since the reply was approved."""
    since = ticket.reply_approved_at or ticket.replied_at
    rows = db.session.scalars(sa.select(TicketEvent.at).where(
        TicketEvent.ticket_id == ticket.id, TicketEvent.action == "log_follow_up_attempt",
        TicketEvent.at >= since))
    return {to_local(at).date().isoformat() for at in rows}


def _reopen(step: Step) -> None:
    t = step.ticket
    t.reopen_count += 1
    t.final_reply_signed_at = t.final_reply_signed_by_id = None
    t.closed_at = t.closure_kind = None
    if t.lead_unit_id is None:
        # Answered directly at intake: back to the dispatcher rather than to nobody.
        step.target = S.SUBMITTED
        t.submitted_at = step.now
        t.intake_due_at = step.sla.due(SlaStep.INTAKE, step.now)
        t.handle_due_at = None  # the 马上办 deadline was met or missed; dispatch sets a new one
    else:
        t.handle_due_at = step.sla.due(SlaStep.HANDLE, step.now)
    step.event_data = {"reopen_count": t.reopen_count, "handle_due_at": _iso(t.handle_due_at)}
    if t.lead_unit is not None:
        _notify_units(t, [t.lead_unit], _("Ticket %(ref)s reopened", ref=t.reference),
                      step.reason or "")


def _sign_final_reply(step: Step) -> None:
    t = step.ticket
    t.final_reply_text = step.data["text"].strip()
    t.final_reply_signed_at, t.final_reply_signed_by_id = step.now, step.actor.id
    step.event_data = {"text": t.final_reply_text}


def _final_reply(step: Step) -> None:
    t = step.ticket
    _close(step, ClosureKind.FINAL_REPLY)
    step.event_data["signed_by"] = t.final_reply_signed_by_id
    _notify_requester(t, _("Final reply to your request %(ref)s", ref=t.reference),
                      t.final_reply_text or "")


def _withdraw(step: Step) -> None:
    end_pause(step.ticket, step.now)
    step.ticket.withdrawn_at = step.now
    if step.ticket.lead_unit is not None:
        _notify_units(step.ticket, [step.ticket.lead_unit],
                      _("Ticket %(ref)s withdrawn", ref=step.ticket.reference), step.reason)


# -- urge, supervise, supply information -------------------------------------------------------


def _urge(step: Step) -> None:
    t = step.ticket
    db.session.add(Urge(ticket=t, kind=UrgeKind.MANUAL if step.actor else UrgeKind.AUTO,
                        unit_id=t.lead_unit_id, urged_by_id=getattr(step.actor, "id", None),
                        at=step.now, due_at=t.due_at, message=step.reason,
                        dedupe_key=step.data.get("dedupe_key") or _auto_key(step, "urge")))
    t.urge_count += 1
    step.event_data = {"due_at": _iso(t.due_at)}
    _notify_assignee(t, _("Reminder: ticket %(ref)s is due %(at)s", ref=t.reference,
                          at=_local_text(t.due_at)), step.reason or t.title)


def _auto_key(step: Step, kind: str) -> str | None:
    """One automatic urge or order per deadline of a ticket: the scan may run many times."""
    if step.actor is not None:
        return None
    return f"{kind}:{step.ticket.id}:{step.ticket.status}:{_iso(step.ticket.due_at)}"


def _supervise(step: Step) -> None:
    t = step.ticket
    due = step.data.get("due_at") or step.sla.calendar.add_working_days(
        step.now, int(step.data.get("days") or workflow_settings().supervision_order_days))
    db.session.add(SupervisionOrder(
        ticket=t, unit_id=t.lead_unit_id, reason=step.reason, due_at=due,
        is_automatic=step.actor is None, created_by_id=getattr(step.actor, "id", None),
        created_at=step.now,
        dedupe_key=step.data.get("dedupe_key") or _auto_key(step, "supervise")))
    t.is_supervised = True
    step.event_data = {"due_at": _iso(due)}
    _notify_assignee(t, _("Supervision order on ticket %(ref)s", ref=t.reference),
                     _("%(reason)s\nAnswer by %(at)s", reason=step.reason, at=_local_text(due)))


def _supply_info(step: Step) -> None:
    step.reason = None
    comment = Comment(ticket_id=step.ticket.id, author_id=step.actor.id,
                      visibility=CommentVisibility.PUBLIC, body=step.data["text"].strip(),
                      created_at=step.now)
    db.session.add(comment)
    step.event_data = {"text": comment.body}


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


# -- notifications -----------------------------------------------------------------------------


def _local_text(value: datetime | None) -> str:
    return to_local(value).strftime("%Y-%m-%d %H:%M") if value else "-"


def _unit_members(units) -> list[User]:
    ids = [u.id for u in units if u is not None]
    if not ids:
        return []
    return list(db.session.scalars(sa.select(User).where(
        User.unit_id.in_(ids), User.is_active.is_(True),
        User.role.in_([Role.HANDLER, Role.UNIT_LEAD]))))


def _ticket_link(ticket: Ticket) -> str:
    return f"/tickets/{ticket.reference}"


def _notify_units(ticket: Ticket, units, subject: str, body: str | None) -> None:
    notify_all(_unit_members(units), subject, body or "", _ticket_link(ticket),
               ticket=ticket.reference)


def _notify_assignee(ticket: Ticket, subject: str, body: str) -> None:
    if ticket.assignee is not None:
        notify(ticket.assignee, subject, body, _ticket_link(ticket), ticket=ticket.reference)
    else:
        _notify_units(ticket, [ticket.lead_unit], subject, body)


def _notify_requester(ticket: Ticket, subject: str, body: str | None) -> None:
    firm_user = ticket.created_by
    if firm_user is not None and firm_user.role == Role.FIRM_USER:
        add_in_app(firm_user, subject, body or "", _ticket_link(ticket))
    address = ticket.requester_email or getattr(ticket.created_by, "email", None)
    mail.queue(address, subject, body or "", ticket=ticket.reference)


# -- the table's handlers and preconditions ----------------------------------------------------

_HANDLERS: dict[str, Callable[[Step], None]] = {
    "answer_directly": _answer_directly, "reject_intake": _reject_intake, "merge": _merge,
    "dispatch": _dispatch, "acknowledge": _acknowledge, "request_return": _request_return,
    "approve_return": _approve_return, "reject_return": _reject_return, "suspend": _suspend,
    "resume": _resume, "request_extension": _request_extension,
    "endorse_extension": _endorse_extension, "decline_extension": _decline_extension,
    "approve_extension": _approve_extension, "reject_extension": _reject_extension,
    "reply": _reply, "submit_reply": _submit_reply, "approve_unit_reply": _approve_unit_reply,
    "return_unit_reply": _return_unit_reply, "approve_reply": _approve_reply,
    "send_back": _send_back, "rate": _rate,
    "log_follow_up_attempt": _log_follow_up_attempt, "record_follow_up": _record_follow_up,
    "reopen": _reopen, "sign_final_reply": _sign_final_reply, "final_reply": _final_reply,
    "withdraw": _withdraw, "reopen_closed": _reopen, "urge": _urge, "supervise": _supervise,
    "supply_info": _supply_info,
}


def _needs_open_extension(*states: ExtensionStatus) -> Callable[[Ticket], Refusal]:
    def check(ticket: Ticket) -> Refusal:
        if _pending(ticket)[0] not in states:
            return _l("There is no extension request waiting for this decision.")
        return None
    return check


def _no_open_extension(ticket: Ticket) -> Refusal:
    if _pending(ticket)[0] is not None:
        return _l("An extension request is already waiting for a decision.")
    return None


def _return_window_open(ticket: Ticket) -> Refusal:
    ends = ticket.return_window_ends_at
    if ends is not None and now_utc() > ends:
        return _l("The return window closed on %(at)s; the unit must handle this ticket "
                  "(首办负责).", at=_local_text(ends))
    return None


def _extension_possible(ticket: Ticket) -> Refusal:
    blocked = _no_open_extension(ticket)
    if blocked is not None or ticket.handle_due_at is None:
        return blocked
    sla = deadlines.for_ticket(ticket)
    lead = sla.settings.extension_request_lead_days
    if sla.working_days_left(now_utc(), ticket.handle_due_at) < lead:
        return _l("An extension must be requested at least %(n)d working day(s) before the "
                  "deadline.", n=lead)
    return None


def _needs_signed_final_reply(ticket: Ticket) -> Refusal:
    if ticket.final_reply_signed_at is None:
        return _l("The unit lead must sign a final reply first.")
    return None


def _no_pending_reply(ticket: Ticket) -> Refusal:
    if _pending(ticket)[1]:
        return _l("A reply is waiting for the unit lead's approval.")
    return None


def _reply_approval_required(ticket: Ticket) -> Refusal:
    if not workflow_settings().reply_needs_unit_lead_approval:
        return _l("Replies do not need the unit lead's approval: reply directly.")
    return _no_pending_reply(ticket)


def _reply_awaiting_approval(ticket: Ticket) -> Refusal:
    if not _pending(ticket)[1]:
        return _l("There is no reply waiting for approval.")
    return None


def _not_rated(ticket: Ticket) -> Refusal:
    return _l("This ticket has already been rated.") if ticket.rating_level is not None else None


_PRECONDITIONS: dict[str, Callable[[Ticket], Refusal]] = {
    "request_return": _return_window_open,
    "request_extension": _extension_possible,
    "endorse_extension": _needs_open_extension(ExtensionStatus.AWAITING_ENDORSEMENT),
    "decline_extension": _needs_open_extension(ExtensionStatus.AWAITING_ENDORSEMENT),
    "approve_extension": _needs_open_extension(ExtensionStatus.AWAITING_DECISION),
    "reject_extension": _needs_open_extension(ExtensionStatus.AWAITING_ENDORSEMENT,
                                              ExtensionStatus.AWAITING_DECISION),
    "final_reply": _needs_signed_final_reply,
    "rate": _not_rated,
    "reply": _no_pending_reply,
    "submit_reply": _reply_approval_required,
    "approve_unit_reply": _reply_awaiting_approval,
    "return_unit_reply": _reply_awaiting_approval,
}
