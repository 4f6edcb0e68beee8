"""What the firm's 360° page shows of visits, issues and lifecycle projects.

The firms package calls :func:`firm_panels` and includes the two panel templates, so the
rules of who sees which visit stay here.
"""

from __future__ import annotations

from functools import cache

from app.core.permissions import Permission
from app.extensions import db
from app.projects import queries as project_queries
from app.visits import queries

#: Latest visits shown on the firm page (the full list is one click away).
RECENT_VISITS = 5


def firm_panels(firm, user) -> dict:
    """Template values for the firm page: recent visits, open issues, projects."""
    values = {"firm_visits": [], "firm_open_issues": [], "firm_projects": [],
              "firm_visit_count": 0}
    if user.can(Permission.VISIT_VIEW_UNIT):
        values["firm_visits"] = db.session.scalars(
            queries.firm_visits(firm.id, user, RECENT_VISITS)).all()
        values["firm_visit_count"] = db.session.scalar(
            queries.visible_visits(user).where(queries.Visit.firm_id == firm.id)
            .with_only_columns(db.func.count()))
        issues = db.session.scalars(queries.firm_issues(firm.id, user).limit(50)).all()
        values["firm_open_issues"] = [i for i in issues if not i.is_closed_out]
    if user.can(Permission.PROJECT_VIEW):
        values["firm_projects"] = db.session.scalars(
            project_queries.firm_projects(firm.id, user)).all()
    return values


def ticket_links(ticket, user) -> dict:
    """Where a ticket came from and what it serves, for the ticket page: the visit issue it was
    handed over from and the lifecycle project stage it is linked to (when ``user`` may see
    them; a firm user sees neither).

    One statement for the project link and its project; the visit issue is looked for only on
    tickets of the ``visit`` channel, the only ones a visit hands over.
    """
    from app.tickets.models import Channel

    params = {"ticket_id": ticket.id}
    issue = None
    if ticket.channel == Channel.VISIT:
        issue = db.session.scalar(_issue_statement(), params)
    found = db.session.execute(_project_link_statement(), params).first()
    link, project = found if found is not None else (None, None)
    return {"issue": issue if issue is not None and issue.visit.can_view(user) else None,
            "project_link": link if link is not None and project.can_view(user) else None}


@cache
def _issue_statement():
    """:func:`ticket_links`' visit issue, with the parameter ``ticket_id``. Like the next one,
    built once: building it and its cache key cost more than running it."""
    from sqlalchemy.orm import joinedload, lazyload

    from app.visits.models import VisitIssue

    return (db.select(VisitIssue)
            .options(lazyload(VisitIssue.ticket), joinedload(VisitIssue.visit))
            .where(VisitIssue.ticket_id == db.bindparam("ticket_id")))


@cache
def _project_link_statement():
    """:func:`ticket_links`' project link and project, with the parameter ``ticket_id``.
    Only the stage is joined (its name is shown); the project's firm and commissioner and the
    stage's owner unit, which the line does not show, are not."""
    from sqlalchemy.orm import joinedload, lazyload

    from app.projects.models import Project, ProjectStage, ProjectTicket

    return (db.select(ProjectTicket, Project)
            .options(lazyload(ProjectTicket.ticket),
                     joinedload(ProjectTicket.stage).lazyload(ProjectStage.owner_unit),
                     lazyload(Project.firm), lazyload(Project.commissioner))
            .join(Project, Project.id == ProjectTicket.project_id)
            .where(ProjectTicket.ticket_id == db.bindparam("ticket_id")))
