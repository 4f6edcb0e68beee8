"""Project pages: list with overdue stages, a project's stages, tickets and timeline,
and the stage template (administrators)."""

from __future__ import annotations

import re

import sqlalchemy as sa
from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.auth.models import Unit
from app.core.clock import today_local
from app.core.forms import options
from app.core.pagination import paginate
from app.core.permissions import Permission, require, require_permission
from app.core.transactions import commit_or_explain
from app.extensions import db
from app.firms.models import Firm
from app.projects import bp, queries, services
from app.projects.forms import LinkTicketForm, ProjectForm, StageForm, TemplateForm
from app.projects.models import (
    STAGE_STATUS_LABELS,
    Project,
    ProjectStage,
    StageStatus,
    StageTemplate,
)
from app.tickets.models.enums import STATUS_LABELS
from app.tickets.queries import get_visible_by_reference

P = Permission


@bp.context_processor
def _labels():
    return {"stage_labels": STAGE_STATUS_LABELS, "today": today_local()}


def _unit_choices(blank: str):
    units = db.session.scalars(sa.select(Unit).where(Unit.is_active.is_(True))
                               .order_by(Unit.name))
    return options([(0, blank)] + [(u.id, u.name) for u in units])


@bp.route("/")
@require_permission(P.PROJECT_VIEW)
def index():
    """Projects the user may see; overdue stages first, for commissioners and supervisors."""
    q = request.args.get("q", "")
    overdue_only = request.args.get("overdue") == "yes"
    today = today_local()
    page = paginate(queries.projects_query(current_user, q, overdue_only, today))
    overdue = db.session.scalars(queries.overdue_stages(current_user, today).limit(50)).all()
    return render_template("projects/index.html", page=page, overdue=overdue, q=q,
                           overdue_only=overdue_only)


@bp.route("/new/<int:firm_id>", methods=["GET", "POST"])
@require_permission(P.PROJECT_MANAGE)
def create(firm_id: int):
    """Open a project for a key firm (its commissioner or a supervisor)."""
    firm = db.get_or_404(Firm, firm_id)
    form = ProjectForm()
    if request.method == "GET":
        form.started_on.data = today_local()
    if form.validate_on_submit() and (project := commit_or_explain(
            lambda: services.create_project(firm, form.name.data, form.started_on.data,
                                            current_user, description=form.description.data),
            _("Project opened."))):
        return redirect(url_for("projects.detail", project_id=project.id))
    return render_template("projects/form.html", form=form, firm=firm)


def _visible(project_id: int) -> Project:
    project = db.get_or_404(Project, project_id)
    require(project.can_view(current_user))
    return project


@bp.route("/<int:project_id>")
@require_permission(P.PROJECT_VIEW)
def detail(project_id: int):
    """Stages, linked tickets and the timeline of one project."""
    project = _visible(project_id)
    link_form = LinkTicketForm()
    link_form.stage_id.choices = options([(0, _("Current stage"))] + [
        (s.id, s.name) for s in project.stages])
    stage_forms = {}
    for stage in project.stages:
        form = StageForm(prefix=f"s{stage.id}", obj=stage)
        form.owner_unit_id.choices = _unit_choices(_("— none —"))
        form.owner_unit_id.data = stage.owner_unit_id or 0
        form.status.data = str(stage.status)
        stage_forms[stage.id] = form
    return render_template(
        "projects/detail.html", project=project, can_manage=project.can_manage(current_user),
        tickets=db.session.execute(queries.project_tickets(project.id, current_user)).all(),
        events=[(event, _event_text(event))
                for event in db.session.scalars(queries.timeline(project.id))],
        ticket_status_labels=STATUS_LABELS,
        link_form=link_form, stage_forms=stage_forms)


#: A stage change is stored as "pending → in_progress": shown with the statuses' labels.
STAGE_CHANGE = re.compile(r"^(\w+) → (\w+)$")


def _event_text(event) -> str:
    """A timeline entry in the reader's words: stage statuses through their labels."""
    change = STAGE_CHANGE.match(event.text or "") if event.action == "stage" else None
    if change and all(part in STAGE_STATUS_LABELS for part in change.groups()):
        return " → ".join(str(STAGE_STATUS_LABELS[StageStatus(part)]) for part in change.groups())
    return event.text or ""


@bp.route("/stages/<int:stage_id>", methods=["POST"])
@require_permission(P.PROJECT_MANAGE)
def update_stage(stage_id: int):
    """Save one stage's owner, due date and status."""
    stage = db.get_or_404(ProjectStage, stage_id)
    require(stage.project.can_view(current_user))
    form = StageForm(prefix=f"s{stage.id}")
    form.owner_unit_id.choices = _unit_choices("")
    if not form.validate_on_submit():
        flash(_("Check the stage's dates."), "danger")
    else:
        commit_or_explain(lambda: services.update_stage(stage, services.StageData(
            form.status.data, form.owner_unit_id.data or None, form.due_on.data,
            form.completed_on.data, form.note.data), current_user), _("Stage saved."))
    return redirect(url_for("projects.detail", project_id=stage.project_id, _anchor="stages"))


@bp.route("/<int:project_id>/tickets", methods=["POST"])
@require_permission(P.PROJECT_MANAGE)
def link_ticket(project_id: int):
    """Link a ticket of the firm to the project and a stage."""
    project = _visible(project_id)
    form = LinkTicketForm()
    form.stage_id.choices = options([(0, "")] + [(s.id, s.name) for s in project.stages])
    if not form.validate_on_submit():
        abort(400)
    ticket = get_visible_by_reference(current_user, form.reference.data.strip().upper())
    stage = next((s for s in project.stages if s.id == form.stage_id.data), None)
    if ticket is None:
        flash(_("No ticket with this reference that you may see."), "danger")
    else:
        commit_or_explain(lambda: services.link_ticket(project, ticket, current_user, stage),
                          _("Ticket linked."))
    return redirect(url_for("projects.detail", project_id=project.id, _anchor="tickets"))


@bp.route("/templates")
@require_permission(P.PROJECT_CONFIGURE)
def templates():
    """The lifecycle stage template."""
    rows = db.session.scalars(sa.select(StageTemplate).order_by(StageTemplate.position,
                                                                StageTemplate.id)).all()
    return render_template("projects/templates.html", rows=rows)


@bp.route("/templates/new", methods=["GET", "POST"])
@bp.route("/templates/<int:template_id>", methods=["GET", "POST"])
@require_permission(P.PROJECT_CONFIGURE)
def template_form(template_id: int | None = None):
    """Create or change one template stage."""
    row = db.get_or_404(StageTemplate, template_id) if template_id else None
    form = TemplateForm(obj=row)
    form.owner_unit_id.choices = _unit_choices(_("— none —"))
    if request.method == "GET" and row is not None:
        form.owner_unit_id.data = row.owner_unit_id or 0
    if form.validate_on_submit() and commit_or_explain(
            lambda: services.save_template(row, services.TemplateData(
                form.name.data, form.position.data, form.default_days.data,
                form.owner_unit_id.data or None, form.is_active.data), current_user),
            _("Stage template saved."), form=form, field="name"):
        return redirect(url_for("projects.templates"))
    return render_template("projects/template_form.html", form=form, row=row)
