"""The SLA scan (``flask sla scan``): marks due-soon and overdue tickets, urges units before
their handling deadline and opens supervision orders once it is missed by the policy's delay.

Idempotent: marks are only written when they change, and every automatic urge or order carries
a de-duplication key (ticket, deadline) under a unique constraint, so a second run changes
nothing. Safe with several copies at once: on PostgreSQL each batch locks its tickets with
``FOR UPDATE SKIP LOCKED``, so two scanners never work on the same ticket at the same time.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.orm import joinedload, lazyload

from app.extensions import db
from app.sla.enums import SlaStatus, SlaStep
from app.tickets import deadlines, system_texts
from app.tickets.models import SupervisionOrder, Ticket, TicketStatus, Urge
from app.tickets.services import batched_transitions, transition

logger = logging.getLogger("ruyi.tickets.scan")

S = TicketStatus

#: The step whose deadline each state runs against (``Ticket.due_at``).
STEP_OF_STATE = {
    S.SUBMITTED: SlaStep.INTAKE,
    S.DISPATCHED: SlaStep.ACKNOWLEDGE,
    S.IN_PROGRESS: SlaStep.HANDLE,
    S.RETURN_REQUESTED: SlaStep.HANDLE,
    S.REPLIED: SlaStep.REPLY_REVIEW,
    S.FOLLOW_UP: SlaStep.FOLLOW_UP,
}
#: States in which the unit's handling deadline runs (urges and supervision apply).
HANDLING_STATES = frozenset({S.DISPATCHED, S.IN_PROGRESS, S.RETURN_REQUESTED})


@dataclass
class ScanResult:
    """What one scan changed."""

    scanned: int = 0
    marked: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    urged: int = 0
    supervised: int = 0

    @property
    def changed(self) -> int:
        """Rows changed in total (0 on a repeated run)."""
        return sum(self.marked.values()) + self.urged + self.supervised


def running_ids(session=None) -> list[int]:
    """Every ticket with a running clock, by id: one index-only read of the state index."""
    session = session or db.session
    return list(session.scalars(sa.select(Ticket.id).where(*_RUNNING).order_by(Ticket.id)))


def read_batch(ids: list[int]) -> list[Ticket]:
    """Those of ``ids`` whose clock still runs, read without locks (to decide what to do)."""
    statement = sa.select(Ticket).options(lazyload("*")).where(Ticket.id.in_(ids))
    return _running(db.session.scalars(statement.order_by(Ticket.id)))


def lock_batch(ids: list[int], session=None) -> list[Ticket]:
    """Those of ``ids`` whose clock still runs, locked for this scanner and read again; on
    PostgreSQL a ticket another scanner holds is skipped (``FOR UPDATE SKIP LOCKED``), never
    waited for."""
    session = session or db.session
    statement = (sa.select(Ticket).options(lazyload("*"), joinedload(Ticket.assignee))
                 .where(Ticket.id.in_(ids)).order_by(Ticket.id)
                 .execution_options(populate_existing=True))
    if session.get_bind().dialect.name == "postgresql":
        statement = statement.with_for_update(skip_locked=True, of=Ticket)
    return _running(session.scalars(statement))


def _running(tickets) -> list[Ticket]:
    # Checked here, not in SQL: with the state in the WHERE clause the planner reads every
    # running ticket through the state index instead of the batch's ids through the key.
    return [ticket for ticket in tickets
            if ticket.status in STEP_OF_STATE and ticket.due_at is not None]


_RUNNING = (Ticket.status.in_(list(STEP_OF_STATE)), Ticket.due_at.is_not(None))


def scan_batch(tickets: list[Ticket], now: datetime, result: ScanResult,
               slas: dict | None = None) -> None:
    """Mark, urge and supervise one batch of locked tickets (flushes; the caller commits).

    The tickets are locked by :func:`lock_batch`, so their urges and orders are written by
    :func:`batched_transitions` in one flush, and the marks by one UPDATE per new mark.
    """
    urge_keys, order_keys = _existing_keys(tickets)
    marks: dict[SlaStatus, list[int]] = defaultdict(list)
    with batched_transitions():
        for ticket in tickets:
            sla = sla_of(ticket, {} if slas is None else slas)
            _urge_or_supervise(ticket, sla, now, urge_keys, order_keys, result)
            status = current_status(ticket, sla, now)
            if status != ticket.sla_status:
                marks[status].append(ticket.id)
    db.session.flush()
    table = Ticket.__table__
    for status, ids in marks.items():
        # A mark is not a change anybody edits: it must not bump the optimistic-lock version.
        db.session.execute(sa.update(table).where(table.c.id.in_(ids)).values(sla_status=status))
        result.marked[str(status)] += len(ids)
    db.session.flush()


def needs_work(ticket: Ticket, now: datetime, urge_keys: set[str], order_keys: set[str],
               slas: dict) -> bool:
    """Whether the scan would change anything on this ticket now (a mark, an urge, an order)."""
    sla = sla_of(ticket, slas)
    return (_due_action(ticket, sla, now, urge_keys, order_keys) is not None
            or current_status(ticket, sla, now) != ticket.sla_status)


def sla_of(ticket: Ticket, slas: dict) -> deadlines.TicketSla:
    """The ticket's SLA context, shared by every ticket of the same policy within one run."""
    key = (ticket.service_mode, ticket.demand_type, ticket.urgency, ticket.is_complex)
    sla = slas.get(key)
    if sla is None:
        sla = slas[key] = deadlines.for_ticket(ticket)
    return sla


