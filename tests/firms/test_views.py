"""Firm pages: permissions by role, masking, Traditional search, query count, export."""

import re
from datetime import date

import pytest
import sqlalchemy as sa

from app.core.audit import AuditEvent
from app.core.permissions import Role
from app.extensions import db as _db
from app.firms.models import Firm, FirmTag, TagKind
from tests.exports import flow
from tests.helpers import count_queries, csrf_token, post_form

STAFF = [Role.HANDLER, Role.UNIT_LEAD, Role.DISPATCHER, Role.SUPERVISOR, Role.ADMIN]
EDITORS = {Role.DISPATCHER, Role.ADMIN}


def firm_form(**overrides):
    values = {"uscc": "91320583314159268J", "name": "昆山示例精密机械有限公司", "area_id": "1",
              "industry_code": "C3484", "legal_form": "limited_liability",
              "capital_origin": "taiwan", "commissioner_id": "0"}
    values.update(overrides)
    return values


# (method, path template, who may) — {f} firm, {c} contact, {t} tag
ROUTES = [
    ("GET", "/firms/", set(STAFF)),
    ("GET", "/firms/{f}", set(STAFF)),
    ("POST", "/firms/export.csv", set(STAFF)),
    ("POST", "/firms/export.xlsx", set(STAFF)),
    ("GET", "/firms/new", EDITORS),
    ("GET", "/firms/{f}/edit", EDITORS),
    ("POST", "/firms/{f}/archive", EDITORS),
    ("POST", "/firms/{f}/commissioner", EDITORS),
    ("GET", "/firms/import", EDITORS),
    ("GET", "/firms/import/template.xlsx", EDITORS),
    ("GET", "/firms/{f}/contacts/new", EDITORS),
    ("GET", "/firms/{f}/contacts/{c}/edit", EDITORS),
    ("POST", "/firms/{f}/contacts/{c}/remove", EDITORS),
    ("POST", "/firms/{f}/contacts/{c}/reveal", set(STAFF)),
    ("GET", "/firms/{f}/tags/new", EDITORS),
    ("POST", "/firms/{f}/tags/{t}/remove", EDITORS),
    ("GET", "/firms/legacy-codes", {Role.SUPERVISOR}),
]


@pytest.mark.parametrize("role", [*STAFF, Role.FIRM_USER, Role.AUDITOR])
@pytest.mark.parametrize("method,template,allowed", ROUTES,
                         ids=[f"{m} {p}" for m, p, _a in ROUTES])
def test_permission_matrix(client, make, login_as, role, method, template, allowed):
    firm = make.firm()
    contact = make.contact(firm)
    tag = FirmTag(firm=firm, kind=TagKind.HIGH_TECH)
    _db.session.add(tag)
    _db.session.flush()
    login_as(make.user(role))
    path = template.format(f=firm.id, c=contact.id, t=tag.id)
    if method == "GET":
        response = client.get(path)
    else:
        token = csrf_token(client, "/auth/change-password")
        response = client.post(path, data={"csrf_token": token})
    if role in allowed:
        assert response.status_code in (200, 302), response.status_code
    else:
        assert response.status_code == 403


def test_commissioner_edits_contacts_and_tags_of_the_firms_they_serve_only(client, make,
                                                                           login_as):
    handler = make.user(Role.HANDLER)
    served = make.firm(commissioner_id=handler.id)
    other = make.firm()
    login_as(handler)
    assert client.get(f"/firms/{served.id}/contacts/new").status_code == 200
    assert client.get(f"/firms/{served.id}/tags/new").status_code == 200
    assert client.get(f"/firms/{served.id}/edit").status_code == 403
    assert client.get(f"/firms/{other.id}/contacts/new").status_code == 403
    response = post_form(client, f"/firms/{served.id}/contacts/new",
                         {"name": "陈建国", "mobile": "13912345678"})
    assert response.status_code == 302
    assert [c.name for c in served.contacts] == ["陈建国"]


