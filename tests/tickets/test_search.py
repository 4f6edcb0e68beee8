"""The queue search (issue 4): the ticket's search key — reference, title, description and the
walk-in requester's firm and contact name, Simplified and lower-case, with every Chinese
character and pair as a word — is kept on every write and matched through an index on both
databases with the same results."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from app.core.clock import now_utc
from app.core.search import key_contains
from app.extensions import db
from app.portal import services as portal
from app.tickets import queries, queries_sql
from app.tickets.models import Ticket
from app.tickets.search import rebuild_search_keys, search_keys
from app.tickets.services import Requester
from tests.helpers import migration, post_form


@pytest.fixture
def tickets(make, cast, frozen_clock):
    """Three tickets with distinct texts; the third is a walk-in's, typed in Traditional."""
    made = {
        "power": make.ticket(cast.dispatcher, title="用电增容申请",
                             description="厂区变压器容量不足，ACME Line 2 扩产受限。"),
        "loan": make.ticket(cast.dispatcher, title="贷款审批拖延",
                            description="企业申请技改贷款三个月未获批复。"),
        "walkin": make.ticket(cast.dispatcher, title="臺灣同胞投資企業諮詢",
                              description="詢問稅收優惠政策<b>如何</b>申報，100% 退稅？",
                              requester=Requester(name="陳建國", mobile="13812345678",
                                                  firm_name="崑山華碩電腦有限公司")),
    }
    db.session.commit()
    return made


def _found(user, text: str, made: dict, **filters) -> set[str]:
    statement = queries.queue(user, "all", now_utc(),
                              queries.QueueFilters(q=text, **filters))
    ids = set(db.session.scalars(statement))
    return {name for name, ticket in made.items() if ticket.id in ids}


@pytest.mark.parametrize("text,expected", [
    ("电", {"power", "walkin"}),  # one character (電 in the walk-in's firm name)
    ("贷", {"loan"}),
    ("企", {"loan", "walkin"}),
    ("增容", {"power"}),  # two characters
    ("容申", {"power"}),  # a pair across words of the title
    ("审批拖延", {"loan"}),  # longer than two
    ("台湾", {"walkin"}),  # Simplified finds Traditional text
    ("貸款", {"loan"}),  # Traditional finds Simplified text
    ("臺灣同胞", {"walkin"}),
    ("acme line", {"power"}),  # ASCII words, any case
    ("ACME", {"power"}),
    ("line 2", {"power"}),
    ("华硕电脑", {"walkin"}),  # the walk-in's typed firm name
    ("陈建国", {"walkin"}),  # and contact name
    ("<b>如何</b>", {"walkin"}),  # markup is plain text
    ("<script>", set()),
    ("100%", {"walkin"}),  # wildcards are literal
    ("%", {"walkin"}),
    ("_", set()),
    ('"', set()),  # a quote cannot break the full-text query
    ("电贷", set()),  # not adjacent anywhere
    ("龙", set()),
])
def test_search_matches_what_was_typed(cast, tickets, text, expected):
    assert _found(cast.supervisor, text, tickets) == expected


def test_reference_is_found_whole_in_any_case_and_in_part(cast, tickets):
    reference = tickets["loan"].reference
    assert _found(cast.supervisor, reference.lower(), tickets) == {"loan"}
    assert _found(cast.supervisor, reference[-6:], tickets) == {"loan"}
    assert _found(cast.supervisor, reference[:-6], tickets) == set(tickets)


def test_full_text_index_and_key_scan_agree(cast, tickets, monkeypatch):
    """SQLite answers through its FTS5 table; PostgreSQL and short ASCII fragments read the key
    with LIKE. Every query above gives the same tickets both ways."""
    texts = ["电", "企", "增容", "台湾", "貸款", "acme line", "<b>如何</b>", "100%", "%", '"',
             "容申", tickets["loan"].reference[-6:], "ab", "2"]
    indexed = {text: _found(cast.supervisor, text, tickets) for text in texts}
    monkeypatch.setattr(queries_sql, "key_matches",
                        lambda text: key_contains(Ticket.search_key, text))
    assert {text: _found(cast.supervisor, text, tickets) for text in texts} == indexed


def test_a_phrase_in_many_tickets_is_matched_on_the_key_with_the_same_result(cast, tickets,
                                                                             monkeypatch):
    """On SQLite, a phrase in more than DENSE_MATCHES tickets is tested on each ticket's key as
    the queue walks its order instead of being looked up in the full-text index."""
    texts = ["电", "企", "增容", "台湾", "貸款", "<b>如何</b>", "100%"]
    looked_up = {text: _found(cast.supervisor, text, tickets) for text in texts}
    monkeypatch.setattr(queries_sql, "DENSE_MATCHES", 1)
    assert {text: _found(cast.supervisor, text, tickets) for text in texts} == looked_up
    dense, rare = str(queries_sql.key_matches("企")), str(queries_sql.key_matches("增容"))
    assert "ticket_search" not in dense  # two tickets have 企: more than 1
    if db.session.get_bind().dialect.name == "sqlite":
        assert "ticket_search" in rare


