"""What each action of DOMAIN §3.1 does to a ticket, beyond moving its state.

One handler per action, named after it and referenced by its row of
:data:`app.tickets.workflow.ACTIONS`. :func:`app.tickets.services.transition` has already
checked the state, the actor and the action's precondition when it calls the handler with a
:class:`Step`; the handler sets the companion columns and deadlines, writes the action's own
rows (a return request, an extension request, an urge...), says what the event records
(``step.event_data``) and tells people through :mod:`app.tickets.notify`. Checks that need the
action's data (the extension limits, the three follow-up attempts) raise here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from flask_babel import gettext as _

from app.auth.models import Unit, User
from app.core.clock import to_local
from app.core.errors import ValidationFailed
from app.core.permissions import Permission
from app.extensions import db
from app.sla.enums import SlaStep
from app.tickets import deadlines, notify
from app.tickets.errors import InvalidTransition
from app.tickets.models import (
    FINISHED_STATES,
    ClosureKind,
    Comment,
    CommentVisibility,
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
    TicketStatus,
    Urge,
    UrgeKind,
)

S = TicketStatus
P = Permission

#: "Unreachable after 3 attempts on different days" closes a follow-up without a rating.
#: DOMAIN §3.1 fixes the number (it is not marked [cfg]), so it is not an admin setting. The
#: reopen limit, the supervision order's answer time and the unit lead's reply approval are
#: policy: they live in :class:`app.sla.models.SlaSettings`.
FOLLOW_UP_ATTEMPTS = 3


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



def iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _met(step: Step, sla_step: SlaStep, due: datetime | None) -> dict[str, Any]:
    """Event data saying whether a completed step met its deadline, and by how much."""
    if due is None:
        return {}
    margin = step.sla.margin(sla_step, due, step.now)
    return {"due_at": iso(due), "met": step.now <= due, "margin_seconds": round(margin)}



# -- intake ------------------------------------------------------------------------------------


def answer_directly(step: Step) -> None:
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
                       "handle_due_at": iso(t.handle_due_at)}
    notify.answered_directly(t)


def reject_intake(step: Step) -> None:
    step.ticket.rejected_at = step.now
    step.event_data = {"proper_channel": step.data["proper_channel"].strip()}
    notify.intake_refused(step.ticket, step.reason, step.data["proper_channel"])


def merge(step: Step) -> None:
    t, target = step.ticket, step.data["target"]
    if not isinstance(target, Ticket) or target.id == t.id or target.status in FINISHED_STATES:
        raise InvalidTransition(_("Merge into another ticket that is still open."))
    t.merged_into = target
    step.event_data = {"target": target.reference}
    notify.merged(t, target)


def dispatch(step: Step) -> None:
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
        "acknowledge_due_at": iso(t.acknowledge_due_at),
        "handle_due_at": iso(t.handle_due_at),
    }
    notify.dispatched(t, [lead, *assisting])


def _check_units(lead, assisting) -> None:
    if not isinstance(lead, Unit) or not lead.is_active:
        raise ValidationFailed(_("Choose exactly one active lead unit."))
    if any(unit.id == lead.id for unit in assisting):
        raise ValidationFailed(_("The lead unit cannot also be an assisting unit."))
    if any(not unit.is_active for unit in assisting):
        raise ValidationFailed(_("Assisting units must be active."))


# -- handling ----------------------------------------------------------------------------------


def acknowledge(step: Step) -> None:
    t = step.ticket
    t.acknowledged_at = step.now
    t.assignee = t.assignee or step.actor
    # A late acknowledge is recorded, never blocked (DOMAIN §3.1).
    step.event_data = _met(step, SlaStep.ACKNOWLEDGE, t.acknowledge_due_at)


def request_return(step: Step) -> None:
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


def approve_return(step: Step) -> None:
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


def reject_return(step: Step) -> None:
    """首办负责: the unit keeps the ticket and the clock still runs from the original dispatch."""
    _decide_return(step, ReturnStatus.REJECTED)
    step.event_data = {"handle_due_at": iso(step.ticket.handle_due_at)}
    notify.return_refused(step.ticket, step.reason)


def suspend(step: Step) -> None:
    step.ticket.paused_at = step.now
    step.event_data = {"missing_info": step.data["missing_info"].strip(),
                       "contact_attempt": step.data["contact_attempt"].strip()}
    notify.information_needed(step.ticket, step.data["missing_info"])


def resume(step: Step) -> None:
    """Suspended time does not count: every running deadline moves by the paused working time."""
    t = step.ticket
    paused_from = t.paused_at
    end_pause(t, step.now)
    t.handle_due_at = step.sla.after_pause(t.handle_due_at, SlaStep.HANDLE, paused_from, step.now)
    for row in t.assisting_units:
        row.due_at = step.sla.after_pause(row.due_at, SlaStep.HANDLE, paused_from, step.now)
    step.event_data = {"paused_from": iso(paused_from), "handle_due_at": iso(t.handle_due_at)}


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


#: An extension request in these states is still open (at most one per ticket).
OPEN_EXTENSION_STATES = (ExtensionStatus.AWAITING_ENDORSEMENT, ExtensionStatus.AWAITING_DECISION)


def request_extension(step: Step) -> None:
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
    step.event_data = {"days": days, "proposed_due_at": iso(request_row.proposed_due_at),
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


def endorse_extension(step: Step) -> None:
    row = _open_extension_in(step, ExtensionStatus.AWAITING_ENDORSEMENT)
    row.status, row.endorsed_by_id, row.endorsed_at = (ExtensionStatus.AWAITING_DECISION,
                                                       step.actor.id, step.now)
    step.event_data = {"extension_request": row.id, "days": row.days}


def decline_extension(step: Step) -> None:
    row = _open_extension_in(step, ExtensionStatus.AWAITING_ENDORSEMENT)
    _close_extension(step, row, ExtensionStatus.REJECTED)


def approve_extension(step: Step) -> None:
    t = step.ticket
    row = _open_extension_in(step, ExtensionStatus.AWAITING_DECISION)
    _close_extension(step, row, ExtensionStatus.APPROVED)
    previous = t.handle_due_at
    t.handle_due_at = step.sla.extended(t.handle_due_at, row.days)
    t.extension_days += row.days
    step.event_data.update({"previous_due_at": iso(previous),
                            "handle_due_at": iso(t.handle_due_at)})
    notify.deadline_extended(t)


def reject_extension(step: Step) -> None:
    row = open_extension(step.ticket)
    if row is None:
        raise InvalidTransition(_("There is no extension request waiting for this decision."))
    _close_extension(step, row, ExtensionStatus.REJECTED)


def _close_extension(step: Step, row: ExtensionRequest, status: ExtensionStatus) -> None:
    row.status, row.decided_at = status, step.now
    row.decided_by_id, row.decision_reason = step.actor.id, step.reason
    step.event_data = {"extension_request": row.id, "days": row.days, "decision": str(status)}
    notify.extension_decided(step.ticket, str(status), step.reason)


# -- reply, follow-up, closing -----------------------------------------------------------------


def reply(step: Step) -> None:
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


def submit_reply(step: Step) -> None:
    """Where policy says so the unit lead approves the reply first; the clock keeps running."""
    t, text = step.ticket, step.data["text"].strip()
    db.session.add(ReplyApproval(ticket=t, text=text, requested_by_id=step.actor.id,
                                 requested_at=step.now))
    step.event_data = {"text": text}
    notify.reply_awaits_approval(t, text)


def _decide_reply_approval(step: Step, status: ReplyApprovalStatus) -> ReplyApproval:
    row = pending_reply_approval(step.ticket)
    if row is None:  # pragma: no cover - the precondition refuses first
        raise InvalidTransition(_("There is no reply waiting for approval."))
    row.status, row.decided_at = status, step.now
    row.decided_by_id, row.decision_reason = step.actor.id, step.reason
    return row


def approve_unit_reply(step: Step) -> None:
    row = _decide_reply_approval(step, ReplyApprovalStatus.APPROVED)
    _record_reply(step, row.text)
    step.event_data["submitted_by"] = row.requested_by_id


def return_unit_reply(step: Step) -> None:
    row = _decide_reply_approval(step, ReplyApprovalStatus.RETURNED)
    step.event_data = {"text": row.text}
    notify.reply_returned(step.ticket, row.requested_by, step.reason)


def approve_reply(step: Step) -> None:
    t = step.ticket
    t.reply_approved_at = step.now
    t.follow_up_due_at = step.sla.due(SlaStep.FOLLOW_UP, step.now)
    step.event_data = _met(step, SlaStep.REPLY_REVIEW, t.reply_review_due_at)
    notify.reply_approved(t)


def send_back(step: Step) -> None:
    step.event_data = {"handle_due_at": iso(step.ticket.handle_due_at)}
    notify.sent_back(step.ticket, step.reason)


def _close(step: Step, kind: ClosureKind, level: int | None = None) -> None:
    t = step.ticket
    t.closed_at, t.closure_kind = step.now, kind
    if level is not None:
        t.rating_level = level
    step.event_data = {**_met(step, SlaStep.FOLLOW_UP, t.follow_up_due_at),
                       "closure": str(kind), **({"level": level} if level else {})}
    notify.closed(t, step.actor)


def _rating_level(value) -> int:
    try:
        level = int(value)
    except (TypeError, ValueError):
        level = 0
    if not 1 <= level <= 5:
        raise ValidationFailed(_("Choose one of the five rating levels."))
    return level


def rate(step: Step) -> None:
    if step.ticket.rating_level is not None:
        raise InvalidTransition(_("This ticket has already been rated."))
    _close(step, ClosureKind.RATED, _rating_level(step.data["level"]))


def log_follow_up_attempt(step: Step) -> None:
    step.reason = step.data["note"].strip()
    step.event_data = {"local_day": to_local(step.now).date().isoformat()}


def record_follow_up(step: Step) -> None:
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


def reopen(step: Step) -> None:
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
    step.event_data = {"reopen_count": t.reopen_count, "handle_due_at": iso(t.handle_due_at)}
    notify.reopened(t, step.reason)


def sign_final_reply(step: Step) -> None:
    t = step.ticket
    t.final_reply_text = step.data["text"].strip()
    t.final_reply_signed_at, t.final_reply_signed_by_id = step.now, step.actor.id
    step.event_data = {"text": t.final_reply_text}


def final_reply(step: Step) -> None:
    t = step.ticket
    _close(step, ClosureKind.FINAL_REPLY)
    step.event_data["signed_by"] = t.final_reply_signed_by_id
    notify.final_reply(t)


def withdraw(step: Step) -> None:
    end_pause(step.ticket, step.now)
    step.ticket.withdrawn_at = step.now
    notify.withdrawn(step.ticket, step.reason)


# -- urge, supervise, supply information -------------------------------------------------------


def urge(step: Step) -> None:
    t = step.ticket
    db.session.add(Urge(ticket=t, kind=UrgeKind.MANUAL if step.actor else UrgeKind.AUTO,
                        unit_id=t.lead_unit_id, urged_by_id=getattr(step.actor, "id", None),
                        at=step.now, due_at=t.due_at, message=step.reason,
                        dedupe_key=step.data.get("dedupe_key") or _auto_key(step, "urge")))
    t.urge_count += 1
    step.event_data = {"due_at": iso(t.due_at)}
    notify.urged(t, step.reason)


def _auto_key(step: Step, kind: str) -> str | None:
    """One automatic urge or order per deadline of a ticket: the scan may run many times."""
    if step.actor is not None:
        return None
    return f"{kind}:{step.ticket.id}:{step.ticket.status}:{iso(step.ticket.due_at)}"


def supervise(step: Step) -> None:
    t = step.ticket
    due = step.data.get("due_at") or step.sla.calendar.add_working_days(
        step.now, int(step.data.get("days") or step.sla.settings.supervision_order_days))
    db.session.add(SupervisionOrder(
        ticket=t, unit_id=t.lead_unit_id, reason=step.reason, due_at=due,
        is_automatic=step.actor is None, created_by_id=getattr(step.actor, "id", None),
        created_at=step.now,
        dedupe_key=step.data.get("dedupe_key") or _auto_key(step, "supervise")))
    t.is_supervised = True
    step.event_data = {"due_at": iso(due)}
    notify.supervised(t, step.reason, due)


def supply_info(step: Step) -> None:
    step.reason = None
    comment = Comment(ticket_id=step.ticket.id, author_id=step.actor.id,
                      visibility=CommentVisibility.PUBLIC, body=step.data["text"].strip(),
                      created_at=step.now)
    db.session.add(comment)
    step.event_data = {"text": comment.body}