def test_mobiles_are_masked_and_unmasking_is_an_audited_post(client, make, login_as, db):
    firm = make.firm()
    contact = make.contact(firm, mobile="13812345678")
    handler = make.user(Role.HANDLER)
    login_as(handler)
    page = client.get(f"/firms/{firm.id}").get_data(as_text=True)
    assert "138****5678" in page
    assert "13812345678" not in page
    assert client.get(f"/firms/{firm.id}/contacts/{contact.id}/reveal").status_code == 405
    response = post_form(client, f"/firms/{firm.id}/contacts/{contact.id}/reveal",
                         token_from=f"/firms/{firm.id}")
    assert response.status_code == 200
    assert "13812345678" in response.get_data(as_text=True)
    event_row = db.session.scalar(sa.select(AuditEvent).where(
        AuditEvent.action == "firm.contact_unmask"))
    assert event_row.actor_id == handler.id
    assert event_row.details["contact_id"] == contact.id


def test_list_never_shows_full_mobiles_even_in_search_by_contact(client, make, login_as):
    firm = make.firm(name="昆山鼎鑫电子科技有限公司")
    make.contact(firm, name="陈建国", mobile="13812345678")
    login_as(make.user(Role.DISPATCHER))
    page = client.get("/firms/?q=陈建国").get_data(as_text=True)
    assert "昆山鼎鑫电子科技有限公司" in page
    assert "13812345678" not in page


@pytest.mark.parametrize("query", ["電子", "鼎鑫電子科技", "崑山鼎鑫电子", "鼎鑫电子"])
def test_search_typed_in_traditional_finds_the_simplified_name(client, make, login_as, query):
    make.firm(name="昆山鼎鑫电子科技有限公司")
    login_as(make.user(Role.HANDLER))
    assert "昆山鼎鑫电子科技有限公司" in client.get(f"/firms/?q={query}").get_data(as_text=True)


def test_traditional_query_finds_simplified_name_and_not_others(client, make, login_as):
    match = make.firm(name="昆山鼎鑫电子科技有限公司")
    make.firm(name="昆山恒泰精密机械有限公司")
    login_as(make.user(Role.HANDLER))
    page = client.get("/firms/?q=鼎鑫電子").get_data(as_text=True)
    assert match.name in page
    assert "恒泰精密" not in page
    by_code = client.get(f"/firms/?q={match.uscc[-9:].lower()}").get_data(as_text=True)
    assert match.name in by_code and "恒泰精密" not in by_code


def test_filters_and_archived_status(client, make, login_as):
    handler = make.user(Role.HANDLER)
    taiwan = make.firm(name="台资甲有限公司", capital_origin="taiwan", is_key_firm=True,
                       commissioner_id=handler.id)
    archived = make.firm(name="已归档乙有限公司")
    archived.archived_at = taiwan.created_at
    make.firm(name="内资丙有限公司", industry_code="I6513", industry_section="I")
    login_as(handler)

    def names(query):
        body = client.get("/firms/?" + query).get_data(as_text=True)
        return {n for n in ("台资甲", "已归档乙", "内资丙") if n in body}

    assert names("") == {"台资甲", "内资丙"}
    assert names("origin=taiwan") == {"台资甲"}
    assert names("key=yes") == {"台资甲"}
    assert names(f"commissioner={handler.id}") == {"台资甲"}
    assert names("section=I") == {"内资丙"}
    assert names("status=archived") == {"已归档乙"}
    assert names("status=all&sort=-name") == {"台资甲", "已归档乙", "内资丙"}


def test_resort_area_filter_includes_its_towns(client, make, login_as):
    from app.firms.models import Area

    resort = _db.session.scalar(sa.select(Area).where(Area.name == "昆山旅游度假区"))
    town = _db.session.scalar(sa.select(Area).where(Area.name == "周庄镇"))
    make.firm(name="周庄古镇文旅有限公司", area_id=town.id)
    login_as(make.user(Role.HANDLER))
    assert "周庄古镇文旅" in client.get(f"/firms/?area={resort.id}").get_data(as_text=True)


