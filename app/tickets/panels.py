"""The tickets part of a firm's 360° page (DOMAIN §6): its requests with their SLA state.

Ratings are shown only to staff who see every ticket (dispatchers, supervisors): on a firm's
page, a rating names its evaluator's firm, and the rated unit must never learn who rated
(DOMAIN §4).
"""

from __future__ import annotations

import sqlalchemy as sa

from app.core.permissions import Permission
from app.extensions import db
from app.tickets.models import Ticket
from app.tickets.queries import visible_tickets

RECENT_TICKETS = 10


def firm_ticket_panel(firm, user) -> dict:
    """Template values: recent visible tickets of the firm, their count, and rated tickets."""
    from app.ratings.models import LEVEL_LABELS
    from app.sla.enums import SLA_STATUS_LABELS, SLA_STATUS_STYLES
    from app.tickets.models.enums import STATUS_LABELS

    values = {"firm_tickets": [], "firm_ticket_count": 0, "firm_ratings": [],
              "ticket_status_labels": STATUS_LABELS, "ticket_sla_labels": SLA_STATUS_LABELS,
              "ticket_sla_styles": SLA_STATUS_STYLES, "rating_level_labels": LEVEL_LABELS}
    if not user.can(Permission.TICKET_VIEW):
        return values
    mine = visible_tickets(user).where(Ticket.firm_id == firm.id)
    values["firm_tickets"] = db.session.scalars(
        mine.order_by(Ticket.created_at.desc(), Ticket.id.desc()).limit(RECENT_TICKETS)).all()
    values["firm_ticket_count"] = db.session.scalar(
        mine.with_only_columns(sa.func.count(Ticket.id)).order_by(None))
    if user.can(Permission.TICKET_VIEW_ALL):
        values["firm_ratings"] = db.session.scalars(
            mine.where(Ticket.rating_level.is_not(None))
            .order_by(Ticket.closed_at.desc().nulls_last(), Ticket.id.desc())
            .limit(RECENT_TICKETS)).all()
    return values
