"""DOMAIN §3.1 as data: every action, the states it may start from, where it leads, who may do it.

:func:`app.tickets.services.transition` is the only code that changes a ticket's state, and it
reads this table. The UI offers exactly the actions :func:`allowed_actions` returns. Rules that
need more than the table (the return window, the extension limits, the reopen limit) are
checked by named guards in the service, next to the action they belong to.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from flask_babel import lazy_gettext as _l

from app.core.permissions import Permission
from app.tickets.models.enums import FINISHED_STATES, TicketStatus

S = TicketStatus
P = Permission

#: Every state in which something is still expected of someone.
OPEN_STATES = frozenset(TicketStatus) - FINISHED_STATES


class ActorRule:
    """Object-level conditions on the actor, beyond holding the permission."""

    #: Any actor holding the permission (and able to see the ticket).
    ANY = "any"
    #: A member of the ticket's lead unit (承办人 of the unit that holds it).
    LEAD_UNIT = "lead_unit"
    #: The requesting firm's own user; staff holding the permission act on its behalf.
    REQUESTER = "requester"


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


def _a(name, label, sources, target, permission, **kwargs) -> Action:
    return Action(name, label, frozenset(sources), target, permission, **kwargs)


ACTIONS: dict[str, Action] = {a.name: a for a in (
    _a("answer_directly", _l("Answer directly (handle now)"), {S.SUBMITTED}, S.FOLLOW_UP,
       P.TICKET_INTAKE, required=("answer",), form="answer"),
    _a("reject_intake", _l("Do not accept"), {S.SUBMITTED}, S.REJECTED, P.TICKET_INTAKE,
       required=("reason", "proper_channel"), is_destructive=True, form="reject_intake"),
    _a("merge", _l("Merge into another ticket"), {S.SUBMITTED}, S.MERGED, P.TICKET_INTAKE,
       required=("target",), is_destructive=True, form="merge"),
    _a("dispatch", _l("Dispatch"), {S.SUBMITTED}, S.DISPATCHED, P.TICKET_DISPATCH,
       required=("lead_unit",), form="dispatch"),
    _a("acknowledge", _l("Acknowledge"), {S.DISPATCHED}, S.IN_PROGRESS, P.TICKET_HANDLE,
       actor_rule=ActorRule.LEAD_UNIT, form="none"),
    _a("request_return", _l("Request return"), {S.DISPATCHED, S.IN_PROGRESS},
       S.RETURN_REQUESTED, P.TICKET_HANDLE, actor_rule=ActorRule.LEAD_UNIT,
       required=("reason", "legal_basis", "suggested_unit"), form="return"),
    _a("approve_return", _l("Approve return (re-dispatch)"), {S.RETURN_REQUESTED}, S.SUBMITTED,
       P.TICKET_DISPATCH, form="reason_optional"),
    _a("reject_return", _l("Reject return"), {S.RETURN_REQUESTED}, S.IN_PROGRESS,
       P.TICKET_DISPATCH, required=("reason",)),
    _a("suspend", _l("Suspend (awaiting the firm)"), {S.IN_PROGRESS}, S.SUSPENDED,
       P.TICKET_HANDLE, actor_rule=ActorRule.LEAD_UNIT,
       required=("missing_info", "contact_attempt"), form="suspend"),
    _a("resume", _l("Resume"), {S.SUSPENDED}, S.IN_PROGRESS, P.TICKET_HANDLE,
       actor_rule=ActorRule.LEAD_UNIT, system_allowed=True, form="reason_optional"),
    _a("request_extension", _l("Request an extension"), {S.IN_PROGRESS}, None, P.TICKET_HANDLE,
       actor_rule=ActorRule.LEAD_UNIT, required=("days", "reason"), form="extension"),
    _a("endorse_extension", _l("Endorse the extension request"), {S.IN_PROGRESS}, None,
       P.TICKET_ENDORSE_EXTENSION, actor_rule=ActorRule.LEAD_UNIT, form="reason_optional"),
    _a("decline_extension", _l("Decline the extension request"), {S.IN_PROGRESS}, None,
       P.TICKET_ENDORSE_EXTENSION, actor_rule=ActorRule.LEAD_UNIT, required=("reason",)),
    _a("approve_extension", _l("Approve the extension"), {S.IN_PROGRESS}, None,
       P.TICKET_DECIDE_EXTENSION, form="reason_optional"),
    _a("reject_extension", _l("Reject the extension"), {S.IN_PROGRESS}, None,
       P.TICKET_DECIDE_EXTENSION, required=("reason",)),
    _a("reply", _l("Reply"), {S.IN_PROGRESS}, S.REPLIED, P.TICKET_HANDLE,
       actor_rule=ActorRule.LEAD_UNIT, required=("text",), form="reply"),
    # Where policy makes the unit lead approve replies (DOMAIN §3.1 [cfg]): the handler submits,
    # the lead approves (→ replied) or returns it; the lead's own reply needs no second step.
    _a("submit_reply", _l("Submit the reply for the unit lead's approval"), {S.IN_PROGRESS},
       None, P.TICKET_HANDLE, actor_rule=ActorRule.LEAD_UNIT, required=("text",), form="reply"),
    _a("approve_unit_reply", _l("Approve the unit's reply"), {S.IN_PROGRESS}, S.REPLIED,
       P.TICKET_APPROVE_UNIT_REPLY, actor_rule=ActorRule.LEAD_UNIT, form="none"),
    _a("return_unit_reply", _l("Return the reply to the handler"), {S.IN_PROGRESS}, None,
       P.TICKET_APPROVE_UNIT_REPLY, actor_rule=ActorRule.LEAD_UNIT, required=("reason",)),
    _a("approve_reply", _l("Approve the reply"), {S.REPLIED}, S.FOLLOW_UP,
       P.TICKET_APPROVE_REPLY, form="none"),
    _a("send_back", _l("Send back for rework"), {S.REPLIED}, S.IN_PROGRESS,
       P.TICKET_APPROVE_REPLY, required=("reason",)),
    _a("rate", _l("Rate the service"), {S.FOLLOW_UP}, S.CLOSED, P.TICKET_RATE,
       actor_rule=ActorRule.REQUESTER, required=("level",), form="rate"),
    _a("log_follow_up_attempt", _l("Log a follow-up call attempt"), {S.FOLLOW_UP}, None,
       P.TICKET_FOLLOW_UP, required=("note",), form="note"),
    _a("record_follow_up", _l("Record the follow-up"), {S.FOLLOW_UP}, S.CLOSED,
       P.TICKET_FOLLOW_UP, required=("outcome",), form="follow_up"),
    _a("reopen", _l("Reopen"), {S.FOLLOW_UP}, S.IN_PROGRESS, P.TICKET_REOPEN,
       required=("reason",)),
    _a("sign_final_reply", _l("Sign a final reply"), {S.IN_PROGRESS, S.FOLLOW_UP}, None,
       P.TICKET_SIGN_FINAL_REPLY, actor_rule=ActorRule.LEAD_UNIT, required=("text",),
       form="reply"),
    _a("final_reply", _l("Approve the final reply"), {S.IN_PROGRESS, S.FOLLOW_UP}, S.CLOSED,
       P.TICKET_APPROVE_FINAL_REPLY, form="none"),
    _a("withdraw", _l("Withdraw"), OPEN_STATES, S.WITHDRAWN, P.TICKET_WITHDRAW,
       actor_rule=ActorRule.REQUESTER, required=("reason",), is_destructive=True),
    _a("reopen_closed", _l("Reopen the closed ticket"), {S.CLOSED}, S.IN_PROGRESS,
       P.TICKET_REOPEN_CLOSED, required=("reason",)),
    _a("urge", _l("Urge"), OPEN_STATES, None, P.TICKET_URGE, system_allowed=True,
       form="reason_optional"),
    _a("supervise", _l("Supervise (issue a supervision order)"), OPEN_STATES, None,
       P.TICKET_SUPERVISE, required=("reason",), system_allowed=True, form="supervise"),
    _a("supply_info", _l("Supply information"), OPEN_STATES, None, P.TICKET_SUPPLY_INFO,
       actor_rule=ActorRule.REQUESTER, required=("text",), form="reply"),
)}


#: Events a requesting firm sees on its ticket's timeline; the rest is the services' own work.
PUBLIC_EVENTS = frozenset({
    "create", "answer_directly", "reject_intake", "merge", "dispatch", "acknowledge", "suspend",
    "resume", "approve_extension", "approve_reply", "rate", "record_follow_up", "reopen",
    "final_reply", "withdraw", "reopen_closed", "supply_info",
})
#: Of those, the events whose reason is written for the requester.
PUBLIC_REASONS = frozenset({"reject_intake", "withdraw"})

#: How each kind of event reads on the timeline.
EVENT_LABELS = {"create": _l("Ticket created"), **{name: a.label for name, a in ACTIONS.items()}}


def action(name: str) -> Action:
    """The table row of an action (``KeyError`` for an unknown name)."""
    return ACTIONS[name]


def actions_from(status: TicketStatus) -> list[Action]:
    """The actions the table allows in a state, whoever asks."""
    return [a for a in ACTIONS.values() if status in a.sources]
