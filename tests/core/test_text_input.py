"""One rule for text input (issue 15, finding 2): control characters are refused in forms with a
field message and stripped from query strings, the same on SQLite and PostgreSQL; never a 500."""

import pytest
import sqlalchemy as sa

from app.auth.models import User
from app.core.audit import AuditEvent
from app.core.text import clean_args, has_control_characters, strip_control_characters
from app.extensions import db
from app.tickets.models import Ticket
from tests.helpers import csrf_token, post_form
from tests.portal.conftest import request_data

MESSAGE = "Remove the control characters (such as NUL) from this field."


@pytest.mark.parametrize("value", ["a\x00b", "a\x07b", "a\x1bb", "a\x7fb", "a\x85b"])
def test_the_rule_refuses_control_characters(value):
    assert has_control_characters(value)
    assert strip_control_characters(value) == "ab"


@pytest.mark.parametrize("value", ["多行\n文本\r\n", "a\tb", "普通", ""])
def test_the_rule_keeps_line_breaks_tabs_and_text(value):
    assert not has_control_characters(value)


def test_query_pairs_are_cleaned_keys_and_values():
    assert clean_args([("q", "a\x00b"), ("k\x01", "v")]) == [("q", "ab"), ("k", "v")]


@pytest.mark.parametrize("field", ["firm_name", "title", "description", "contact_name"])
def test_a_public_request_with_nul_is_refused_on_the_field(client, field):
    data = request_data()
    data[field] = data[field] + "\x00x"
    response = post_form(client, "/request", data)
    assert response.status_code == 400  # the public form's answer to refused input
    assert MESSAGE in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count(Ticket.id))) == 0


def test_sign_in_with_nul_in_the_username_is_refused_without_a_lookup(client, make):
    make.user(username="admin2")
    response = post_form(client, "/auth/login", {"username": "adm\x00in2", "password": "x"})
    assert response.status_code == 200 and MESSAGE in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count(AuditEvent.id)).where(
        AuditEvent.action == "auth.sign_in")) == 0


def test_tracking_lookup_with_nul_is_refused(client):
    response = post_form(client, "/track", {"reference": "KS\x00", "mobile": "1381234\x005678"})
    assert response.status_code == 200 and MESSAGE in response.get_data(as_text=True)


@pytest.mark.parametrize("path", ["/tickets/?q=a%00b", "/tickets/?queue=intake&q=a%00b",
                                  "/firms/?q=a%00b", "/tickets/?firm=%00", "/visits/?q=%00"])
def test_searches_with_nul_answer_the_page(client, login_as, make, path):
    login_as(make.user("dispatcher"))
    assert client.get(path).status_code == 200


@pytest.mark.parametrize("path", ["/track/abc%00def", "/track/%00/received"])
def test_a_path_with_a_control_character_names_nothing(client, path):
    assert client.get(path).status_code == 404


def test_a_staff_form_refuses_nul_and_stores_nothing(client, login_as, make):
    admin = make.user("admin")
    login_as(admin)
    response = post_form(client, "/admin/users/new", {
        "username": "new\x00user", "display_name": "X", "role": "handler"})
    assert response.status_code == 200 and MESSAGE in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(User).where(User.username.like("new%"))) is None


def test_the_message_is_translated(client):
    data = request_data(title="标题\x00")
    data["csrf_token"] = csrf_token(client, "/request")
    page = client.post("/request", data=data, headers={"Accept-Language": "zh-CN"})
    assert "控制字符" in page.get_data(as_text=True)