def current_status(ticket: Ticket, sla: deadlines.TicketSla, now: datetime) -> SlaStatus:
    """on_track, due_soon or overdue for the deadline of the ticket's current step."""
    step = STEP_OF_STATE[ticket.status]
    started = {
        SlaStep.INTAKE: ticket.submitted_at, SlaStep.ACKNOWLEDGE: ticket.dispatched_at,
        SlaStep.HANDLE: ticket.dispatched_at, SlaStep.REPLY_REVIEW: ticket.replied_at,
        SlaStep.FOLLOW_UP: ticket.reply_approved_at or ticket.replied_at,
    }[step] or ticket.created_at
    return sla.status(step, ticket.due_at, now, started)


def _existing_keys(tickets: list[Ticket]) -> tuple[set[str], set[str]]:
    ids = [t.id for t in tickets]
    urges = set(db.session.scalars(sa.select(Urge.dedupe_key).where(
        Urge.ticket_id.in_(ids), Urge.dedupe_key.is_not(None))))
    orders = set(db.session.scalars(sa.select(SupervisionOrder.dedupe_key).where(
        SupervisionOrder.ticket_id.in_(ids), SupervisionOrder.dedupe_key.is_not(None))))
    return urges, orders


def _due_action(ticket, sla, now, urge_keys, order_keys) -> tuple[str, str] | None:
    """``("supervise" | "urge", de-duplication key)`` if one is due and not yet done."""
    if ticket.status not in HANDLING_STATES or ticket.handle_due_at is None:
        return None
    due = ticket.handle_due_at
    stamp = due.isoformat()
    if now >= sla.supervise_at(due):
        key = f"auto-supervise:{ticket.id}:{stamp}"
        return None if key in order_keys else ("supervise", key)
    key = f"auto-urge:{ticket.id}:{stamp}"
    if sla.urge_at(due) <= now <= due and key not in urge_keys:
        return "urge", key
    return None


def _urge_or_supervise(ticket, sla, now, urge_keys, order_keys, result) -> None:
    action = _due_action(ticket, sla, now, urge_keys, order_keys)
    if action is None:
        return
    name, key = action
    if name == "supervise":
        transition(ticket, "supervise", None, dedupe_key=key,
                   reason=_(system_texts.AUTO_SUPERVISION))
        result.supervised += 1
    else:
        transition(ticket, "urge", None, dedupe_key=key,
                   reason=_(system_texts.AUTO_REMINDER))
        result.urged += 1


def run_scan(now: datetime, batch_size: int = 500, commit: bool = True) -> ScanResult:
    """Scan every ticket with a running clock in batches, committing after each batch.

    The candidates are read once (ids only). Each batch is read without locks to find the
    tickets that need a change; only those are locked (skipping any another scanner holds),
    read again and changed. So a run that changes nothing writes nothing, two scanners never
    work on the same ticket at once, and a ticket that stopped running meanwhile is left alone.
    """
    result, slas = ScanResult(), {}
    ids = running_ids()
    for start in range(0, len(ids), batch_size):
        tickets = read_batch(ids[start:start + batch_size])
        result.scanned += len(tickets)
        urge_keys, order_keys = _existing_keys(tickets)
        todo = [t.id for t in tickets if needs_work(t, now, urge_keys, order_keys, slas)]
        batch = lock_batch(todo) if todo else []
        if batch:
            scan_batch(batch, now, result, slas)
        if commit:
            db.session.commit()
    logger.info("sla scan: %d scanned, marks %s, %d urged, %d supervised", result.scanned,
                dict(result.marked), result.urged, result.supervised)
    return result
