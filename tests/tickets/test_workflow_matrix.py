"""Role × state × action: every action of DOMAIN §3.1 is allowed exactly to whom and where the
table says, and refused (with nothing changed) everywhere else.

The expectations below are written from DOMAIN §3.1, independently of ``workflow.py``.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from app.core.errors import PermissionDenied
from app.extensions import db
from app.tickets import services
from app.tickets.models import TicketEvent, TicketStatus
from app.tickets.services import InvalidTransition, allowed_actions, transition

S = TicketStatus
OPEN = {S.SUBMITTED, S.DISPATCHED, S.IN_PROGRESS, S.RETURN_REQUESTED, S.SUSPENDED, S.REPLIED,
        S.FOLLOW_UP}
ROLES = ("firm_user", "handler", "lead", "dispatcher", "supervisor", "admin", "auditor",
         "stranger")

#: action → (states it starts from, cast members who may do it), from DOMAIN §3.1.
DOMAIN_TABLE = {
    "answer_directly": ({S.SUBMITTED}, {"dispatcher"}),
    "reject_intake": ({S.SUBMITTED}, {"dispatcher"}),
    "merge": ({S.SUBMITTED}, {"dispatcher"}),
    "dispatch": ({S.SUBMITTED}, {"dispatcher"}),
    "acknowledge": ({S.DISPATCHED}, {"handler", "lead"}),
    "request_return": ({S.DISPATCHED, S.IN_PROGRESS}, {"handler", "lead"}),
    "approve_return": ({S.RETURN_REQUESTED}, {"dispatcher"}),
    "reject_return": ({S.RETURN_REQUESTED}, {"dispatcher"}),
    "suspend": ({S.IN_PROGRESS}, {"handler", "lead"}),
    "resume": ({S.SUSPENDED}, {"handler", "lead"}),
    "request_extension": ({S.IN_PROGRESS}, {"handler", "lead"}),
    "endorse_extension": ({S.IN_PROGRESS}, {"lead"}),
    "decline_extension": ({S.IN_PROGRESS}, {"lead"}),
    "approve_extension": ({S.IN_PROGRESS}, {"supervisor"}),
    "reject_extension": ({S.IN_PROGRESS}, {"supervisor"}),
    "reply": ({S.IN_PROGRESS}, {"handler", "lead"}),
    # "unit lead approves where policy says" [cfg]: by default the policy says nowhere.
    "submit_reply": ({S.IN_PROGRESS}, set()),
    "approve_unit_reply": ({S.IN_PROGRESS}, set()),
    "return_unit_reply": ({S.IN_PROGRESS}, set()),
    "approve_reply": ({S.REPLIED}, {"dispatcher"}),
    "send_back": ({S.REPLIED}, {"dispatcher"}),
    "rate": ({S.FOLLOW_UP}, {"firm_user"}),
    "log_follow_up_attempt": ({S.FOLLOW_UP}, {"dispatcher"}),
    "record_follow_up": ({S.FOLLOW_UP}, {"dispatcher"}),
    "reopen": ({S.FOLLOW_UP}, {"dispatcher"}),
    "sign_final_reply": ({S.IN_PROGRESS, S.FOLLOW_UP}, {"lead"}),
    "final_reply": ({S.IN_PROGRESS, S.FOLLOW_UP}, {"supervisor"}),
    "withdraw": (OPEN, {"firm_user", "dispatcher"}),
    "reopen_closed": ({S.CLOSED}, {"supervisor"}),
    "urge": (OPEN, {"dispatcher"}),
    "supervise": (OPEN, {"supervisor"}),
    "supply_info": (OPEN, {"firm_user"}),
}

#: action → (resulting state or None for "unchanged").
DOMAIN_TARGET = {
    "answer_directly": S.FOLLOW_UP, "reject_intake": S.REJECTED, "merge": S.MERGED,
    "dispatch": S.DISPATCHED, "acknowledge": S.IN_PROGRESS,
    "request_return": S.RETURN_REQUESTED, "approve_return": S.SUBMITTED,
    "reject_return": S.IN_PROGRESS, "suspend": S.SUSPENDED, "resume": S.IN_PROGRESS,
    "reply": S.REPLIED, "approve_unit_reply": S.REPLIED, "approve_reply": S.FOLLOW_UP,
    "send_back": S.IN_PROGRESS,
    "rate": S.CLOSED, "record_follow_up": S.CLOSED, "reopen": S.IN_PROGRESS,
    "final_reply": S.CLOSED, "withdraw": S.WITHDRAWN, "reopen_closed": S.IN_PROGRESS,
}


def valid_data(action: str, cast, make) -> dict:
    """Data that satisfies the action's required fields."""
    return {
        "answer_directly": {"answer": "政策已电话解答。"},
        "reject_intake": {"reason": "非涉企诉求", "proper_channel": "12345热线"},
        "merge": {"target": make.ticket(actor=cast.firm_user)} if action == "merge" else {},
        "dispatch": {"lead_unit": cast.unit},
        "request_return": {"reason": "非本单位职责", "legal_basis": "三定方案",
                           "suggested_unit": cast.other_unit},
        "reject_return": {"reason": "属本单位职责"},
        "suspend": {"missing_info": "材料", "contact_attempt": "已电话联系"},
        "request_extension": {"days": 3, "reason": "需现场核查"},
        "decline_extension": {"reason": "理由不充分"},
        "reject_extension": {"reason": "理由不充分"},
        "reply": {"text": "已办结。"},
        "submit_reply": {"text": "已办结，请审核。"},
        "return_unit_reply": {"reason": "请补充政策依据"},
        "send_back": {"reason": "答复不完整"},
        "rate": {"level": 4},
        "log_follow_up_attempt": {"note": "无人接听"},
        "record_follow_up": {"outcome": "level", "level": 5},
        "reopen": {"reason": "企业不满意"},
        "sign_final_reply": {"text": "经核查无法解决，已解释。"},
        "withdraw": {"reason": "已自行解决"},
        "reopen_closed": {"reason": "核实差评"},
        "supervise": {"reason": "超期未办"},
        "supply_info": {"text": "补充材料已上传"},
    }.get(action, {})


