"""Texts the system writes into a ticket's record (the scan's reminder and supervision order,
the firm's supplied information, the 涉台 routing note) are shown in the reader's language,
whatever language the request that wrote them had."""

from __future__ import annotations

import pytest

from app.core.clock import now_utc
from app.tickets.scan import run_scan
from app.tickets.system_texts import shown
from tests.tickets.test_scan import at, handled

SUPERVISION = {"zh_Hans_CN": "自动督办：已超过办理期限。",
               "zh_Hant": "自動督辦：已超過辦理期限。",
               "en": "Automatic supervision: the handling deadline has passed."}
REMINDER = {"zh_Hans_CN": "自动催办：办理期限即将届满。",
            "zh_Hant": "自動催辦：辦理期限即將屆滿。",
            "en": "Automatic reminder: the handling deadline is near."}
HEADERS = {"zh_Hans_CN": "zh-CN", "zh_Hant": "zh-TW", "en": "en"}


@pytest.mark.parametrize("reader", HEADERS)
@pytest.mark.parametrize("writer", HEADERS)
def test_a_system_text_is_shown_in_the_readers_language(app, writer, reader):
    with app.test_request_context(headers={"Accept-Language": HEADERS[reader]}):
        assert shown(SUPERVISION[writer]) == SUPERVISION[reader]
        assert shown(REMINDER[writer]) == REMINDER[reader]


def test_anything_else_is_shown_as_stored(app):
    with app.test_request_context(headers={"Accept-Language": "en"}):
        assert shown("自动督办") == "自动督办"  # a part is not the text
        assert shown("<b>自动督办：已超过办理期限。</b>") == "<b>自动督办：已超过办理期限。</b>"
        assert shown("") == ""
        assert shown(None) is None


@pytest.mark.parametrize("reader", ["zh_Hant", "en"])
def test_the_ticket_page_shows_the_scans_texts_in_the_readers_language(
        make, cast, client, login_as, reader):
    """The scan writes in the default language (Simplified); a Traditional or English reader
    reads the reminder and the order — in the timeline and in the orders panel — in theirs."""
    ticket = handled(make, cast)
    at(2026, 3, 9, 10, 0)
    assert run_scan(now_utc(), commit=False).urged == 1
    at(2026, 3, 11, 9, 0)
    assert run_scan(now_utc(), commit=False).supervised == 1
    login_as(cast.handler)
    page = client.get(f"/tickets/{ticket.reference}",
                      headers={"Accept-Language": HEADERS[reader]}).get_data(as_text=True)
    assert page.count(SUPERVISION[reader]) == 2  # the timeline's event and the order
    assert page.count(REMINDER[reader]) == 1
    assert SUPERVISION["zh_Hans_CN"] not in page and REMINDER["zh_Hans_CN"] not in page