def test_expired_tag_is_shown_as_expired(client, make, login_as, frozen_clock):
    firm = make.firm()
    _db.session.add(FirmTag(firm=firm, kind=TagKind.HIGH_TECH, certified_on=date(2022, 1, 1),
                            valid_until=date(2025, 1, 1)))
    _db.session.flush()
    login_as(make.user(Role.HANDLER))
    page = client.get(f"/firms/{firm.id}").get_data(as_text=True)
    assert 'data-testid="tag-expired"' in page
    assert "expired" in client.get("/firms/").get_data(as_text=True)


def _list_queries(client, make, how_many: int) -> int:
    handler = make.user(Role.HANDLER)
    for _ in range(how_many):
        firm = make.firm(is_key_firm=True, commissioner_id=handler.id)
        make.contact(firm)
        _db.session.add(FirmTag(firm=firm, kind=TagKind.GAZELLE))
    _db.session.flush()
    with count_queries() as counter:
        response = client.get("/firms/?q=昆山&sort=-created")
    assert response.status_code == 200
    return counter.count


def test_list_page_runs_a_constant_number_of_queries(client, make, login_as):
    login_as(make.user(Role.DISPATCHER))
    few = _list_queries(client, make, 2)
    many = _list_queries(client, make, 30)
    assert few == many
    assert many <= 8


def test_form_shows_the_uscc_error_next_to_the_field_and_keeps_input(client, make, login_as):
    login_as(make.user(Role.DISPATCHER))
    response = post_form(client, "/firms/new", firm_form(uscc="91320583314159268A"))
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "invalid-feedback" in body and "check character" in body
    assert "昆山示例精密机械有限公司" in body
    assert _db.session.scalar(sa.select(sa.func.count(Firm.id))) == 0
    response = post_form(client, "/firms/new", firm_form())
    assert response.status_code == 302
    assert _db.session.scalar(sa.select(Firm.uscc)) == "91320583314159268J"


def test_key_firm_form_without_commissioner_shows_the_error(client, make, login_as):
    login_as(make.user(Role.DISPATCHER))
    body = post_form(client, "/firms/new", firm_form(is_key_firm="y")).get_data(as_text=True)
    assert "A key firm must have a service commissioner." in body
    assert _db.session.scalar(sa.select(sa.func.count(Firm.id))) == 0


def test_export_uses_the_filters_the_reader_language_and_is_audited(client, make, login_as, db):
    make.firm(name="台资甲有限公司", capital_origin="taiwan")
    make.firm(name="内资丙有限公司")
    login_as(make.user(Role.HANDLER))
    response = flow.export(client, "/firms/export.csv?origin=taiwan",
                           headers={"Accept-Language": "zh-CN"})
    text = response.get_data().decode("utf-8-sig")
    assert "台资甲有限公司" in text and "内资丙" not in text
    with client.application.test_request_context(headers={"Accept-Language": "zh-CN"}):
        from flask_babel import gettext, refresh

        refresh()
        chinese_header = gettext("Unified social credit code")
    assert text.splitlines()[0].startswith(chinese_header + ",")
    event_row = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "firm.export"))
    assert event_row.details["rows"] == 1 and event_row.details["format"] == "csv"
    english = flow.export(client, "/firms/export.xlsx").data
    from io import BytesIO

    from openpyxl import load_workbook

    sheet = load_workbook(BytesIO(english)).active
    assert sheet["A1"].value == "Unified social credit code"
    assert sheet.max_row == 3


def test_firm_page_shows_empty_sections_plainly(client, make, login_as):
    firm = make.firm()
    login_as(make.user(Role.HANDLER))
    page = client.get(f"/firms/{firm.id}").get_data(as_text=True)
    assert "No tickets of this firm that you may see." in page
    assert "No visits recorded." in page and "No lifecycle projects." in page


