"""The tickets part of a firm's 360° page (DOMAIN §6): its requests with their SLA state.

Registered on the firm page (:mod:`app.core.panels`) when the tickets blueprint is imported.
"""

from __future__ import annotations

import sqlalchemy as sa

from app.core.permissions import Permission
from app.extensions import db
from app.tickets.models import Ticket
from app.tickets.queries import visible_tickets

RECENT_TICKETS = 10


def firm_ticket_panel(firm, user) -> dict:
    """Template values: recent visible tickets of the firm and their count."""
    from app.sla.enums import SLA_STATUS_LABELS, SLA_STATUS_STYLES
    from app.tickets.models.enums import STATUS_LABELS

    values = {"firm_tickets": [], "firm_ticket_count": 0,
              "ticket_status_labels": STATUS_LABELS, "ticket_sla_labels": SLA_STATUS_LABELS,
              "ticket_sla_styles": SLA_STATUS_STYLES}
    if not user.can(Permission.TICKET_VIEW):
        return values
    mine = firm_tickets(firm, user)
    values["firm_tickets"] = db.session.scalars(
        mine.order_by(Ticket.created_at.desc(), Ticket.id.desc()).limit(RECENT_TICKETS)).all()
    values["firm_ticket_count"] = db.session.scalar(
        mine.with_only_columns(sa.func.count(Ticket.id)).order_by(None))
    return values


def firm_tickets(firm, user) -> sa.Select:
    """The firm's tickets this user may see."""
    return visible_tickets(user).where(Ticket.firm_id == firm.id)
