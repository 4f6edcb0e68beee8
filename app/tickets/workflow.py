"""DOMAIN §3.1 as data: every action, the states it may start from, where it leads, who may do
it, what must hold before it, and the handler that does it.

:func:`app.tickets.services.transition` is the only code that changes a ticket's state, and it
reads this table. The UI offers exactly the actions :func:`allowed_actions` returns: the state,
the permission and object rule (:func:`actor_may`) and the precondition of each row. The
preconditions are the rules a ticket must meet without any data of the action — the 退单 return
window, one open extension request at a time, the signed final reply, the unit lead's approval
of a reply — and are named functions below, above the table that refers to them. Rules that need
the action's data (the extension limits, the follow-up attempts) are checked by its handler
(:mod:`app.tickets.handlers`); the editable policy (reopen limit, reply approval, supervision
days) is :func:`workflow_settings`.
"""

from __future__ import annotations

from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass, field

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString

from app.auth.models import User
from app.core.caches import memo
from app.core.clock import now_utc
from app.core.permissions import Permission
from app.extensions import db
from app.tickets import deadlines, handlers
from app.tickets.deadlines import local_text
from app.tickets.handlers import OPEN_EXTENSION_STATES
from app.tickets.models import (
    ExtensionRequest,
    ExtensionStatus,
    ReplyApproval,
    ReplyApprovalStatus,
    Ticket,
)
from app.tickets.models.enums import FINISHED_STATES, TicketStatus

S = TicketStatus
P = Permission

#: Every state in which something is still expected of someone.
OPEN_STATES = frozenset(TicketStatus) - FINISHED_STATES


#: Why an action cannot happen now: a lazy text, translated only if it is shown (the page
#: asks every offered action's precondition and shows none of the refusals).
Refusal = LazyString | None


def workflow_settings():
    """The editable workflow rules (reopen limit, supervision days, reply approval)."""
    from app.sla.services import load_settings

    return load_settings()


class ActorRule:
    """Object-level conditions on the actor, beyond holding the permission."""

    #: Any actor holding the permission (and able to see the ticket).
    ANY = "any"
    #: A member of the ticket's lead unit (承办人 of the unit that holds it).
    LEAD_UNIT = "lead_unit"
    #: The requesting firm's own user; staff holding the permission act on its behalf.
    REQUESTER = "requester"


#: The label of each piece of an action's required data, as its dialog names the field: a
#: refusal names what is missing in the reader's words, never by its key.
REQUIRED_LABELS = {
    "answer": _l("Answer given to the requester"), "reason": _l("Reason"),
    "proper_channel": _l("Proper channel told to the requester"),
    "target": _l("Reference of the ticket to merge into"), "lead_unit": _l("Lead unit"),
    "legal_basis": _l("Legal basis"), "suggested_unit": _l("Suggested unit"),
    "missing_info": _l("What is missing"),
    "contact_attempt": _l("Contact attempt (when, how, with whom)"),
    "days": _l("Working days"), "text": _l("Text"), "level": _l("Rating"), "note": _l("Note"),
    "outcome": _l("Outcome"),
}


@dataclass(frozen=True)
class Action:
    """One row of the transition table."""

    name: str
    label: object
    sources: frozenset[TicketStatus]
    #: The next state, or ``None`` when the action leaves the state unchanged.
    target: TicketStatus | None
    permission: Permission
    actor_rule: str = ActorRule.ANY
    #: Data the actor must give (non-blank), by keyword of :func:`transition`.
    required: tuple[str, ...] = ()
    #: The SLA scan and automatic rules may perform it without a user.
    system_allowed: bool = False
    #: Shown as a destructive action (confirmation asked).
    is_destructive: bool = False
    #: Tags for the UI: which dialog collects the data.
    form: str = field(default="reason")
    #: What the action does beyond the state: sets columns, writes rows, tells people.
    handler: Callable[[handlers.Step], None] | None = None
    #: A rule the ticket must meet, data aside: the reason it cannot happen now, or ``None``.
    precondition: Callable[[Ticket], Refusal] | None = None


# -- preconditions: what must hold, whatever the data ----------------------------------------