def test_search_never_widens_what_a_user_may_see(cast, tickets):
    assert _found(cast.handler, "企", tickets) == set()


def test_key_holds_every_searchable_text_simplified():
    keys = search_keys("KS2026-000123", "臺灣投資", "ACME 擴產", "崑山華碩", "陳建國")
    for part in ("ks2026-000123", "台湾投资", "acme 扩产", "昆山华硕", "陈建国",
                 " 台 ", " 湾投 ", " 陈建 "):
        assert part in keys["search_key"]
    assert keys["requester_firm_key"] == "昆山华硕"
    assert search_keys("KS2026-000124", "t", "d")["requester_firm_key"] is None


def test_staff_intake_stores_the_key(cast, login_as):
    client = login_as(cast.dispatcher)
    response = post_form(client, "/tickets/new", {
        "channel": "phone", "service_mode": "standard", "demand_type": "help",
        "urgency": "normal", "category": "0", "title": "用工招聘困難",
        "description": "急需焊工。", "requester_name": "王先生", "requester_mobile": "13812345678",
        "requester_firm_name": "昆山某某廠"})
    assert response.status_code == 302
    ticket = db.session.scalar(sa.select(Ticket).order_by(Ticket.id.desc()))
    assert "用工招聘困难" in ticket.search_key and " 焊 " in ticket.search_key
    assert "王先生" in ticket.search_key and ticket.requester_firm_key == "昆山某某厂"


@pytest.mark.parametrize("as_firm_user", [False, True])
def test_portal_requests_store_the_key(cast, make, as_firm_user):
    actor = make.user("firm_user") if as_firm_user else None
    ticket = portal.submit_request(
        portal.RequestData(firm_name="昆山示例有限公司", uscc="91320583314159268J",
                           contact_name="林經理", mobile="13812345678", email=None,
                           demand_type="help", category_id=None, title="招工難",
                           description="希望协调组织专场招聘会。"),
        actor=actor, ip="127.0.0.1", tracking_link=lambda _ticket: "")
    db.session.commit()
    assert ticket.search_key.startswith(ticket.reference.lower() + " 招工难 希望协调")
    assert "林经理" in ticket.search_key
    assert _found(cast.supervisor, "招工", {"it": ticket}) == {"it"}


def test_changed_title_or_description_changes_the_key_and_the_index(cast, tickets):
    ticket = tickets["loan"]
    ticket.title, ticket.description = "融資對接", "银行授信。"
    db.session.commit()
    assert ticket.search_key.startswith(f"{ticket.reference.lower()} 融资对接 银行授信。")
    assert _found(cast.supervisor, "融资", tickets) == {"loan"}
    assert _found(cast.supervisor, "授", tickets) == {"loan"}
    assert _found(cast.supervisor, "贷", tickets) == set()


def test_an_edit_of_other_columns_leaves_the_key_alone(cast, tickets):
    ticket = tickets["loan"]
    key = ticket.search_key
    ticket.search_key = "stale"  # only the texts trigger a rebuild
    ticket.is_complex = True
    db.session.commit()
    assert ticket.search_key == "stale"
    ticket.title = ticket.title
    ticket.search_key = "stale"
    db.session.commit()
    assert ticket.search_key == "stale"
    ticket.title += "。"
    db.session.commit()
    assert ticket.search_key != "stale" and ticket.search_key.startswith(key.split(" |")[0][:20])


def test_the_migration_writes_the_keys_the_application_gives(cast, tickets):
    """The migration that added the key fills it with its own copy of the rule (a migration
    imports nothing from the application): the same keys as the application's."""
    keys = {t.id: (t.search_key, t.requester_firm_key) for t in tickets.values()}
    assert any(firm for _key, firm in keys.values())
    db.session.execute(sa.update(Ticket).values(search_key="", requester_firm_key=None)
                       .execution_options(synchronize_session=False))
    migration("f2b8d6a4c1e9")._rebuild_search_keys(db.session.connection())
    rows = db.session.execute(sa.select(Ticket.id, Ticket.search_key, Ticket.requester_firm_key)
                              .where(Ticket.id.in_(keys))).all()
    assert {row.id: (row.search_key, row.requester_firm_key) for row in rows} == keys


def test_rebuild_fills_keys_of_rows_written_without_them(cast, tickets):
    """What the migration and the bench seed do for tickets inserted in SQL."""
    ids = [ticket.id for ticket in tickets.values()]
    db.session.execute(sa.update(Ticket).where(Ticket.id.in_(ids))
                       .values(search_key="", requester_firm_key=None)
                       .execution_options(synchronize_session=False))
    assert _found(cast.supervisor, "台湾", tickets) == set()
    assert rebuild_search_keys(db.session.connection(), batch=2, progress=lambda _: None) >= 3
    db.session.expire_all()
    assert _found(cast.supervisor, "台湾", tickets) == {"walkin"}
    assert _found(cast.supervisor, "增容", tickets) == {"power"}
    assert tickets["walkin"].requester_firm_key == "昆山华硕电脑有限公司"


