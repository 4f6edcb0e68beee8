"""Provisional deadlines: those counted over next year's provisional calendar days.

Next year, before the State Council's notice reaches the calendar, is covered by provisional
days (:func:`app.sla.services.provisional_year`). A ticket's deadline counted over them is
stored with its bit in ``Ticket.provisional_deadlines``
(:func:`app.tickets.deadlines.mark_provisional`). This module counts them for the calendar
page, and recomputes them when the official days replace the provisional ones.
"""

from __future__ import annotations

import sqlalchemy as sa

from app.extensions import db
from app.sla import services as sla_services
from app.tickets.models import FINISHED_STATES, Ticket

#: Open tickets with a provisional deadline: read through the partial index.
_OPEN_PROVISIONAL = (Ticket.provisional_deadlines != 0,
                     Ticket.status.not_in([str(s) for s in FINISHED_STATES]))


def open_provisional_count() -> int:
    """Open tickets with at least one provisional deadline."""
    return db.session.scalar(sa.select(sa.func.count()).select_from(Ticket)
                             .where(*_OPEN_PROVISIONAL)) or 0


sla_services.PROVISIONAL_USE_COUNTERS.append(open_provisional_count)
