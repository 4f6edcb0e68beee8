"""马上办: answer snippets, the direct answer from intake, and the 马上办率 figure."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from app.core.permissions import Role
from app.extensions import db
from app.portal.models import AnswerSnippet
from app.ratings import queries
from app.sla.enums import ServiceMode
from app.tickets import services as tickets
from app.tickets.models import TicketStatus
from tests.helpers import post_form
from tests.portal.conftest import submit, walk

S = TicketStatus


def make_snippet(title="社保补贴政策", body="请登录人社局网站申领，三个工作日内到账。"):
    row = AnswerSnippet(title=title, body=body, is_active=True, used_count=0)
    db.session.add(row)
    db.session.commit()
    return row


def test_dispatchers_create_edit_and_archive_snippets(client, login_as, cast):
    login_as(cast.dispatcher)
    assert post_form(client, "/portal/snippets/new",
                     {"title": "稳岗补贴", "body": "符合条件自动发放。"}).status_code == 302
    row = db.session.scalar(sa.select(AnswerSnippet))
    edit = f"/portal/snippets/{row.id}/edit"
    assert post_form(client, edit, {"title": "稳岗返还", "body": "自动发放。"}).status_code == 302
    duplicate = post_form(client, "/portal/snippets/new", {"title": "稳岗返还", "body": "x"})
    assert duplicate.status_code == 400 and "already exists" in duplicate.get_data(as_text=True)
    assert post_form(client, f"/portal/snippets/{row.id}/archive", {},
                     token_from="/portal/snippets").status_code == 302
    db.session.refresh(row)
    assert (row.title, row.is_active) == ("稳岗返还", False)
    assert "稳岗返还" not in client.get("/portal/snippets").get_data(as_text=True)
    assert "稳岗返还" in client.get("/portal/snippets?status=archived").get_data(as_text=True)


@pytest.mark.parametrize("role", [Role.HANDLER, Role.FIRM_USER, Role.ADMIN])
def test_only_dispatchers_maintain_snippets_and_answer_at_intake(client, login_as, make, role):
    login_as(make.user(role))
    assert client.get("/portal/snippets").status_code == 403
    assert client.get("/portal/intake").status_code == 403


def test_answering_directly_from_a_snippet_closes_intake(client, login_as, cast):
    snippet = make_snippet()
    ticket = submit()
    login_as(cast.dispatcher)
    queue = client.get("/portal/intake").get_data(as_text=True)
    assert ticket.reference in queue
    page = f"/portal/intake/{ticket.id}/answer?snippet={snippet.id}"
    assert snippet.body in client.get(page).get_data(as_text=True)
    response = post_form(client, f"/portal/intake/{ticket.id}/answer",
                         {"answer": snippet.body, "snippet": str(snippet.id),
                          "version": str(ticket.version)}, token_from=page)
    assert response.status_code == 302
    db.session.refresh(ticket)
    db.session.refresh(snippet)
    assert ticket.status == S.FOLLOW_UP and ticket.reply_text == snippet.body
    assert snippet.used_count == 1


def test_an_answer_needs_text(client, login_as, cast):
    ticket = submit()
    login_as(cast.dispatcher)
    response = post_form(client, f"/portal/intake/{ticket.id}/answer",
                         {"answer": "  ", "version": str(ticket.version)})
    assert response.status_code == 400
    db.session.refresh(ticket)
    assert ticket.status == S.SUBMITTED


def test_the_ticket_page_offers_the_snippets_with_answer_directly(client, login_as, cast):
    make_snippet()
    ticket = submit()
    login_as(cast.dispatcher)
    html = client.get(f"/tickets/{ticket.reference}").get_data(as_text=True)
    assert 'data-testid="snippet-picker"' in html and "社保补贴政策" in html


def test_handle_now_rate_counts_direct_answers_and_same_day_handle_now(frozen_clock, cast):
    direct = submit(title="直接答复")
    tickets.transition(direct, "answer_directly", cast.dispatcher, answer="已答复")
    quick = submit(title="当日办")
    quick.service_mode = ServiceMode.HANDLE_NOW
    walk(quick, cast, S.REPLIED)
    late = submit(title="超时")
    late.service_mode = ServiceMode.HANDLE_NOW
    walk(late, cast, S.IN_PROGRESS)
    frozen_clock.advance(timedelta(days=3))
    tickets.transition(late, "reply", cast.handler, text="迟到的答复")
    submit(title="普通件")
    db.session.commit()
    figure = queries.handle_now_rate()
    assert (figure.numerator, figure.denominator) == (2, 4)
    assert figure.rate == 0.5
