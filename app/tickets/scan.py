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
from sqlalchemy.orm import lazyload

from app.extensions import db
from app.sla.enums import SlaStatus, SlaStep
from app.tickets import deadlines
from app.tickets.models import SupervisionOrder, Ticket, TicketStatus, Urge
from app.tickets.services import transition

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


def next_batch(after_id: int, limit: int, session=None) -> list[Ticket]:
    """The next tickets with a running clock, locked for this scanner (others skip them)."""
    session = session or db.session
    statement = (sa.select(Ticket).options(lazyload("*"))
                 .where(Ticket.status.in_(list(STEP_OF_STATE)), Ticket.due_at.is_not(None),
                        Ticket.id > after_id)
                 .order_by(Ticket.id).limit(limit))
    if session.get_bind().dialect.name == "postgresql":
        statement = statement.with_for_update(skip_locked=True, of=Ticket)
    return list(session.scalars(statement))


def scan_batch(tickets: list[Ticket], now: datetime, result: ScanResult) -> None:
    """Mark, urge and supervise one batch (flushes; the caller commits)."""
    urge_keys, order_keys = _existing_keys(tickets)
    marks: dict[SlaStatus, list[int]] = defaultdict(list)
    for ticket in tickets:
        result.scanned += 1
        sla = deadlines.for_ticket(ticket)
        if ticket.status in HANDLING_STATES and ticket.handle_due_at is not None:
            _urge_or_supervise(ticket, sla, now, urge_keys, order_keys, result)
        status = current_status(ticket, sla, now)
        if status != ticket.sla_status:
            marks[status].append(ticket.id)
    table = Ticket.__table__
    for status, ids in marks.items():
        # A mark is not a change anybody edits: it must not bump the optimistic-lock version.
        db.session.execute(sa.update(table).where(table.c.id.in_(ids)).values(sla_status=status))
        result.marked[str(status)] += len(ids)
    db.session.flush()


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


def _urge_or_supervise(ticket, sla, now, urge_keys, order_keys, result) -> None:
    due = ticket.handle_due_at
    stamp = due.isoformat()
    order_key = f"auto-supervise:{ticket.id}:{stamp}"
    if now >= sla.supervise_at(due):
        if order_key not in order_keys:
            transition(ticket, "supervise", None, dedupe_key=order_key,
                       reason=_("Automatic supervision: the handling deadline has passed."))
            result.supervised += 1
        return
    urge_key = f"auto-urge:{ticket.id}:{stamp}"
    if sla.urge_at(due) <= now <= due and urge_key not in urge_keys:
        transition(ticket, "urge", None, dedupe_key=urge_key,
                   reason=_("Automatic reminder: the handling deadline is near."))
        result.urged += 1


def run_scan(now: datetime, batch_size: int = 500, commit: bool = True) -> ScanResult:
    """Scan every ticket with a running clock in batches, committing after each batch."""
    result = ScanResult()
    after_id = 0
    while True:
        batch = next_batch(after_id, batch_size)
        if not batch:
            break
        after_id = batch[-1].id
        scan_batch(batch, now, result)
        if commit:
            db.session.commit()
    logger.info("sla scan: %d scanned, marks %s, %d urged, %d supervised", result.scanned,
                dict(result.marked), result.urged, result.supervised)
    return result
