"""Read side of ratings: the rectification list, and figures for supervisors and reports.

``handle_now_rate`` is 马上办率 of DOMAIN §7: handle_now tickets closed by a direct answer or
within the same working day, over all tickets created in the period. Everything is counted by
the database.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from app.core.clock import now_utc
from app.core.permissions import Permission as P
from app.extensions import db
from app.ratings.models import (
    OPEN_RECTIFICATION_STATES,
    Rating,
    Rectification,
    RectificationStatus,
)
from app.sla.enums import ServiceMode
from app.tickets.models import Ticket, TicketEvent


@dataclass(frozen=True)
class Figure:
    """A ratio with its parts (``rate`` is ``None`` when nothing was counted)."""

    numerator: int
    denominator: int

    @property
    def rate(self) -> float | None:
        """numerator / denominator."""
        return self.numerator / self.denominator if self.denominator else None


def visible_rectifications(user) -> sa.Select:
    """Rectifications the user may see: all for the centre and supervisors, else own unit."""
    statement = sa.select(Rectification).join(Ticket, Rectification.ticket_id == Ticket.id)
    if user.can(P.RECTIFICATION_SUPERVISE) or user.can(P.RECTIFICATION_CALLBACK):
        return statement
    if user.can(P.RECTIFICATION_HANDLE) and user.unit_id is not None:
        return statement.where(Rectification.unit_id == user.unit_id)
    return statement.where(sa.false())


def rectification_list(user, q: str = "", status: str = "open", overdue: bool = False):
    """The list page's query: open ones first by due date, with search and filters."""
    statement = visible_rectifications(user)
    if q:
        statement = statement.where(Ticket.reference.ilike(f"%{q.strip()}%"))
    if status == "open":
        statement = statement.where(Rectification.status.in_(OPEN_RECTIFICATION_STATES))
    elif status in set(RectificationStatus):
        statement = statement.where(Rectification.status == status)
    if overdue:
        statement = statement.where(
            Rectification.status.in_([RectificationStatus.AWAITING_CALLBACK,
                                      RectificationStatus.AWAITING_CLASSIFICATION,
                                      RectificationStatus.IN_PROGRESS,
                                      RectificationStatus.APPEALED]),
            Rectification.due_at < now_utc())
    return statement.order_by(Rectification.due_at, Rectification.id)


def _period(column, start: datetime | None, end: datetime | None) -> list:
    conditions = []
    if start is not None:
        conditions.append(column >= start)
    if end is not None:
        conditions.append(column < end)
    return conditions


def handle_now_rate(start: datetime | None = None, end: datetime | None = None) -> Figure:
    """马上办率: tickets answered directly at intake, or handle_now tickets answered within
    their same-working-day deadline, over all tickets submitted in ``[start, end)``."""
    in_period = _period(Ticket.submitted_at, start, end)
    direct = sa.exists().where(TicketEvent.ticket_id == Ticket.id,
                               TicketEvent.action == "answer_directly")
    same_day = sa.and_(Ticket.service_mode == ServiceMode.HANDLE_NOW,
                       Ticket.replied_at.is_not(None), Ticket.handle_due_at.is_not(None),
                       Ticket.replied_at <= Ticket.handle_due_at)
    total = db.session.scalar(sa.select(sa.func.count(Ticket.id)).where(*in_period))
    quick = db.session.scalar(sa.select(sa.func.count(Ticket.id)).where(
        *in_period, sa.or_(direct, same_day)))
    return Figure(quick or 0, total or 0)


def satisfaction_rate(start: datetime | None = None, end: datetime | None = None) -> Figure:
    """满意率: tickets rated 3–5 over tickets rated, by rating time."""
    base = sa.select(sa.func.count(Rating.id)).join(Ticket, Rating.ticket_id == Ticket.id).where(
        *_period(Rating.rated_at, start, end))
    rated = db.session.scalar(base)
    good = db.session.scalar(base.where(Ticket.rating_level >= 3))
    return Figure(good or 0, rated or 0)


def callback_rate(start: datetime | None = None, end: datetime | None = None) -> Figure:
    """差评回访率: 差评 rectifications whose evaluator was called back, over all opened."""
    base = sa.select(sa.func.count(Rectification.id)).where(
        *_period(Rectification.opened_at, start, end))
    opened = db.session.scalar(base)
    called = db.session.scalar(base.where(Rectification.callback_at.is_not(None)))
    return Figure(called or 0, opened or 0)


def rectification_rate(start: datetime | None = None, end: datetime | None = None) -> Figure:
    """整改率: rectifications with a recorded result (or an upheld appeal), over all opened."""
    base = sa.select(sa.func.count(Rectification.id)).where(
        *_period(Rectification.opened_at, start, end))
    opened = db.session.scalar(base)
    done = db.session.scalar(base.where(sa.or_(Rectification.result.is_not(None),
                                               Rectification.appeal_upheld.is_(True))))
    return Figure(done or 0, opened or 0)