#: While :func:`allowed_actions` runs: ticket id → :func:`_pending` (one statement per page).
_PENDING_MEMO: ContextVar[dict | None] = ContextVar("pending_requests_memo", default=None)


def _pending(ticket: Ticket) -> tuple[ExtensionStatus | None, bool]:
    """The state of the open extension request (or ``None``) and whether a reply waits for the
    unit lead: what the preconditions ask, in one statement (remembered in allowed_actions)."""
    remembered = _PENDING_MEMO.get()
    if remembered is not None and ticket.id in remembered:
        return remembered[ticket.id]
    status, waiting = db.session.execute(_pending_statement(), {"ticket_id": ticket.id}).one()
    value = (ExtensionStatus(status) if status else None, bool(waiting))
    if remembered is not None:
        remembered[ticket.id] = value
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


def _needs_open_extension(*states: ExtensionStatus) -> Callable[[Ticket], Refusal]:
    def check(ticket: Ticket) -> Refusal:
        if _pending(ticket)[0] not in states:
            return _l("There is no extension request waiting for this decision.")
        return None
    return check


_extension_awaits_endorsement = _needs_open_extension(ExtensionStatus.AWAITING_ENDORSEMENT)
_extension_awaits_approval = _needs_open_extension(ExtensionStatus.AWAITING_DECISION)
_extension_awaits_a_decision = _needs_open_extension(ExtensionStatus.AWAITING_ENDORSEMENT,
                                                     ExtensionStatus.AWAITING_DECISION)


def _no_open_extension(ticket: Ticket) -> Refusal:
    if _pending(ticket)[0] is not None:
        return _l("An extension request is already waiting for a decision.")
    return None


def _return_window_open(ticket: Ticket) -> Refusal:
    """退单: a unit may ask to return a misrouted ticket only within the return window after
    dispatch (DOMAIN §3.1); after it, the unit handles the ticket itself (首办负责)."""
    ends = ticket.return_window_ends_at
    if ends is not None and now_utc() > ends:
        return _l("The return window closed on %(at)s; the unit must handle this ticket "
                  "(首办负责).", at=local_text(ends))
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


# -- the table ---------------------------------------------------------------------------------


def _a(name, label, sources, target, permission, **kwargs) -> Action:
    return Action(name, label, frozenset(sources), target, permission, **kwargs)