def prepare(action: str, ticket, cast) -> None:
    """Bring about the precondition some actions need (an open request, a signed reply)."""
    if action in ("endorse_extension", "decline_extension", "approve_extension",
                  "reject_extension"):
        transition(ticket, "request_extension", cast.handler, days=3, reason="需现场核查")
        if action in ("approve_extension", "reject_extension"):
            transition(ticket, "endorse_extension", cast.lead)
    if action == "final_reply":
        transition(ticket, "sign_final_reply", cast.lead, text="经核查无法解决。")
    if action in ("approve_unit_reply", "return_unit_reply") and approval_required():
        transition(ticket, "submit_reply", cast.handler, text="已协调解决，请审核。")


def approval_required() -> bool:
    return services.workflow_settings().reply_needs_unit_lead_approval


#: Where policy makes the unit lead approve replies, only these rows differ: a handler submits
#: the reply, the unit lead approves or returns it, and only the lead replies directly.
APPROVAL_TABLE = {
    **DOMAIN_TABLE,
    "reply": ({S.IN_PROGRESS}, {"lead"}),
    "submit_reply": ({S.IN_PROGRESS}, {"handler"}),
    "approve_unit_reply": ({S.IN_PROGRESS}, {"lead"}),
    "return_unit_reply": ({S.IN_PROGRESS}, {"lead"}),
}
REPLY_ACTIONS = ("reply", "submit_reply", "approve_unit_reply", "return_unit_reply",
                 "approve_reply", "send_back")

CASES = [(state, name) for state in S for name in DOMAIN_TABLE]
APPROVAL_CASES = [(state, name) for state in S for name in REPLY_ACTIONS]


@pytest.mark.parametrize(("state", "name"), CASES, ids=[f"{s}-{a}" for s, a in CASES])
def test_action_allowed_exactly_as_domain_table_says(state, name, ticket_in, cast, make,
                                                     frozen_clock):
    check_matrix_cell(DOMAIN_TABLE, state, name, ticket_in, cast, make)


@pytest.mark.parametrize(("state", "name"), APPROVAL_CASES,
                         ids=[f"{s}-{a}" for s, a in APPROVAL_CASES])
def test_with_unit_lead_reply_approval_the_reply_actions_follow_the_policy(
        state, name, ticket_in, cast, make, frozen_clock):
    ticket = ticket_in(state)  # walked there under the default policy
    from app.sla import services as sla

    sla.get_settings().reply_needs_unit_lead_approval = True
    db.session.flush()
    check_matrix_cell(APPROVAL_TABLE, state, name, lambda _state: ticket, cast, make)


def check_matrix_cell(table, state, name, ticket_in, cast, make) -> None:
    """Every role is offered the action, and may perform it, exactly as ``table`` says."""
    ticket = ticket_in(state)
    sources, who = table[name]
    if state in sources:
        prepare(name, ticket, cast)
    for role in ROLES:
        actor = getattr(cast, role)
        expected = state in sources and role in who
        offered = name in {a.name for a in allowed_actions(ticket, actor)}
        assert offered == expected, f"{role} offered={offered} expected={expected}"
        data = valid_data(name, cast, make)
        before = (ticket.status, ticket.version)
        savepoint = db.session.begin_nested()
        try:
            if expected:
                transition(ticket, name, actor, **data)
                assert ticket.status == (DOMAIN_TARGET.get(name) or state)
            else:
                with pytest.raises((PermissionDenied, InvalidTransition)):
                    transition(ticket, name, actor, **data)
                assert (ticket.status, ticket.version) == before
        finally:
            savepoint.rollback()
            db.session.refresh(ticket)


