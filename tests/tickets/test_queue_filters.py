"""The queue filters (issue item 5): each narrows the list in SQL, they combine, they never
widen what a user may see, and a value the form does not accept is shown as ignored instead
of failing the page."""

from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import parse_qs, parse_qsl, urlsplit

import pytest
from werkzeug.datastructures import MultiDict

from app.core.clock import now_utc
from app.extensions import db
from app.tickets import queries
from app.tickets.forms import QUEUES, TicketFilterForm
from app.tickets.models import DemandType, ServiceMode, TicketStatus, Urgency
from app.tickets.services import transition

S = TicketStatus


@pytest.fixture
def pair(make, cast, frozen_clock):
    """Ticket A (2 March, a registered firm, standard help, normal urgency, in progress at
    ``unit``) and ticket B (5 March, no firm, lifecycle complaint, urgent, dispatched to
    ``other_unit``), each differing from the other in every filtered column."""
    firm = make.firm(name="昆山甲乙精密机械有限公司")
    first, second = make.category(name="用工类"), make.category(name="融资类")
    a = make.ticket(actor=cast.dispatcher, firm=firm, category=first, title="招工难题",
                    service_mode=ServiceMode.STANDARD, demand_type=DemandType.HELP,
                    urgency=Urgency.NORMAL)
    transition(a, "dispatch", cast.dispatcher, lead_unit=cast.unit)
    transition(a, "acknowledge", cast.handler)
    db.session.commit()
    frozen_clock.advance(timedelta(days=3))
    b = make.ticket(actor=cast.dispatcher, category=second, title="贷款投诉",
                    description="企业投诉贷款审批拖延。", service_mode=ServiceMode.LIFECYCLE,
                    demand_type=DemandType.COMPLAINT, urgency=Urgency.URGENT)
    transition(b, "dispatch", cast.dispatcher, lead_unit=cast.other_unit)
    db.session.commit()
    return {"a": a, "b": b, "firm": firm, "first": first, "second": second, "cast": cast}


def _listed(client, query: str, pair) -> set[str]:
    response = client.get(f"/tickets/?{query}")
    assert response.status_code == 200, query
    page = response.get_data(as_text=True)
    return {name for name in ("a", "b") if pair[name].reference in page}


#: (query string, with {placeholders} from the pair; the tickets a dispatcher then sees).
CASES = [
    ("", {"a", "b"}),
    ("status=in_progress", {"a"}),
    ("status=dispatched", {"b"}),
    ("service_mode=standard", {"a"}),
    ("service_mode=lifecycle", {"b"}),
    ("service_mode=handle_now", set()),
    ("demand_type=help", {"a"}),
    ("demand_type=complaint", {"b"}),
    ("urgency=normal", {"a"}),
    ("urgency=urgent", {"b"}),
    ("category={first}", {"a"}),
    ("category={second}", {"b"}),
    ("unit={unit}", {"a"}),
    ("unit={other_unit}", {"b"}),
    ("firm={uscc}", {"a"}),
    ("firm=甲乙精密", {"a"}),
    ("firm=甲乙", {"a"}),  # a short Chinese word goes through the firm search's own tokens
    ("firm=没有这家企业", set()),
    ("received_from=2026-03-04", {"b"}),
    ("received_to=2026-03-04", {"a"}),
    ("received_from=2026-03-02&received_to=2026-03-02", {"a"}),  # a local day, both ends in
    ("received_from=2026-03-05&received_to=2026-03-05", {"b"}),
    ("q=贷款", {"b"}),
    ("sla=on_track", {"a", "b"}),
    ("sla=overdue", set()),
    # combinations: every condition holds at once
    ("unit={unit}&demand_type=help&urgency=normal", {"a"}),
    ("service_mode=standard&urgency=urgent", set()),
    ("status=dispatched&received_from=2026-03-01&firm=", {"b"}),
]


@pytest.mark.parametrize(("query", "expected"), CASES)
def test_each_filter_narrows_the_queue(query, expected, pair, login_as):
    cast = pair["cast"]
    values = {"first": pair["first"].id, "second": pair["second"].id, "unit": cast.unit.id,
              "other_unit": cast.other_unit.id, "uscc": pair["firm"].uscc}
    client = login_as(cast.dispatcher)
    assert _listed(client, f"queue=all&{query.format(**values)}", pair) == expected


def test_sla_filter_sees_the_overdue_ticket(pair, login_as, frozen_clock):
    frozen_clock.advance(timedelta(days=60))
    client = login_as(pair["cast"].dispatcher)
    assert _listed(client, "sla=overdue", pair) == {"a", "b"}
    assert _listed(client, "sla=on_track", pair) == set()


