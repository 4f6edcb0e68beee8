"""Lifecycle project verbs: templates, projects with stages, stage progress, linked tickets.

Services flush and never commit; the view or command commits once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import sqlalchemy as sa
from flask_babel import gettext as _

from app.auth.models import User
from app.core import audit
from app.core.clock import now_utc, today_local
from app.core.errors import PermissionDenied, ValidationFailed
from app.core.permissions import Permission
from app.extensions import db
from app.firms.models import Firm
from app.projects.models import (
    Project,
    ProjectEvent,
    ProjectStage,
    ProjectTicket,
    StageStatus,
    StageTemplate,
)

P = Permission


def active_templates() -> list[StageTemplate]:
    """The template stages new projects copy, in order."""
    return list(db.session.scalars(sa.select(StageTemplate).where(
        StageTemplate.is_active.is_(True)).order_by(StageTemplate.position, StageTemplate.id)))


@dataclass
class TemplateData:
    """One template stage as typed by an administrator."""

    name: str
    position: int
    default_days: int | None
    owner_unit_id: int | None
    is_active: bool = True


def save_template(row: StageTemplate | None, data: TemplateData, actor: User) -> StageTemplate:
    """Create or change a template stage (existing projects keep their own stages)."""
    if not actor.can(P.PROJECT_CONFIGURE):
        raise PermissionDenied(_("You may not change the stage template."))
    clash = db.session.scalar(sa.select(StageTemplate.id).where(
        StageTemplate.name == data.name.strip()))
    if clash is not None and (row is None or clash != row.id):
        raise ValidationFailed(_("A stage with this name exists."))
    row = row or StageTemplate()
    row.name, row.position = data.name.strip(), data.position
    row.default_days, row.owner_unit_id = data.default_days, data.owner_unit_id or None
    row.is_active = data.is_active
    db.session.add(row)
    db.session.flush()
    audit.record("project.template_save", actor=actor, obj=row, details={"name": row.name})
    return row


def create_project(firm: Firm, name: str, started_on: date, actor: User,
                   commissioner: User | None = None, description: str | None = None) -> Project:
    """Open a project for a key firm; its stages are copied from the template."""
    if not (actor.can(P.PROJECT_MANAGE_ALL) or (
            actor.can(P.PROJECT_MANAGE) and firm.commissioner_id == actor.id)):
        raise PermissionDenied(_("Only the firm's commissioner or a supervisor opens projects."))
    if not firm.is_key_firm:
        raise ValidationFailed(_("Lifecycle projects are for key enterprises."))
    commissioner = commissioner or firm.commissioner
    project = Project(firm=firm, name=name.strip(), started_on=started_on,
                      commissioner=commissioner, description=(description or "").strip() or None,
                      created_by_id=actor.id)
    due = started_on
    for position, template in enumerate(active_templates(), start=1):
        due = due + timedelta(days=template.default_days) if template.default_days else due
        project.stages.append(ProjectStage(
            name=template.name, position=position, owner_unit_id=template.owner_unit_id,
            due_on=due if template.default_days else None, status=StageStatus.PENDING))
    if project.stages:
        project.stages[0].status = StageStatus.IN_PROGRESS
    db.session.add(project)
    db.session.flush()
    _event(project, actor, "create", project.name)
    audit.record("project.create", actor=actor, obj=project, details={"firm": firm.uscc})
    return project


@dataclass
class StageData:
    """Changes to one stage."""

    status: str
    owner_unit_id: int | None
    due_on: date | None
    completed_on: date | None = None
    note: str | None = None


def update_stage(stage: ProjectStage, data: StageData, actor: User) -> ProjectStage:
    """Set a stage's owner, due date and status; ``done`` records its completion date."""
    if not stage.project.can_manage(actor):
        raise PermissionDenied(_("You may not change this project."))
    status = StageStatus(data.status)
    completed = (data.completed_on or today_local()) if status == StageStatus.DONE else None
    if completed is not None and completed > today_local():
        raise ValidationFailed(_("A stage cannot be completed in the future."))
    before = str(stage.status)
    stage.status, stage.completed_on = status, completed
    stage.owner_unit_id, stage.due_on = data.owner_unit_id or None, data.due_on
    stage.note = (data.note or "").strip() or stage.note
    db.session.flush()
    _event(stage.project, actor, "stage", f"{before} → {status.value}", stage)
    audit.record("project.stage_update", actor=actor, obj=stage,
                 details={"from": before, "to": status.value,
                          "due_on": data.due_on.isoformat() if data.due_on else None})
    return stage


def link_ticket(project: Project, ticket, actor: User, stage: ProjectStage | None = None):
    """Link a ticket to the project and to a stage (its current stage unless one is given)."""
    if not project.can_manage(actor) or not ticket.can_view(actor):
        raise PermissionDenied(_("You may not link this ticket."))
    if ticket.firm_id != project.firm_id:
        raise ValidationFailed(_("The ticket belongs to another firm."))
    if db.session.get(ProjectTicket, ticket.id) is not None:
        raise ValidationFailed(_("This ticket is already linked to a project."))
    stage = stage or project.current_stage
    row = ProjectTicket(ticket_id=ticket.id, project_id=project.id,
                        stage_id=stage.id if stage else None, linked_at=now_utc(),
                        linked_by_id=actor.id)
    db.session.add(row)
    db.session.flush()
    _event(project, actor, "ticket", ticket.reference, stage)
    audit.record("project.link_ticket", actor=actor, obj=project,
                 details={"ticket": ticket.reference, "stage": stage.name if stage else None})
    return row


def _event(project: Project, actor: User | None, action: str, text: str | None,
           stage: ProjectStage | None = None) -> ProjectEvent:
    row = ProjectEvent(project_id=project.id, stage_id=stage.id if stage else None,
                       at=now_utc(), actor_id=getattr(actor, "id", None), action=action,
                       text=text)
    db.session.add(row)
    db.session.flush()
    return row
