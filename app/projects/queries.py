"""Project queries: visibility, lists, overdue stages, the timeline."""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from sqlalchemy.orm import aliased

from app.core.permissions import Permission
from app.projects.models import (
    FINISHED_STAGE_STATES,
    Project,
    ProjectEvent,
    ProjectStage,
    ProjectTicket,
)
from app.tickets.models import Ticket
from app.tickets.queries import visibility_clause as ticket_visibility


def visibility_clause(user) -> sa.ColumnElement[bool]:
    """:meth:`Project.can_view` in SQL."""
    if user is None or not getattr(user, "is_authenticated", False):
        return sa.false()
    if user.can(Permission.PROJECT_VIEW_ALL):
        return sa.true()
    if not user.can(Permission.PROJECT_VIEW):
        return sa.false()
    owned = aliased(ProjectStage)
    owns_stage = sa.exists().where(owned.project_id == Project.id,
                                   owned.owner_unit_id == user.unit_id)
    return sa.or_(Project.commissioner_id == user.id, owns_stage)


def visible_projects(user) -> sa.Select:
    """``select(Project)`` limited to what ``user`` may see."""
    return sa.select(Project).where(visibility_clause(user))


def _overdue(today: date):
    return sa.and_(ProjectStage.status.not_in([s.value for s in FINISHED_STAGE_STATES]),
                   ProjectStage.due_on.is_not(None), ProjectStage.due_on < today)


def projects_query(user, q: str = "", overdue_only: bool = False,
                   today: date | None = None) -> sa.Select:
    """Visible projects, optionally only those with an overdue stage."""
    from app.firms.models import Firm

    stmt = visible_projects(user).join(Firm, Project.firm_id == Firm.id)
    if q.strip():
        pattern = f"%{q.strip()}%"
        stmt = stmt.where(sa.or_(Project.name.like(pattern), Firm.name.like(pattern)))
    if overdue_only and today is not None:
        stmt = stmt.where(sa.exists().where(ProjectStage.project_id == Project.id, _overdue(today)))
    return stmt.order_by(Project.started_on.desc(), Project.id.desc())


def overdue_stages(user, today: date) -> sa.Select:
    """Overdue stages of the projects ``user`` may see (commissioners and supervisors)."""
    return (sa.select(ProjectStage).join(Project, ProjectStage.project_id == Project.id)
            .where(visibility_clause(user), _overdue(today))
            .order_by(ProjectStage.due_on, ProjectStage.id))


def firm_projects(firm_id: int, user) -> sa.Select:
    """Visible projects of one firm (its 360° page)."""
    return visible_projects(user).where(Project.firm_id == firm_id).order_by(Project.id.desc())


def project_tickets(project_id: int, user) -> sa.Select:
    """Tickets linked to the project, each with ``may_open``: whether ``user`` may open the
    ticket (the tickets' own rule). A project spans units; a reader sees the other units'
    tickets only as "a ticket of another unit", never their reference, title or status."""
    may_open = sa.case((ticket_visibility(user), True), else_=False).label("may_open")
    return (sa.select(ProjectTicket, may_open)
            .join(Ticket, Ticket.id == ProjectTicket.ticket_id)
            .where(ProjectTicket.project_id == project_id)
            .order_by(ProjectTicket.linked_at))


def timeline(project_id: int) -> sa.Select:
    """The project's events, oldest first."""
    return (sa.select(ProjectEvent).where(ProjectEvent.project_id == project_id)
            .order_by(ProjectEvent.at, ProjectEvent.id))