@pytest.mark.parametrize("text,expected", [
    ("华硕", {"walkin"}),  # the typed firm name, in the other script
    ("崑山華碩電腦", {"walkin"}),
    ("陈建国", set()),  # the contact is not a firm
    ("台湾", set()),  # nor is the title
    ("增容", set()),
])
def test_firm_filter_matches_a_walk_in_requesters_typed_firm(cast, tickets, text, expected):
    assert _found(cast.supervisor, "", tickets, firm=text) == expected


def test_firm_filter_still_matches_registry_firms_and_not_their_typed_names(cast, make,
                                                                            tickets):
    firm = make.firm(name="昆山甲乙精密机械有限公司")
    registered = make.ticket(cast.dispatcher, firm=firm, title="招工",
                             requester=Requester(firm_name="另一家公司"))
    db.session.commit()
    made = {**tickets, "registered": registered}
    assert _found(cast.supervisor, "", made, firm="甲乙") == {"registered"}
    assert _found(cast.supervisor, "", made, firm="另一家") == set()


def test_a_typed_firm_name_that_grows_when_lower_cased_is_stored(cast, make):
    """'İ'.lower() is two characters: the derived columns have no length limit."""
    ticket = make.ticket(cast.dispatcher, requester=Requester(
        name="王先生", mobile="13812345678", firm_name="İ" * 200))
    db.session.commit()
    assert len(ticket.requester_firm_key) == 400


def test_a_ticket_inserted_without_a_flush_gets_its_keys(cast, frozen_clock):
    """The public submission writes its ticket with app.db.insert_row, not a flush."""
    from app.db import insert_row
    from app.tickets.models import Channel, DemandType, ServiceMode, TicketStatus, Urgency

    ticket = Ticket(channel=Channel.WEB, service_mode=ServiceMode.STANDARD,
                    demand_type=DemandType.HELP, urgency=Urgency.NORMAL, title="融資難",
                    description="希望对接银行。", status=TicketStatus.SUBMITTED,
                    submitted_at=now_utc(), intake_due_at=now_utc(), reference="KS2099-000031",
                    requester_name="张三", requester_mobile="13812345678",
                    requester_firm_name="臺灣某公司")
    insert_row(db.session, ticket)
    stored = db.session.execute(sa.select(Ticket.search_key, Ticket.requester_firm_key)
                                .where(Ticket.id == ticket.id)).one()
    assert stored == (search_keys("KS2099-000031", "融資難", "希望对接银行。", "臺灣某公司",
                                  "张三")["search_key"], "台湾某公司")
    assert _found(cast.supervisor, "融资", {"it": ticket}) == {"it"}


@pytest.mark.parametrize("limit", [100, 6, 5])
def test_a_units_search_page_and_count_follow_the_visibility_rule(cast, make, frozen_clock,
                                                                 monkeypatch, limit):
    """A handler's search is written for the database (on SQLite, matched on the keys, the
    count reads the unit's tickets — those it leads, then those it assists on — and the page
    walks the order testing the unit; on PostgreSQL the assisting tickets are a list): the
    same rows, order and capped total ("more than") as the visibility rule gives."""
    from app.tickets.models import TicketAssistingUnit
    from app.tickets.services import transition

    def dispatched(title: str, lead, assisting=()):
        ticket = make.ticket(cast.dispatcher, title=title, description="办理情况说明")
        transition(ticket, "dispatch", cast.dispatcher, lead_unit=lead,
                   assisting_units=list(assisting))
        return ticket

    for number in range(3):
        dispatched(f"企业用地 {number}", cast.unit)
    dispatched("企业融资", cast.other_unit, [cast.unit])
    dispatched("企业招聘", cast.other_unit, [cast.unit])
    dispatched("企业外地", cast.other_unit)  # not the handler's
    dispatched("道路维修", cast.unit)  # no 企
    both = dispatched("企业用电", cast.unit)  # led and, by an old row, assisted on
    db.session.add(TicketAssistingUnit(ticket_id=both.id, unit_id=cast.unit.id,
                                       added_at=now_utc()))
    db.session.commit()
    monkeypatch.setattr(queries_sql, "DENSE_MATCHES", 1)  # 企 is matched on each key
    monkeypatch.setattr(queries, "QUEUE_COUNT_LIMIT", limit)
    filters = queries.QueueFilters(q="企")
    assert queries_sql.reads_keys(queries._search("企"))

    for user in (cast.handler, cast.stranger, cast.supervisor):
        page = queries.queue_page(user, "all", now_utc(), filters, None, 1, 4)
        rows, count = queries._page_statements(queries.queue(user, "all", now_utc(), filters),
                                               queries.QUEUE_ORDER)
        expected = [row.id for row in db.session.execute(rows, {"limit": 4, "offset": 0})]
        counted = db.session.scalar(count)
        assert [row.id for row in page.items] == expected
        assert (page.total, page.total_is_lower_bound) == (min(counted, limit), counted > limit)
    handler_page = queries.queue_page(cast.handler, "all", now_utc(), filters, None, 2, 4)
    assert handler_page.total == min(6, limit)
    assert handler_page.total_is_lower_bound == (limit < 6)
    assert len(handler_page.items) == 2  # 6 tickets: 4 on the first page