ACTIONS: dict[str, Action] = {a.name: a for a in (
    _a("answer_directly", _l("Answer directly (handle now)"), {S.SUBMITTED}, S.FOLLOW_UP,
       P.TICKET_INTAKE, required=("answer",), form="answer",
       handler=handlers.answer_directly),
    _a("reject_intake", _l("Do not accept"), {S.SUBMITTED}, S.REJECTED, P.TICKET_INTAKE,
       required=("reason", "proper_channel"), is_destructive=True, form="reject_intake",
       handler=handlers.reject_intake),
    _a("merge", _l("Merge into another ticket"), {S.SUBMITTED}, S.MERGED, P.TICKET_INTAKE,
       required=("target",), is_destructive=True, form="merge",
       handler=handlers.merge),
    _a("dispatch", _l("Dispatch"), {S.SUBMITTED}, S.DISPATCHED, P.TICKET_DISPATCH,
       required=("lead_unit",), form="dispatch",
       handler=handlers.dispatch),
    _a("acknowledge", _l("Acknowledge"), {S.DISPATCHED}, S.IN_PROGRESS, P.TICKET_HANDLE,
       actor_rule=ActorRule.LEAD_UNIT, form="none",
       handler=handlers.acknowledge),
    _a("request_return", _l("Request return"), {S.DISPATCHED, S.IN_PROGRESS},
       S.RETURN_REQUESTED, P.TICKET_HANDLE, actor_rule=ActorRule.LEAD_UNIT,
       required=("reason", "legal_basis", "suggested_unit"), form="return",
       handler=handlers.request_return, precondition=_return_window_open),
    _a("approve_return", _l("Approve return (re-dispatch)"), {S.RETURN_REQUESTED}, S.SUBMITTED,
       P.TICKET_DISPATCH, form="reason_optional",
       handler=handlers.approve_return),
    _a("reject_return", _l("Reject return"), {S.RETURN_REQUESTED}, S.IN_PROGRESS,
       P.TICKET_DISPATCH, required=("reason",),
       handler=handlers.reject_return),
    _a("suspend", _l("Suspend (awaiting the firm)"), {S.IN_PROGRESS}, S.SUSPENDED,
       P.TICKET_HANDLE, actor_rule=ActorRule.LEAD_UNIT,
       required=("missing_info", "contact_attempt"), form="suspend",
       handler=handlers.suspend),
    _a("resume", _l("Resume"), {S.SUSPENDED}, S.IN_PROGRESS, P.TICKET_HANDLE,
       actor_rule=ActorRule.LEAD_UNIT, system_allowed=True, form="reason_optional",
       handler=handlers.resume),
    _a("request_extension", _l("Request an extension"), {S.IN_PROGRESS}, None, P.TICKET_HANDLE,
       actor_rule=ActorRule.LEAD_UNIT, required=("days", "reason"), form="extension",
       handler=handlers.request_extension, precondition=_extension_possible),
    _a("endorse_extension", _l("Endorse the extension request"), {S.IN_PROGRESS}, None,
       P.TICKET_ENDORSE_EXTENSION, actor_rule=ActorRule.LEAD_UNIT, form="reason_optional",
       handler=handlers.endorse_extension, precondition=_extension_awaits_endorsement),
    _a("decline_extension", _l("Decline the extension request"), {S.IN_PROGRESS}, None,
       P.TICKET_ENDORSE_EXTENSION, actor_rule=ActorRule.LEAD_UNIT, required=("reason",),
       handler=handlers.decline_extension, precondition=_extension_awaits_endorsement),
    _a("approve_extension", _l("Approve the extension"), {S.IN_PROGRESS}, None,
       P.TICKET_DECIDE_EXTENSION, form="reason_optional",
       handler=handlers.approve_extension, precondition=_extension_awaits_approval),
    _a("reject_extension", _l("Reject the extension"), {S.IN_PROGRESS}, None,
       P.TICKET_DECIDE_EXTENSION, required=("reason",),
       handler=handlers.reject_extension, precondition=_extension_awaits_a_decision),
    _a("reply", _l("Reply"), {S.IN_PROGRESS}, S.REPLIED, P.TICKET_HANDLE,
       actor_rule=ActorRule.LEAD_UNIT, required=("text",), form="reply",
       handler=handlers.reply, precondition=_no_pending_reply),
    # Where policy makes the unit lead approve replies (DOMAIN §3.1 [cfg]): the handler submits,
    # the lead approves (→ replied) or returns it; the lead's own reply needs no second step.
    _a("submit_reply", _l("Submit the reply for the unit lead's approval"), {S.IN_PROGRESS},
       None, P.TICKET_HANDLE, actor_rule=ActorRule.LEAD_UNIT, required=("text",), form="reply",
       handler=handlers.submit_reply, precondition=_reply_approval_required),
    _a("approve_unit_reply", _l("Approve the unit's reply"), {S.IN_PROGRESS}, S.REPLIED,
       P.TICKET_APPROVE_UNIT_REPLY, actor_rule=ActorRule.LEAD_UNIT, form="none",
       handler=handlers.approve_unit_reply, precondition=_reply_awaiting_approval),
    _a("return_unit_reply", _l("Return the reply to the handler"), {S.IN_PROGRESS}, None,
       P.TICKET_APPROVE_UNIT_REPLY, actor_rule=ActorRule.LEAD_UNIT, required=("reason",),
       handler=handlers.return_unit_reply, precondition=_reply_awaiting_approval),
    _a("approve_reply", _l("Approve the reply"), {S.REPLIED}, S.FOLLOW_UP,
       P.TICKET_APPROVE_REPLY, form="none",
       handler=handlers.approve_reply),
    _a("send_back", _l("Send back for rework"), {S.REPLIED}, S.IN_PROGRESS,
       P.TICKET_APPROVE_REPLY, required=("reason",),
       handler=handlers.send_back),
    _a("rate", _l("Rate the service"), {S.FOLLOW_UP}, S.CLOSED, P.TICKET_RATE,
       actor_rule=ActorRule.REQUESTER, required=("level",), form="rate",
       handler=handlers.rate, precondition=_not_rated),
    _a("log_follow_up_attempt", _l("Log a follow-up call attempt"), {S.FOLLOW_UP}, None,
       P.TICKET_FOLLOW_UP, required=("note",), form="note",
       handler=handlers.log_follow_up_attempt),
    _a("record_follow_up", _l("Record the follow-up"), {S.FOLLOW_UP}, S.CLOSED,
       P.TICKET_FOLLOW_UP, required=("outcome",), form="follow_up",
       handler=handlers.record_follow_up),
    _a("reopen", _l("Reopen"), {S.FOLLOW_UP}, S.IN_PROGRESS, P.TICKET_REOPEN,
       required=("reason",),
       handler=handlers.reopen),
    _a("sign_final_reply", _l("Sign a final reply"), {S.IN_PROGRESS, S.FOLLOW_UP}, None,
       P.TICKET_SIGN_FINAL_REPLY, actor_rule=ActorRule.LEAD_UNIT, required=("text",),
       form="reply",
       handler=handlers.sign_final_reply),
    _a("final_reply", _l("Approve the final reply"), {S.IN_PROGRESS, S.FOLLOW_UP}, S.CLOSED,
       P.TICKET_APPROVE_FINAL_REPLY, form="none",
       handler=handlers.final_reply, precondition=_needs_signed_final_reply),
    _a("withdraw", _l("Withdraw"), OPEN_STATES, S.WITHDRAWN, P.TICKET_WITHDRAW,
       actor_rule=ActorRule.REQUESTER, required=("reason",), is_destructive=True,
       handler=handlers.withdraw),
    _a("reopen_closed", _l("Reopen the closed ticket"), {S.CLOSED}, S.IN_PROGRESS,
       P.TICKET_REOPEN_CLOSED, required=("reason",),
       handler=handlers.reopen),
    _a("urge", _l("Urge"), OPEN_STATES, None, P.TICKET_URGE, system_allowed=True,
       form="reason_optional",
       handler=handlers.urge),
    _a("supervise", _l("Supervise (issue a supervision order)"), OPEN_STATES, None,
       P.TICKET_SUPERVISE, required=("reason",), system_allowed=True, form="supervise",
       handler=handlers.supervise),
    _a("supply_info", _l("Supply information"), OPEN_STATES, None, P.TICKET_SUPPLY_INFO,
       actor_rule=ActorRule.REQUESTER, required=("text",), form="reply",
       handler=handlers.supply_info),
)}


