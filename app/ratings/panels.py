"""The ratings part of a firm's 360° page: its rated tickets.

Shown only to staff who see every ticket (dispatchers, supervisors): on a firm's page, a rating
names its evaluator's firm, and the rated unit must never learn who rated (DOMAIN §4).
Registered on the firm page (:mod:`app.core.panels`) when the ratings blueprint is imported.
"""

from __future__ import annotations

from app.core.permissions import Permission
from app.extensions import db
from app.ratings.models import LEVEL_LABELS
from app.tickets.models import Ticket
from app.tickets.panels import RECENT_TICKETS, firm_tickets


def firm_rating_panel(firm, user) -> dict:
    """Template values: the firm's latest rated tickets (for staff who see every ticket)."""
    values = {"firm_ratings": [], "rating_level_labels": LEVEL_LABELS}
    if user.can(Permission.TICKET_VIEW) and user.can(Permission.TICKET_VIEW_ALL):
        values["firm_ratings"] = db.session.scalars(
            firm_tickets(firm, user).where(Ticket.rating_level.is_not(None))
            .order_by(Ticket.closed_at.desc().nulls_last(), Ticket.id.desc())
            .limit(RECENT_TICKETS)).all()
    return values
