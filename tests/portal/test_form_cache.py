"""The public form's process caches (app/portal/cache.py): what is shared, what never is, and
when a category change shows."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.tickets.models import Category
from tests.helpers import count_queries, csrf_token
from tests.portal.conftest import request_data

TOKEN = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


@pytest.fixture
def cached(app, keep_rendered):
    """Categories kept for an hour and the page kept, as a busy production worker would."""
    app.config["PORTAL_CHOICES_TTL"] = 3600
    yield
    app.config["PORTAL_CHOICES_TTL"] = 0


def tokens(html: str) -> set[str]:
    return set(TOKEN.findall(html)) | set(re.findall(
        r'name="csrf_token" value="([^"]+)"', html))


def fresh_get(client, path: str) -> str:
    """GET as a request of its own: the test's app context would otherwise keep the first
    request's token in ``g`` (a server never shares ``g`` between requests)."""
    from flask import g

    g.pop("csrf_token", None)
    return client.get(path).get_data(as_text=True)


def test_each_visitor_gets_their_own_working_token_from_the_shared_page(app, cached):
    first, second = app.test_client(), app.test_client()
    page_one = fresh_get(first, "/request")
    page_two = fresh_get(second, "/request")
    one, two = tokens(page_one), tokens(page_two)
    assert len(one) == 1 and len(two) == 1 and one != two
    assert "\x00" not in page_one
    # The second visitor's token works for them, the first visitor's does not.
    payload = {**request_data(title="缓存页提交"), "csrf_token": two.pop()}
    assert second.post("/request", data=payload).status_code == 302
    payload["csrf_token"] = one.pop()
    from flask import g

    g.pop("csrf_token", None)
    assert second.post("/request", data=payload).status_code == 400


def test_the_blank_form_needs_no_query_once_cached(client, cached, make):
    make.category(name="用工招聘缓存")
    db.session.commit()
    client.get("/request")
    with count_queries() as counted:
        html = client.get("/request").get_data(as_text=True)
    assert counted.count == 0 and "用工招聘缓存" in html


def test_a_category_edit_in_the_worker_shows_at_once(client, cached, make):
    row = make.category(name="融资信贷旧名")
    db.session.commit()
    assert "融资信贷旧名" in client.get("/request").get_data(as_text=True)
    row.name = "融资信贷新名"
    db.session.commit()
    html = client.get("/request").get_data(as_text=True)
    assert "融资信贷新名" in html and "融资信贷旧名" not in html
    make.category(name="知识产权新增")
    db.session.commit()
    assert "知识产权新增" in client.get("/request").get_data(as_text=True)


def test_an_edit_elsewhere_shows_after_the_ttl(app, client, make, keep_rendered):
    """Another worker's edit reaches this one through the TTL (0 here: read every time)."""
    make.category(name="测试类别乙", code="SDQ")
    db.session.commit()
    app.config["PORTAL_CHOICES_TTL"] = 3600
    assert "测试类别乙" in client.get("/request").get_data(as_text=True)
    # Written behind the ORM's back, as another process would: this worker keeps its list…
    db.session.execute(sa.update(Category).where(Category.code == "SDQ").values(
        name="测试类别乙改"))
    db.session.commit()
    assert "测试类别乙改" not in client.get("/request").get_data(as_text=True)
    # …until the TTL has passed.
    app.config["PORTAL_CHOICES_TTL"] = 0
    assert "测试类别乙改" in client.get("/request").get_data(as_text=True)


def test_a_stale_list_cannot_store_a_retired_category(app, client, make, cached):
    row = make.category(name="已停用类别", code="OLD")
    db.session.commit()
    client.get("/request")
    db.session.execute(sa.update(Category).where(Category.code == "OLD").values(
        is_active=False))
    db.session.commit()
    response = client.post("/request", data={**request_data(category=str(row.id)),
                                             "csrf_token": csrf_token(client, "/request")})
    assert response.status_code == 400
    assert "Choose one of the listed categories" in response.get_data(as_text=True)


def test_each_language_has_its_own_page(client, cached):
    hant = client.get("/request", headers={"Accept-Language": "zh-TW"}).get_data(as_text=True)
    english = client.get("/request", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert 'lang="zh-TW"' in hant and 'lang="en"' in english


def test_flash_messages_and_signed_in_users_are_never_served_the_shared_page(
        client, cached, login_as, make):
    client.get("/request")
    with client.session_transaction() as session:
        session["_flashes"] = [("info", "一条只给这位访客的消息")]
    assert "一条只给这位访客的消息" in client.get("/request").get_data(as_text=True)
    assert "一条只给这位访客的消息" not in client.get("/request").get_data(as_text=True)
    from app.core.permissions import Role

    staff = make.user(Role.DISPATCHER, display_name="缓存测试调度员")
    html = login_as(staff).get("/request").get_data(as_text=True)
    assert "缓存测试调度员" in html


def test_a_query_string_is_rendered_escaped_not_cached(client, cached):
    html = client.get('/request?x="><script>alert(1)</script>').get_data(as_text=True)
    assert "<script>alert(1)</script>" not in html
    assert "/request?x=" in html
    assert "/request?x=" not in client.get("/request").get_data(as_text=True)