#: Events a requesting firm sees on its ticket's timeline; the rest is the services' own work.
PUBLIC_EVENTS = frozenset({
    "create", "answer_directly", "reject_intake", "merge", "dispatch", "acknowledge", "suspend",
    "resume", "approve_extension", "approve_reply", "rate", "record_follow_up", "reopen",
    "final_reply", "withdraw", "reopen_closed", "supply_info", "recompute_deadlines",
})
#: Of those, the events whose reason is written for the requester.
PUBLIC_REASONS = frozenset({"reject_intake", "withdraw"})

#: How each kind of event reads on the timeline.
EVENT_LABELS = {"create": _l("Ticket created"), **{name: a.label for name, a in ACTIONS.items()},
                # not actions: the official calendar replaced provisional days
                "recompute_deadlines": _l("Deadlines recomputed on the official calendar"),
                "confirm_deadlines": _l("Deadlines confirmed on the official calendar")}


# -- who may, and what the UI offers -----------------------------------------------------------


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
                and refusal(spec, ticket) is None]
    finally:
        _PENDING_MEMO.reset(token)


def refusal(spec: Action, ticket: Ticket) -> Refusal:
    """The action's precondition: a data-free reason it cannot happen now (shown as the
    error), or ``None``."""
    return spec.precondition(ticket) if spec.precondition is not None else None
