"""Issue follow-up: 交办 → ticket → 销号 derived from the ticket, on-site solutions, 回头看."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from app.core.errors import ValidationFailed
from app.extensions import db
from app.tickets import services as tickets
from app.visits import queries, services
from app.visits.models import VisitIssue


def _closed_out_ids(issue_ids):
    return set(db.session.scalars(sa.select(VisitIssue.id).where(
        VisitIssue.id.in_(issue_ids), queries.closed_out_clause())))


def _close_ticket(ticket, crew, level):
    tickets.transition(ticket, "dispatch", crew.dispatcher, lead_unit=crew.unit)
    tickets.transition(ticket, "acknowledge", crew.handler)
    tickets.transition(ticket, "reply", crew.handler, text="已协调解决。")
    tickets.transition(ticket, "approve_reply", crew.dispatcher)
    tickets.transition(ticket, "record_follow_up", crew.dispatcher, outcome="reached",
                       level=level)
    db.session.commit()


def test_issue_is_closed_out_when_its_ticket_closes_satisfied(crew, make):
    issue = make.visit_issue(make.visit(crew.firm, crew.handler))
    ticket = services.assign_issue(issue, crew.handler)
    assert issue.state == "assigned" and not issue.is_closed_out
    assert _closed_out_ids([issue.id]) == set()
    _close_ticket(ticket, crew, level=4)
    assert issue.is_closed_out
    assert _closed_out_ids([issue.id]) == {issue.id}


def test_issue_stays_open_when_the_follow_up_is_unsatisfied(crew, make):
    issue = make.visit_issue(make.visit(crew.firm, crew.handler))
    ticket = services.assign_issue(issue, crew.handler)
    _close_ticket(ticket, crew, level=2)
    assert not issue.is_closed_out
    assert _closed_out_ids([issue.id]) == set()
    assert queries.open_issue_counts([issue.visit_id]) == {issue.visit_id: 1}


def test_an_issue_is_handed_over_only_once(crew, make):
    issue = make.visit_issue(make.visit(crew.firm, crew.handler))
    services.assign_issue(issue, crew.handler)
    with pytest.raises(ValidationFailed):
        services.assign_issue(issue, crew.handler)


def test_an_issue_solved_on_site_is_closed_out_and_cannot_become_a_ticket(crew, make):
    issue = make.visit_issue(make.visit(crew.firm, crew.handler), is_solved_on_site=True,
                             solution="现场答复")
    assert issue.is_closed_out and _closed_out_ids([issue.id]) == {issue.id}
    with pytest.raises(ValidationFailed):
        services.assign_issue(issue, crew.handler)


def test_recheck_is_recorded_only_for_closed_out_issues(crew, make):
    open_issue = make.visit_issue(make.visit(crew.firm, crew.handler))
    with pytest.raises(ValidationFailed):
        services.record_recheck(open_issue, True, "回访", crew.handler)
    services.solve_on_site(open_issue, "现场协调解决", crew.handler)
    row = services.record_recheck(open_issue, True, "三个月后回访，问题未反弹。", crew.handler)
    assert row.is_still_resolved and open_issue.rechecks == [row]


def test_solution_text_is_required_when_solved_on_site(crew, make):
    visit = make.visit(crew.firm, crew.handler)
    with pytest.raises(ValidationFailed):
        services.add_issue(visit, services.IssueData("问题", is_solved_on_site=True), crew.handler)