def test_every_action_of_the_table_is_in_the_matrix():
    from app.tickets.workflow import ACTIONS

    assert set(ACTIONS) == set(DOMAIN_TABLE) == set(APPROVAL_TABLE)


def test_a_submitted_reply_waits_for_the_lead_and_becomes_the_reply_when_approved(
        ticket_in, cast, frozen_clock):
    from app.sla import services as sla
    from app.tickets.models import ReplyApproval, ReplyApprovalStatus

    sla.get_settings().reply_needs_unit_lead_approval = True
    ticket = ticket_in(S.IN_PROGRESS)
    with pytest.raises(PermissionDenied):
        transition(ticket, "reply", cast.handler, text="直接答复")
    transition(ticket, "submit_reply", cast.handler, text="初稿")
    assert ticket.status == S.IN_PROGRESS and ticket.reply_text is None
    with pytest.raises(InvalidTransition):  # one reply waits at a time
        transition(ticket, "submit_reply", cast.handler, text="第二稿")
    transition(ticket, "return_unit_reply", cast.lead, reason="请补充依据")
    transition(ticket, "submit_reply", cast.handler, text="已协调人社局解决。")
    approved_at = frozen_clock.advance(timedelta(hours=2))
    transition(ticket, "approve_unit_reply", cast.lead)
    assert ticket.status == S.REPLIED and ticket.reply_text == "已协调人社局解决。"
    assert ticket.replied_at == approved_at and ticket.reply_review_due_at is not None
    rows = db.session.query(ReplyApproval).filter_by(ticket_id=ticket.id).order_by(
        ReplyApproval.id).all()
    assert [r.status for r in rows] == [ReplyApprovalStatus.RETURNED,
                                        ReplyApprovalStatus.APPROVED]
    assert rows[0].decision_reason == "请补充依据" and rows[1].decided_by_id == cast.lead.id


def test_a_reply_still_waiting_can_be_decided_after_the_policy_is_switched_off(
        ticket_in, cast, frozen_clock):
    from app.sla import services as sla

    ticket = ticket_in(S.IN_PROGRESS)
    sla.get_settings().reply_needs_unit_lead_approval = True
    transition(ticket, "submit_reply", cast.handler, text="初稿")
    sla.get_settings().reply_needs_unit_lead_approval = False
    assert "reply" not in {a.name for a in allowed_actions(ticket, cast.handler)}
    transition(ticket, "approve_unit_reply", cast.lead)
    assert ticket.status == S.REPLIED


def test_system_may_only_urge_supervise_and_resume(ticket_in):
    ticket = ticket_in(S.SUSPENDED)
    transition(ticket, "urge", None)
    transition(ticket, "supervise", None, reason="超期自动督办")
    transition(ticket, "resume", None, reason="企业已补充材料")
    assert ticket.status == S.IN_PROGRESS
    with pytest.raises(PermissionDenied):
        transition(ticket, "reply", None, text="系统不能答复")


def test_refused_action_writes_no_event(ticket_in, cast):
    ticket = ticket_in(S.SUBMITTED)
    count = _event_count(ticket)
    with pytest.raises(PermissionDenied):
        transition(ticket, "dispatch", cast.handler, lead_unit=cast.unit)
    assert _event_count(ticket) == count


def _event_count(ticket) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(TicketEvent)
                             .where(TicketEvent.ticket_id == ticket.id))


def test_missing_required_data_is_refused(ticket_in, cast):
    from app.core.errors import ValidationFailed

    ticket = ticket_in(S.SUBMITTED)
    with pytest.raises(ValidationFailed):
        transition(ticket, "reject_intake", cast.dispatcher, reason="  ", proper_channel="")
    assert ticket.status == S.SUBMITTED


def test_every_row_of_the_table_names_its_handler_and_its_precondition():
    """One table says everything about an action: the handler is referenced by its row, and
    the rules that need no data (the 退单 window among them) are the row's precondition."""
    from app.tickets import handlers
    from app.tickets.workflow import ACTIONS

    for name, spec in ACTIONS.items():
        assert spec.handler is getattr(handlers, name if name != "reopen_closed" else "reopen")
    assert ACTIONS["request_return"].precondition.__name__ == "_return_window_open"
    assert ACTIONS["dispatch"].precondition is None