def test_a_unit_filter_never_widens_what_a_handler_sees(pair, login_as):
    cast = pair["cast"]
    client = login_as(cast.handler)
    assert _listed(client, "", pair) == {"a"}
    # The other unit is not offered to this handler: the value is ignored, visibly.
    page = client.get(f"/tickets/?unit={cast.other_unit.id}").get_data(as_text=True)
    assert pair["b"].reference not in page
    assert 'data-testid="ignored-filters"' in page
    unit_select = page.split('name="unit"')[1].split("</select>")[0]
    assert cast.unit.name in unit_select and cast.other_unit.name not in unit_select
    # And the query itself keeps the visibility rule whatever filter it is given.
    for user, unit in ((cast.handler, cast.other_unit), (cast.stranger, cast.unit)):
        statement = queries.queue(user, "all", now_utc(),
                                  queries.QueueFilters(unit_id=unit.id))
        assert db.session.scalars(statement).all() == []
    statement = queries.queue(cast.stranger, "all", now_utc(),
                              queries.QueueFilters(firm=pair["firm"].uscc))
    assert db.session.scalars(statement).all() == []


def test_handler_is_offered_only_their_own_unit(pair, login_as):
    cast = pair["cast"]
    options = queries.filter_options(cast.handler)
    assert options["units"] == ((str(cast.unit.id), cast.unit.name),)
    everyone = queries.filter_options(cast.dispatcher)
    assert {str(cast.unit.id), str(cast.other_unit.id)} <= {i for i, _ in everyone["units"]}
    assert (str(pair["first"].id), "用工类") in everyone["categories"]


def test_kept_filter_choices_follow_a_category_or_unit_written_in_the_worker(
        pair, make, app, monkeypatch):
    """A worker keeps the choices for QUEUE_CHOICES_TTL seconds, but a category or unit
    added, renamed or retired through it shows in the next page's choices."""
    from app.tickets.models import Category

    monkeypatch.setitem(app.config, "QUEUE_CHOICES_TTL", 3600)
    dispatcher, handler = pair["cast"].dispatcher, pair["cast"].handler
    before = queries.filter_options(dispatcher)
    assert queries.filter_options(dispatcher) is before  # kept
    category = Category(name="新增类别", code="XZLB", sort_order=99, is_active=True)
    db.session.add(category)
    db.session.flush()
    assert (str(category.id), "新增类别") in queries.filter_options(dispatcher)["categories"]
    unit = make.unit(name="新设单位", code="XSDW")
    assert (str(unit.id), "新设单位") in queries.filter_options(dispatcher)["units"]
    assert queries.filter_options(handler)["units"] == (
        (str(handler.unit.id), handler.unit.name),)
    unit.is_active = False
    db.session.flush()
    assert str(unit.id) not in dict(queries.filter_options(dispatcher)["units"])


@pytest.mark.parametrize("query", [
    "received_from=2026-13-45", "received_to=yesterday", "category=999999", "category=abc",
    "unit=-1", "status=lost", "urgency=<script>", "sort=sideways", "service_mode=",
    "received_from=2026-03-05&received_to=2026-03-01", "q=" + "长" * 300, "page=abc",
])
def test_bad_filter_values_are_ignored_visibly(query, pair, login_as):
    client = login_as(pair["cast"].dispatcher)
    response = client.get(f"/tickets/?{query}")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert pair["a"].reference in page and pair["b"].reference in page  # nothing filtered
    assert "<script>" not in page
    if query not in ("service_mode=", "page=abc"):
        assert 'data-testid="ignored-filters"' in page
        assert "is ignored" in page or "are ignored" in page


def test_an_end_date_before_the_start_says_so(pair, login_as):
    client = login_as(pair["cast"].dispatcher)
    page = client.get("/tickets/?received_from=2026-03-05&received_to=2026-03-01").get_data(
        as_text=True)
    assert "The end date is before the start date; the dates are ignored." in page


def test_active_filters_are_shown_and_each_can_be_cleared(pair, login_as):
    client = login_as(pair["cast"].dispatcher)
    page = client.get("/tickets/?queue=all&status=in_progress&urgency=normal&page=1").get_data(
        as_text=True)
    shown = page.split('data-testid="active-filters"')[1].split("</div>")[0]
    assert "Status: In progress" in shown and "Urgency: Normal" in shown
    links = re.findall(r'href="([^"]+)"', shown)
    clear_status = next(link for link in links if "urgency=normal" in link)
    assert "status=" not in clear_status and "page=" not in clear_status
    assert _listed(client, clear_status.split("?", 1)[1].replace("&amp;", "&"), pair) == {"a"}
    assert "/tickets/?queue=all" in links  # clear all, keeping the queue
    blank = client.get("/tickets/?q=%20%20&firm=%20").get_data(as_text=True)
    assert 'data-testid="active-filters"' not in blank  # blanks filter nothing


