"""马上办: answer snippets, the direct answer from intake, and the 马上办率 figure."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from app.core.permissions import Role
from app.extensions import db
from app.portal.models import AnswerSnippet
from app.ratings import queries
from app.sla.enums import ServiceMode
from app.tickets import services as tickets
from app.tickets.models import TicketEvent, TicketStatus
from tests.helpers import post_form
from tests.portal.conftest import request_data, submit, walk

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
                          "version": str(ticket.version)}, token_from=page,
                         environ_base={"REMOTE_ADDR": "10.6.6.6"})
    assert response.status_code == 302
    db.session.refresh(ticket)
    db.session.refresh(snippet)
    assert ticket.status == S.FOLLOW_UP and ticket.reply_text == snippet.body
    assert snippet.used_count == 1
    assert db.session.scalar(sa.select(TicketEvent.ip).where(  # passed by the view
        TicketEvent.ticket_id == ticket.id, TicketEvent.action == "answer_directly")) == "10.6.6.6"


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


def _local(*args):
    from datetime import UTC, datetime
    from zoneinfo import ZoneInfo

    return datetime(*args, tzinfo=ZoneInfo("Asia/Shanghai")).astimezone(UTC)


def _answer_through_the_pages(client, login_as, cast, title: str):
    """A firm sends the public form; a dispatcher answers it from the intake page."""
    from app.tickets.models import Ticket

    assert post_form(client, "/request", request_data(title=title)).status_code == 302
    ticket = db.session.scalar(sa.select(Ticket).where(Ticket.title == title))
    assert ticket.service_mode == ServiceMode.STANDARD and ticket.handle_due_at is None
    login_as(cast.dispatcher)
    page = f"/portal/intake/{ticket.id}/answer"
    response = post_form(client, page, {"answer": "请登录人社局网站申领。",
                                        "version": str(ticket.version)})
    assert response.status_code == 302
    db.session.refresh(ticket)
    return ticket


def test_a_direct_answer_is_handle_now_and_counts_in_the_report(client, login_as, cast,
                                                                frozen_clock):
    """Public form (Mon 2026-03-02 10:00) → answered directly at 10:20 → the ticket is 马上办
    with the same-working-day deadline (end of Mon 03-02), and the supervisor's 马上办率 for
    March counts it: 1 of the 1 ticket created, listed by the drill-down."""
    frozen_clock.advance(timedelta(minutes=20))
    ticket = _answer_through_the_pages(client, login_as, cast, "直接答复的诉求")
    assert ticket.status == S.FOLLOW_UP and ticket.service_mode == ServiceMode.HANDLE_NOW
    assert ticket.handle_due_at == _local(2026, 3, 2, 23, 59, 59)
    from app.tickets.models import TicketEvent

    event = db.session.scalar(sa.select(TicketEvent).where(
        TicketEvent.ticket_id == ticket.id, TicketEvent.action == "answer_directly"))
    assert event.data["met"] is True and event.data["handle_due_at"]
    login_as(cast.supervisor)
    march = "period=month&start=2026-03-01"
    page = client.get(f"/reports/?{march}").get_data(as_text=True)
    card = re.search(r'data-figure="handle_now_rate".*?</div></div></div>', page, re.S).group(0)
    assert "100" in card and re.search(r">1</a>\s*/\s*<a [^>]*>1</a>", card)
    drill = client.get(f"/reports/tickets?fact=intake&subset=a&{march}").get_data(as_text=True)
    assert ticket.reference in drill
    figure = queries.handle_now_rate()
    assert (figure.numerator, figure.denominator) == (1, 1)


def test_a_request_sent_after_15_00_is_due_the_next_working_day(client, login_as, cast,
                                                                frozen_clock):
    """Sent Fri 2026-03-06 16:00, answered then: due the end of Mon 03-09 (DOMAIN §3.2)."""
    frozen_clock.advance(timedelta(days=4, hours=6))
    ticket = _answer_through_the_pages(client, login_as, cast, "下午四点的诉求")
    assert ticket.service_mode == ServiceMode.HANDLE_NOW
    assert ticket.handle_due_at == _local(2026, 3, 9, 23, 59, 59)


def test_a_reopened_direct_answer_goes_back_to_intake_without_the_old_deadline(frozen_clock,
                                                                               cast):
    """Reopening a 马上办 answer returns it to the dispatcher; the met same-day deadline is not
    left standing as if a unit were handling it."""
    ticket = submit(title="复开")
    tickets.transition(ticket, "answer_directly", cast.dispatcher, answer="已答复")
    assert ticket.handle_due_at is not None
    tickets.transition(ticket, "reopen", cast.dispatcher, reason="企业仍不满意")
    assert ticket.status == S.SUBMITTED and ticket.handle_due_at is None


def test_a_direct_answer_is_not_a_handled_ticket_in_the_report(frozen_clock, cast):
    """按期办结率 is about units handling dispatched tickets: a direct answer (no dispatch) is
    neither on time nor late there, while 马上办率 counts it."""
    from app.reports import queries as reports
    from app.reports.periods import month_of
    from app.sla.services import load_calendar

    ticket = submit(title="只算马上办")
    tickets.transition(ticket, "answer_directly", cast.dispatcher, answer="已答复")
    db.session.commit()
    now = frozen_clock.now_utc()
    ctx = reports.Context(month_of(now.date()), now,
                          reports.due_soon_horizon(load_calendar(), now), reports.Scope())
    data = reports.breakdown(ctx)
    handled = reports.evaluate(reports.FIGURES_BY_KEY["handled_on_time"], data.totals)
    quick = reports.evaluate(reports.FIGURES_BY_KEY["handle_now_rate"], data.totals)
    assert handled.denominator == 0
    assert (quick.numerator, quick.denominator) == (1, 1)
