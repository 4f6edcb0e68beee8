"""Visit pages: recording on a phone-sized form, the issue rows, handing over, the list."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from app.core.clock import now_utc, to_local
from app.extensions import db
from app.tickets.models import Channel, Ticket, TicketEvent
from app.visits.models import Visit, VisitIssue
from tests.helpers import count_queries, csrf_token


def _local(value):
    return to_local(value).strftime("%Y-%m-%dT%H:%M")


def _form(crew, **extra):
    data = {"visited_at": _local(now_utc() - timedelta(hours=2)), "mode": "onsite",
            "purposes": ["policy_publicity", "research"], "lead_visitor_id": crew.handler.id,
            "contact_ids": [crew.contact.id], "operating_status": "一季度产值同比增长12%。",
            "campaign_id": 0, "confirmed_by": "",
            "issues-0-category_id": 0, "issues-0-description": "招工难，缺少熟练技工。",
            "issues-1-category_id": 0, "issues-1-description": "希望了解研发费用加计扣除政策。",
            "issues-1-is_solved_on_site": "y", "issues-1-solution": "现场讲解政策并提供申报指南。"}
    data.update(extra)
    return data


def test_handler_records_a_visit_with_two_issues(client, login_as, crew):
    login_as(crew.handler)
    path = f"/visits/new/{crew.firm.id}"
    data = _form(crew)
    data["csrf_token"] = csrf_token(client, path)
    response = client.post(path, data=data)
    assert response.status_code == 302
    visit = db.session.scalar(sa.select(Visit).where(Visit.firm_id == crew.firm.id))
    assert visit.unit_id == crew.unit.id
    assert sorted(visit.purpose_values) == ["policy_publicity", "research"]
    issues = db.session.scalars(sa.select(VisitIssue).where(VisitIssue.visit_id == visit.id)
                                .order_by(VisitIssue.id)).all()
    assert [i.is_solved_on_site for i in issues] == [False, True]
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "招工难" in page and "Solved on site" in page


def test_add_another_issue_shows_one_more_row_and_saves_nothing(client, login_as, crew):
    login_as(crew.handler)
    path = f"/visits/new/{crew.firm.id}"
    data = _form(crew, add_issue="1")
    data["csrf_token"] = csrf_token(client, path)
    response = client.post(path, data=data)
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert page.count('data-testid="issue-row"') == 3
    assert "招工难" in page
    assert db.session.scalar(sa.select(sa.func.count(Visit.id))) == 0


def test_a_visit_in_the_future_is_refused_next_to_the_field(client, login_as, crew):
    login_as(crew.handler)
    path = f"/visits/new/{crew.firm.id}"
    data = _form(crew, visited_at=_local(now_utc() + timedelta(days=1)))
    data["csrf_token"] = csrf_token(client, path)
    response = client.post(path, data=data)
    assert response.status_code == 422
    assert "cannot be recorded before it happens" in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count(Visit.id))) == 0


def test_an_issue_becomes_a_visit_ticket_in_one_step(client, login_as, crew, make):
    visit = make.visit(crew.firm, crew.handler)
    issue = make.visit_issue(visit)
    login_as(crew.handler)
    response = client.post(f"/visits/issues/{issue.id}/assign",
                           data={"csrf_token": csrf_token(client, f"/visits/{visit.id}")},
                           environ_base={"REMOTE_ADDR": "10.7.7.7"})
    assert response.status_code == 302
    db.session.refresh(issue)
    ticket = db.session.get(Ticket, issue.ticket_id)
    assert ticket.channel == Channel.VISIT
    assert ticket.firm_id == crew.firm.id
    assert db.session.scalar(sa.select(TicketEvent.ip).where(  # passed by the view
        TicketEvent.ticket_id == ticket.id)) == "10.7.7.7"
    page = client.get(f"/visits/{visit.id}").get_data(as_text=True)
    assert ticket.reference in page


def test_visit_list_filters_by_open_issues(client, login_as, crew, make):
    quiet = make.visit(crew.firm, crew.handler, operating_status="一切正常")
    busy = make.visit(crew.firm, crew.handler)
    make.visit_issue(busy)
    login_as(crew.handler)
    page = client.get("/visits/?open_issues=yes").get_data(as_text=True)
    assert f"/visits/{busy.id}\"" in page
    assert f"/visits/{quiet.id}\"" not in page


def test_visit_list_query_count_does_not_grow_with_rows(client, login_as, crew, make, app):
    login_as(crew.handler)
    make.visit(crew.firm, crew.handler)
    few = _count_queries(app, client, "/visits/")
    for _ in range(6):
        visit = make.visit(crew.firm, crew.handler, other_visitor_ids=[crew.colleague.id])
        make.visit_issue(visit)
    many = _count_queries(app, client, "/visits/")
    assert many == few


def _count_queries(app, client, path):
    with count_queries() as counted:
        assert client.get(path).status_code == 200
    return counted.count


def test_firm_users_cannot_open_visits(client, login_as, crew, make):
    visit = make.visit(crew.firm, crew.handler)
    login_as(crew.firm_user)
    assert client.get("/visits/").status_code == 403
    assert client.get(f"/visits/{visit.id}").status_code == 403


def test_firm_picker_finds_the_firm_by_name(client, login_as, crew):
    login_as(crew.handler)
    page = client.get("/visits/new", query_string={"q": crew.firm.name[:6]}).get_data(
        as_text=True)
    assert f"/visits/new/{crew.firm.id}" in page


def test_ticket_page_links_back_to_the_visit_for_staff_only(client, login_as, crew, make):
    visit = make.visit(crew.firm, crew.handler)
    issue = make.visit_issue(visit)
    from app.visits import services

    ticket = services.assign_issue(issue, crew.handler)
    db.session.commit()
    login_as(crew.dispatcher)
    page = client.get(f"/tickets/{ticket.reference}").get_data(as_text=True)
    assert f"/visits/{visit.id}#issues" in page
    login_as(crew.firm_user)
    response = client.get(f"/tickets/{ticket.reference}")
    assert f"/visits/{visit.id}" not in response.get_data(as_text=True)


def test_adding_issue_rows_stops_at_the_limit_without_an_error(client, login_as, crew):
    login_as(crew.handler)
    path = f"/visits/new/{crew.firm.id}"
    data = _form(crew, add_issue="1")
    for n in range(2, 30):
        data[f"issues-{n}-description"] = f"问题{n}"
        data[f"issues-{n}-category_id"] = 0
    data["csrf_token"] = csrf_token(client, path)
    response = client.post(path, data=data)
    assert response.status_code == 200
    assert response.get_data(as_text=True).count('data-testid="issue-row"') == 30


def test_the_lead_visitor_list_tells_namesakes_apart_by_unit(client, login_as, crew, make):
    """Issue 16: two officers of one name in the lead-visitor list, each with its unit."""
    from app.auth.models import Role

    other_unit = make.unit(name="另一个局")
    make.user(Role.HANDLER, display_name=crew.handler.display_name, unit=other_unit)
    db.session.commit()
    login_as(crew.handler)
    page = client.get(f"/visits/new/{crew.firm.id}").get_data(as_text=True)
    lead = page.split('name="lead_visitor_id"', 1)[1].split("</select>", 1)[0]
    assert f">{crew.handler.display_name} · {crew.unit.name}<" in lead
    assert f">{crew.handler.display_name} · 另一个局<" in lead