def test_filters_survive_pagination_and_sorting_links(pair, login_as, make, app,
                                                       monkeypatch):
    cast = pair["cast"]
    for _ in range(3):
        make.ticket(actor=cast.dispatcher, urgency=Urgency.URGENT)
    monkeypatch.setitem(app.config, "PAGE_SIZE", 2)
    client = login_as(cast.dispatcher)
    page = client.get("/tickets/?queue=all&urgency=urgent&sort=newest").get_data(as_text=True)
    links = re.findall(r'href="(/tickets/\?[^"]+)"', page)
    paging = [link for link in links if "page=2" in link]
    assert paging and all("urgency=urgent" in link and "sort=newest" in link
                          for link in paging)
    sorting = [link for link in links if "sort=deadline" in link]
    assert sorting and all("urgency=urgent" in link for link in sorting)
    assert pair["a"].reference not in page  # normal urgency, filtered out


def test_newest_first_and_deadline_orders(pair, login_as):
    client = login_as(pair["cast"].dispatcher)
    a, b = pair["a"].reference, pair["b"].reference
    newest = client.get("/tickets/?sort=newest").get_data(as_text=True)
    assert newest.index(b) < newest.index(a)
    by_deadline = client.get("/tickets/").get_data(as_text=True)
    sooner, later = sorted((pair["a"], pair["b"]), key=lambda t: t.due_at)
    assert by_deadline.index(sooner.reference) < by_deadline.index(later.reference)


def test_queue_tabs_keep_the_search_filters_and_order(pair, login_as):
    """Switching queues keeps what the user is looking for; only the page starts over."""
    client = login_as(pair["cast"].dispatcher)
    page = client.get("/tickets/?queue=all&q=招工&urgency=normal&sort=newest&page=2"
                      ).get_data(as_text=True)
    tabs = page.split('class="nav nav-tabs')[1].split("</ul>")[0]
    links = [link.replace("&amp;", "&") for link in re.findall(r'href="([^"]+)"', tabs)]
    assert len(links) == len(QUEUES)
    for name, link in zip(QUEUES, links, strict=True):
        query = parse_qs(urlsplit(link).query)
        assert query == {"queue": [name], "q": ["招工"], "urgency": ["normal"],
                         "sort": ["newest"]}
    in_progress = next(link for link in links if "queue=in_progress" in link)
    assert _listed(client, in_progress.split("?", 1)[1], pair) == {"a"}
    intake = next(link for link in links if "queue=intake" in link)
    assert _listed(client, intake.split("?", 1)[1], pair) == set()
    plain = client.get("/tickets/?queue=overdue").get_data(as_text=True)
    assert 'href="/tickets/?queue=all"' in plain  # nothing to keep: the bare queue link


def test_the_cached_filter_form_always_shows_the_current_input(pair, login_as, keep_rendered):
    """The filter form's markup is kept per language and input: whatever was rendered before,
    each page shows its own values, errors and language, exactly as a fresh render would."""
    client = login_as(pair["cast"].dispatcher)

    def form_of(query: str, language: str = "en") -> str:
        page = client.get(f"/tickets/?{query}", headers={"Accept-Language": language})
        return page.get_data(as_text=True).split('role="search">')[1].split("</form>")[0]

    first = form_of("status=in_progress&q=招工")
    assert '<option selected value="in_progress">' in first and 'value="招工"' in first
    other = form_of("status=closed&received_from=bad")
    assert '<option selected value="closed">' in other and "in_progress\" selected" not in other
    assert 'value="招工"' not in other and "Not a date" in other
    assert form_of("status=in_progress&q=招工") == first
    chinese = form_of("status=in_progress&q=招工", "zh-CN")
    assert chinese != first and "办理中" in chinese
    keep_rendered.clear_all()
    assert form_of("status=in_progress&q=招工") == first  # a fresh render: the same markup
    assert form_of("status=closed&received_from=bad") == other


@pytest.mark.parametrize("query", ["", "status=", "status=%20", "status=bogus", "status=closed",
                                   "category=999&unit=", "category=1&unit=2&sla=overdue",
                                   "sort=x&urgency=%20%20&demand_type=help"])
def test_empty_selects_skip_the_choice_check_with_the_same_result(app, query):
    """The filter form checks a select's value against its choices only when one was given;
    the data, errors and markup key are those of WTForms' full check."""
    args = MultiDict(parse_qsl(query, keep_blank_values=True))
    choices = {"categories": [("1", "甲")], "units": [("2", "乙")]}
    with app.test_request_context(f"/tickets/?{query}"):
        quick, full = TicketFilterForm(args, **choices), TicketFilterForm(args, **choices)
        for field in full:
            if field.type == "SelectField":
                field.validate_choice = True
        assert quick.validate() == full.validate()
        assert quick.shown_state() == full.shown_state()
        assert {name: field.data for name, field in quick._fields.items()} == {
            name: field.data for name, field in full._fields.items()}
