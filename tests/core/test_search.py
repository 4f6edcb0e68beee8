"""List searches match what was typed literally (DOMAIN: search on every list)."""

import pytest

from app.core.search import like_pattern


@pytest.mark.parametrize("typed,pattern", [
    ("昆山", "%昆山%"),
    ("100%", "%100\\%%"),
    ("a_b", "%a\\_b%"),
    ("c:\\x", "%c:\\\\x%"),
])
def test_like_pattern_escapes_wildcards(typed, pattern):
    assert like_pattern(typed) == pattern


def test_user_search_for_a_percent_sign_matches_nothing(client, make, login_as):
    login_as(make.user("admin", username="percent.tester"))
    assert "percent.tester</a>" not in client.get("/admin/users?q=%25").get_data(as_text=True)
    assert "percent.tester</a>" in client.get("/admin/users?q=percent").get_data(as_text=True)


def test_ticket_search_for_a_percent_sign_matches_nothing(client, make, login_as, frozen_clock):
    dispatcher = make.user("dispatcher")
    ticket = make.ticket(dispatcher, title="用电增容申请")
    login_as(dispatcher)
    assert ticket.reference not in client.get("/tickets/?q=%25").get_data(as_text=True)
    assert ticket.reference in client.get("/tickets/?q=用电").get_data(as_text=True)
