"""The firm's 360° page shows its visits, open issues and projects to staff, never to firms."""

from __future__ import annotations

from app.core.permissions import Role


def test_firm_page_shows_visits_open_issues_and_projects(client, login_as, crew, make):
    visit = make.visit(crew.firm, crew.handler)
    make.visit_issue(visit, description="厂区道路破损需修复")
    crew.firm.is_key_firm = True
    project = make.project(crew.firm, crew.handler, name="二期扩产项目")
    login_as(crew.handler)
    page = client.get(f"/firms/{crew.firm.id}").get_data(as_text=True)
    assert f"/visits/{visit.id}" in page
    assert "厂区道路破损需修复" in page
    assert f"/projects/{project.id}" in page and "签约落地" in page


def test_firm_page_hides_visits_another_unit_may_not_see(client, login_as, crew, make):
    make.visit(crew.firm, crew.colleague)
    outsider = make.user(Role.HANDLER)
    login_as(outsider)
    page = client.get(f"/firms/{crew.firm.id}").get_data(as_text=True)
    assert "No visits recorded." in page
