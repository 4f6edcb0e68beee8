"""Lifecycle projects (DOMAIN §6): stages from the template, progress, overdue stages, tickets."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from app.core.clock import today_local
from app.core.errors import PermissionDenied, ValidationFailed
from app.core.permissions import Role
from app.extensions import db
from app.projects import queries, services
from app.projects.models import DEFAULT_STAGES, StageStatus


def test_a_project_copies_the_seeded_stage_template(make):
    project = make.project()
    assert [s.name for s in project.stages] == DEFAULT_STAGES
    assert project.current_stage.name == "签约落地"
    assert project.current_stage.status == StageStatus.IN_PROGRESS


def test_only_key_firms_get_projects(make):
    handler = make.user(Role.HANDLER)
    firm = make.firm(commissioner_id=handler.id)
    with pytest.raises(ValidationFailed):
        services.create_project(firm, "项目", today_local(), handler)


def test_only_the_commissioner_or_a_supervisor_opens_a_project(make):
    commissioner, other = make.user(Role.HANDLER), make.user(Role.HANDLER)
    firm = make.firm(is_key_firm=True, commissioner_id=commissioner.id)
    with pytest.raises(PermissionDenied):
        services.create_project(firm, "项目", today_local(), other)
    assert services.create_project(firm, "项目", today_local(), make.user(Role.SUPERVISOR))


def test_completing_a_stage_records_its_date_and_moves_the_current_stage(make, frozen_clock):
    project = make.project()
    first = project.stages[0]
    services.update_stage(first, services.StageData("done", None, first.due_on),
                          project.commissioner)
    assert first.completed_on == today_local()
    assert project.current_stage.name == "企业设立"


def test_overdue_stages_are_shown_to_the_commissioner_and_supervisors_only(make, frozen_clock):
    project = make.project(started_on=today_local() - timedelta(days=90))
    late = {s.id for s in project.overdue_stages(today_local())}
    assert late  # 30-day stages since 90 days ago
    supervisor, stranger = make.user(Role.SUPERVISOR), make.user(Role.HANDLER)
    for user, expected in ((project.commissioner, late), (supervisor, late),
                           (stranger, set())):
        seen = {s.id for s in db.session.scalars(queries.overdue_stages(user, today_local()))}
        assert seen == expected


def test_a_stage_owner_unit_sees_the_project(make):
    project = make.project()
    owner = make.user(Role.HANDLER)
    assert not project.can_view(owner)
    services.update_stage(project.stages[2], services.StageData(
        "pending", owner.unit_id, date(2026, 12, 31)), project.commissioner)
    assert project.can_view(owner)
    assert db.session.scalar(queries.visible_projects(owner).with_only_columns(
        sa.func.count())) == 1


def test_a_ticket_is_linked_to_the_project_and_its_current_stage(make):
    project = make.project()
    ticket = make.ticket(project.commissioner, firm=project.firm, requester=None)
    supervisor = make.user(Role.SUPERVISOR)
    link = services.link_ticket(project, ticket, supervisor)
    assert link.stage_id == project.current_stage.id
    with pytest.raises(ValidationFailed):
        services.link_ticket(project, ticket, supervisor)
    actions = [e.action for e in db.session.scalars(queries.timeline(project.id))]
    assert actions == ["create", "ticket"]


def test_project_pages_render_for_commissioner_and_refuse_firm_users(make, client, login_as):
    project = make.project()
    login_as(project.commissioner)
    page = client.get(f"/projects/{project.id}").get_data(as_text=True)
    assert "投产达产" in page
    assert client.get("/projects/").status_code == 200
    login_as(make.user(Role.FIRM_USER, firm_id=project.firm_id))
    assert client.get(f"/projects/{project.id}").status_code == 403


def test_admin_edits_the_stage_template(make):
    admin = make.user(Role.ADMIN)
    row = services.save_template(None, services.TemplateData("环评批复", 35, 20, None), admin)
    assert row.id is not None
    with pytest.raises(PermissionDenied):
        services.save_template(None, services.TemplateData("能评", 36, 20, None),
                               make.user(Role.HANDLER))


def test_ticket_page_names_the_project_stage(make, client, login_as):
    project = make.project()
    ticket = make.ticket(project.commissioner, firm=project.firm, requester=None)
    services.link_ticket(project, ticket, make.user(Role.SUPERVISOR))
    db.session.commit()
    login_as(make.user(Role.DISPATCHER))
    page = client.get(f"/tickets/{ticket.reference}").get_data(as_text=True)
    assert f"/projects/{project.id}" in page and "签约落地" in page


def test_project_page_shows_stage_history_and_ticket_states_by_their_labels(make, client,
                                                                             login_as):
    """Issue 16: never "pending → in_progress" or "submitted" on a project page."""
    project = make.project()
    services.update_stage(project.stages[1], services.StageData("in_progress", None, None),
                          project.commissioner)
    ticket = make.ticket(project.commissioner, firm=project.firm, requester=None)
    services.link_ticket(project, ticket, project.commissioner)
    db.session.commit()
    login_as(make.user(Role.SUPERVISOR))
    page = client.get(f"/projects/{project.id}",
                      headers={"Accept-Language": "en"}).get_data(as_text=True)
    timeline = page[page.index('data-testid="timeline"'):]
    assert "Not started → In progress" in timeline
    assert "pending → in_progress" not in page and "in_progress" not in timeline
    tickets = page[page.index('id="tickets"'):page.index('data-testid="timeline"')]
    assert "· Submitted" in tickets and "· submitted" not in tickets
def test_a_project_page_hides_the_tickets_the_reader_may_not_open(make, client, login_as):
    """Issue 15, finding 4: a stage owner of another unit saw the linked tickets' titles."""
    project = make.project()
    ticket = make.ticket(project.commissioner, firm=project.firm, requester=None,
                         title="机密诉求标题")
    services.link_ticket(project, ticket, make.user(Role.SUPERVISOR))
    owner = make.user(Role.HANDLER)
    services.update_stage(project.stages[2], services.StageData(
        "pending", owner.unit_id, date(2026, 12, 31)), project.commissioner)
    db.session.commit()
    assert not ticket.can_view(owner) and project.can_view(owner)
    login_as(owner)
    page = client.get(f"/projects/{project.id}").get_data(as_text=True)
    linked = page.split('data-testid="project-tickets"')[1].split("</ul>")[0]
    assert "A ticket of another unit" in linked
    assert ticket.reference not in linked and "机密诉求标题" not in linked
    assert "submitted" not in linked
    login_as(make.user(Role.DISPATCHER))
    page = client.get(f"/projects/{project.id}").get_data(as_text=True)
    assert "机密诉求标题" in page and f"/tickets/{ticket.reference}" in page
