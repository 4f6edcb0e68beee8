"""Constant work per page (issue item 10): the staff queues and the ticket page send the same
small number of SQL statements whatever the number of tickets or the length of a timeline, and
a long timeline is shown in pages of the newest entries."""

from __future__ import annotations

import pytest

from app.extensions import db
from app.tickets.models import TicketStatus
from app.tickets.queries import QUEUE_COUNT_LIMIT, TIMELINE_LIMIT
from app.tickets.services import add_comment, transition
from tests.helpers import count_queries

S = TicketStatus

#: The ceiling of the issue (8), less the statement that loads the signed-in user in a real
#: request: in these tests the user is already in the session's identity map.
MAX_QUERIES = 8 - 1
QUEUES = ("all", "intake", "to_acknowledge", "in_progress", "due_soon", "overdue")


def _statements(client, path: str) -> int:
    with count_queries() as counted:
        response = client.get(path)
    assert response.status_code == 200, path
    return counted.count


def _grow_history(ticket, cast, rounds: int) -> None:
    for number in range(rounds):
        add_comment(ticket, cast.handler, f"进展说明 {number}", "internal")
        transition(ticket, "suspend", cast.handler, missing_info="营业执照",
                   contact_attempt="电话联系")
        transition(ticket, "resume", cast.handler)
    db.session.commit()


@pytest.mark.parametrize("who", ["handler", "lead", "dispatcher", "supervisor"])
def test_queue_pages_run_a_constant_number_of_queries(who, ticket_in, cast, login_as):
    client = login_as(getattr(cast, who))
    paths = [f"/tickets/?queue={name}" for name in QUEUES] + [
        "/tickets/?queue=all&q=招聘&status=in_progress&sla=on_track",
        "/tickets/?queue=in_progress&q=KS2026-000001", "/tickets/?queue=all&page=3",
        # every filter at once, the order, and values the form ignores
        "/tickets/?queue=all&service_mode=standard&demand_type=help&urgency=normal"
        "&category=1&unit=1&firm=昆山&received_from=2026-01-01&received_to=2026-12-31"
        "&sort=newest&page=2", "/tickets/?received_from=bad&category=999999&sort=x"]
    ticket_in(S.IN_PROGRESS)
    few = [_statements(client, path) for path in paths]
    for state in (S.SUBMITTED, S.DISPATCHED, S.IN_PROGRESS, S.SUSPENDED, S.REPLIED) * 6:
        ticket_in(state)
    many = [_statements(client, path) for path in paths]
    assert few == many
    assert max(many) <= MAX_QUERIES


@pytest.mark.parametrize("who", ["handler", "lead", "dispatcher", "supervisor", "firm_user"])
def test_ticket_page_runs_a_constant_number_of_queries(who, ticket_in, cast, login_as):
    ticket = ticket_in(S.IN_PROGRESS)
    assert ticket.firm is not None  # the firm panel's statements are counted too
    client = login_as(getattr(cast, who))
    path = f"/tickets/{ticket.reference}"
    short = _statements(client, path)
    _grow_history(ticket, cast, 40)  # 40 comments and 80 events
    long = _statements(client, path)
    assert short == long
    assert long <= MAX_QUERIES


def test_long_timeline_is_shown_newest_first_in_pages(ticket_in, cast, login_as):
    ticket = ticket_in(S.IN_PROGRESS)
    _grow_history(ticket, cast, 60)  # with the walk to in progress: 60 + 120 + 3 entries
    client = login_as(cast.handler)
    page = client.get(f"/tickets/{ticket.reference}").get_data(as_text=True)
    assert page.count('class="list-group-item small') == TIMELINE_LIMIT
    assert "进展说明 59" in page and "进展说明 40" not in page
    seen = set()
    while True:
        shown = {n for n in range(60) if f"进展说明 {n}<" in page}
        assert not shown & seen  # no entry twice
        seen |= shown
        older = _older_link(page)
        if older is None:
            break
        page = client.get(older).get_data(as_text=True)
    assert seen == set(range(60))  # and none lost between pages


def _older_link(page: str) -> str | None:
    import html
    import re

    match = re.search(r'href="([^"]+)" data-testid="timeline-older"', page)
    return html.unescape(match.group(1)) if match else None


def test_queue_total_is_counted_only_up_to_the_limit(ticket_in, cast, login_as, monkeypatch):
    import app.tickets.queries as queries

    monkeypatch.setattr(queries, "QUEUE_COUNT_LIMIT", 3)
    for _ in range(4):
        ticket_in(S.SUBMITTED)
    page = login_as(cast.dispatcher).get("/tickets/?queue=intake").get_data(as_text=True)
    assert "More than 3" in page
    assert QUEUE_COUNT_LIMIT >= 100


def test_the_ticket_page_statement_is_shared_but_never_its_rows(ticket_in, cast, login_as):
    """The page's one statement is built once per shape and reused: each ticket still gets
    its own entries, and a firm user never gets what staff saw on the same ticket."""
    from app.tickets.queries import _records_statement

    first, second = ticket_in(S.IN_PROGRESS), ticket_in(S.IN_PROGRESS)
    add_comment(first, cast.handler, "第一张工单的内部说明", "internal")
    add_comment(first, cast.handler, "第一张工单的公开答复", "public")
    add_comment(second, cast.handler, "第二张工单的内部说明", "internal")
    db.session.commit()
    staff = login_as(cast.handler)
    one = staff.get(f"/tickets/{first.reference}").get_data(as_text=True)
    built = _records_statement.cache_info().currsize
    two = staff.get(f"/tickets/{second.reference}").get_data(as_text=True)
    assert _records_statement.cache_info().currsize == built  # the same shape, reused
    assert "第一张工单的内部说明" in one and "第二张工单" not in one
    assert "第二张工单的内部说明" in two and "第一张工单" not in two
    firm = login_as(cast.firm_user).get(f"/tickets/{first.reference}").get_data(as_text=True)
    assert "第一张工单的公开答复" in firm and "内部说明" not in firm


def test_kept_queue_statements_follow_the_users_unit_role_filters_and_time(ticket_in, cast):
    """A queue reuses its statements per user, queue, order and filters: a user moved to
    another unit or role sees that unit's or role's tickets at once, and a ticket enters the
    overdue queue and filter when its deadline passes."""
    from datetime import timedelta

    from app.core.clock import now_utc
    from app.tickets.queries import QueueFilters, queue_page

    def listed(user, name: str = "all", now=None, **filters) -> set[int]:
        page = queue_page(user, name, now or now_utc(), QueueFilters(**filters), None, 1, 25)
        return {row.id for row in page.items}

    ticket = ticket_in(S.IN_PROGRESS)
    handler = cast.handler
    assert ticket.id in listed(handler) and ticket.id not in listed(cast.stranger)
    assert ticket.id not in listed(handler, "overdue")
    assert ticket.id in listed(handler, "overdue", ticket.due_at + timedelta(minutes=1))
    late = ticket.due_at + timedelta(minutes=1)
    assert ticket.id not in listed(handler, status="in_progress", sla="overdue")
    assert ticket.id in listed(handler, now=late, status="in_progress", sla="overdue")
    assert ticket.id not in listed(handler, now=late, status="suspended", sla="overdue")
    handler.unit = cast.other_unit
    db.session.flush()
    assert ticket.id not in listed(handler)
    handler.role = "supervisor"
    db.session.flush()
    assert ticket.id in listed(handler)
