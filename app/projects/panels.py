"""What the firm's 360° page and the ticket page show of lifecycle projects.

Registered on those pages (:mod:`app.core.panels`) when the projects blueprint is imported,
so neither firms nor tickets import projects.
"""

from __future__ import annotations

from app.core.caches import memo
from app.core.permissions import Permission
from app.extensions import db
from app.projects import queries


def firm_project_panel(firm, user) -> dict:
    """Template values for the firm page: the firm's projects the user may see."""
    projects = []
    if user.can(Permission.PROJECT_VIEW):
        projects = db.session.scalars(queries.firm_projects(firm.id, user)).all()
    return {"firm_projects": projects}


def ticket_project_panel(ticket, user) -> dict:
    """The project stage a ticket serves, for the ticket page (when ``user`` may see the
    project; a firm user never does): the link and its project in one statement."""
    found = db.session.execute(_project_link_statement(), {"ticket_id": ticket.id}).first()
    link, project = found if found is not None else (None, None)
    return {"project_link": link if link is not None and project.can_view(user) else None}


@memo("projects.ticket_link_statement")
def _project_link_statement():
    """:func:`ticket_project_panel`'s link and project, with the parameter ``ticket_id``;
    built once: building it and its cache key cost more than running it. Only the stage is
    joined (its name is shown); the project's firm and commissioner and the stage's owner
    unit, which the line does not show, are not."""
    from sqlalchemy.orm import joinedload, lazyload

    from app.projects.models import Project, ProjectStage, ProjectTicket

    return (db.select(ProjectTicket, Project)
            .options(lazyload(ProjectTicket.ticket),
                     joinedload(ProjectTicket.stage).lazyload(ProjectStage.owner_unit),
                     lazyload(Project.firm), lazyload(Project.commissioner))
            .join(Project, Project.id == ProjectTicket.project_id)
            .where(ProjectTicket.ticket_id == db.bindparam("ticket_id")))