def test_large_results_are_counted_only_up_to_the_limit(client, make, login_as, monkeypatch):
    from app.firms import views

    monkeypatch.setattr(views, "COUNT_LIMIT", 3)
    for _ in range(5):
        make.firm()
    login_as(make.user(Role.HANDLER))
    body = client.get("/firms/").get_data(as_text=True)
    assert "More than 3" in body
    monkeypatch.setattr(views, "COUNT_LIMIT", 10)
    assert "5 in total" in client.get("/firms/").get_data(as_text=True)


@pytest.mark.parametrize("query,found", [("鑫", True), ("鼎鑫", True), ("王偉", True),
                                         ("鼎电", False), ("伟王", False)])
def test_one_and_two_character_searches(client, make, login_as, query, found):
    firm = make.firm(name="昆山鼎鑫电子有限公司")
    make.contact(firm, name="王伟")
    login_as(make.user(Role.HANDLER))
    assert (firm.name in client.get(f"/firms/?q={query}").get_data(as_text=True)) is found


def _listed_ids(body: str) -> list[int]:
    table = body.split('data-testid="firm-list"', 1)[1] if 'data-testid="firm-list"' in body \
        else ""
    return [int(n) for n in re.findall(r'href="/firms/(\d+)"', table)]


@pytest.mark.parametrize("sort,key", [
    ("name", lambda f: (f.name, f.id)), ("-name", lambda f: (f.name, f.id)),
    ("employees", lambda f: (f.employees, f.id)), ("-employees", lambda f: (f.employees, f.id)),
])
def test_pages_split_the_sorted_list_without_gaps_or_repeats(client, make, login_as, app,
                                                             monkeypatch, sort, key):
    """Each page's rows are loaded by their ids (a deferred join); the pages still follow the
    chosen order, ties broken by id, and only the filtered firms appear."""
    monkeypatch.setitem(app.config, "PAGE_SIZE", 2)
    firms = [make.firm(name=f"昆山{letter}分页有限公司", employees=size, capital_origin="taiwan")
             for letter, size in zip("戊乙丁甲丙", (30, 10, 30, 20, 10), strict=True)]
    make.firm(name="昆山内资分页有限公司", capital_origin="domestic", employees=15)
    expected = [f.id for f in sorted(firms, key=key, reverse=sort.startswith("-"))]
    login_as(make.user(Role.HANDLER))
    pages = [_listed_ids(client.get(f"/firms/?origin=taiwan&sort={sort}&page={n}")
                         .get_data(as_text=True)) for n in (1, 2, 3, 4)]
    assert pages[:3] == [expected[0:2], expected[2:4], expected[4:]]
    assert pages[3] == []


def test_a_capped_count_still_leads_to_the_next_pages(client, make, login_as, app,
                                                      monkeypatch):
    """The count stops COUNT_LIMIT rows past the current page, so "Next" works on deep pages,
    and the last stretch is counted exactly."""
    from app.firms import views

    monkeypatch.setattr(views, "COUNT_LIMIT", 3)
    monkeypatch.setitem(app.config, "PAGE_SIZE", 2)
    for _ in range(7):
        make.firm()
    login_as(make.user(Role.HANDLER))
    first = client.get("/firms/").get_data(as_text=True)
    assert "More than 3 · page 1" in first and "?page=2" in first
    second = client.get("/firms/?page=2").get_data(as_text=True)
    assert "More than 5 · page 2" in second and "?page=3" in second
    last = client.get("/firms/?page=4").get_data(as_text=True)
    assert "7 in total · page 4 of 4" in last
    assert len(_listed_ids(last)) == 1


def test_an_absurd_page_number_shows_an_empty_page_not_an_error(client, make, login_as):
    make.firm()
    login_as(make.user(Role.HANDLER))
    response = client.get("/firms/?page=99999999999999999999")
    assert response.status_code == 200
    assert "No firms match these filters." in response.get_data(as_text=True)
