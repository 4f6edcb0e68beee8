"""What the firm's 360° page and the ticket page show of visits and visit issues.

Registered on those pages (:mod:`app.core.panels`) when the visits blueprint is imported, so
the rules of who sees which visit stay here and neither firms nor tickets import visits.
"""

from __future__ import annotations

from app.core.caches import memo
from app.core.permissions import Permission
from app.extensions import db
from app.visits import queries

#: Latest visits shown on the firm page (the full list is one click away).
RECENT_VISITS = 5


def firm_visit_panel(firm, user) -> dict:
    """Template values for the firm page: recent visits and open issues."""
    values = {"firm_visits": [], "firm_open_issues": [], "firm_visit_count": 0}
    if user.can(Permission.VISIT_VIEW_UNIT):
        values["firm_visits"] = db.session.scalars(
            queries.firm_visits(firm.id, user, RECENT_VISITS)).all()
        values["firm_visit_count"] = db.session.scalar(
            queries.visible_visits(user).where(queries.Visit.firm_id == firm.id)
            .with_only_columns(db.func.count()))
        issues = db.session.scalars(queries.firm_issues(firm.id, user).limit(50)).all()
        values["firm_open_issues"] = [i for i in issues if not i.is_closed_out]
    return values


def ticket_visit_panel(ticket, user) -> dict:
    """The visit issue a ticket was handed over from, for the ticket page (when ``user`` may
    see the visit; a firm user never does).

    Looked for only on tickets of the ``visit`` channel, the only ones a visit hands over.
    """
    from app.tickets.models import Channel

    issue = None
    if ticket.channel == Channel.VISIT:
        issue = db.session.scalar(_issue_statement(), {"ticket_id": ticket.id})
    return {"visit_issue": issue if issue is not None and issue.visit.can_view(user) else None}


@memo("visits.ticket_issue_statement")
def _issue_statement():
    """:func:`ticket_visit_panel`'s visit issue, with the parameter ``ticket_id``; built once:
    building it and its cache key cost more than running it."""
    from sqlalchemy.orm import joinedload, lazyload

    from app.visits.models import VisitIssue

    return (db.select(VisitIssue)
            .options(lazyload(VisitIssue.ticket), joinedload(VisitIssue.visit))
            .where(VisitIssue.ticket_id == db.bindparam("ticket_id")))
