"""The navigation bar as people see it (issue 16): one row at 1280 px in every language and
role, Bootstrap's off-canvas menu on a phone, the icon browsers ask for."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from app.demo.cli import DEMO_USERS
from tests.e2e.pages import sign_in

#: Accept-Language per catalogue: the browser's language chooses the page's.
LANGUAGES = {"zh_Hans_CN": "zh-CN,zh;q=0.9", "zh_Hant": "zh-TW,zh;q=0.9", "en": "en-US,en;q=0.9"}
ROLES = [username for username, *_ in DEMO_USERS]

#: The bar's children that must sit on its one row.
_ROW_TOPS = """() => {
  const bar = document.querySelector('nav.navbar');
  const parts = bar.querySelectorAll('.navbar-brand, .navbar-nav > li, .offcanvas-body > div > *');
  return {height: bar.getBoundingClientRect().height,
          tops: Array.from(parts).map(e => Math.round(e.getBoundingClientRect().top))};
}"""


@pytest.fixture
def desktop(browser, base_url):
    context = browser.new_context(base_url=base_url, viewport={"width": 1280, "height": 800})
    yield context.new_page()
    context.close()


def _one_row(page) -> dict:
    measured = page.evaluate(_ROW_TOPS)
    assert measured["tops"], "the bar shows nothing"
    assert max(measured["tops"]) - min(measured["tops"]) <= 12, measured
    assert measured["height"] <= 64, measured  # Bootstrap's navbar is 56 px for one row
    return measured


@pytest.mark.parametrize("username", [None, *ROLES])
def test_the_navbar_holds_one_row_at_1280_px_in_every_language(desktop, username):
    if username:
        sign_in(desktop, username)
    for language, header in LANGUAGES.items():
        desktop.set_extra_http_headers({"Accept-Language": header})
        desktop.goto("/notifications/" if username else "/auth/login")
        assert desktop.locator("html").get_attribute("lang"), language
        _one_row(desktop)


def test_on_a_phone_the_menu_opens_off_canvas(browser, base_url):
    context = browser.new_context(base_url=base_url, locale="zh-TW", is_mobile=True,
                                  has_touch=True, viewport={"width": 390, "height": 844})
    page = context.new_page()
    sign_in(page, "dispatcher")
    menu = page.locator("#mainnav")
    expect(menu).to_be_hidden()
    page.click(".navbar-toggler")
    expect(menu).to_be_visible()
    page.locator("#mainnav [data-group=work] > button").click()
    page.locator("#mainnav [data-group=work] a[href='/tickets/']").click()
    page.wait_for_url("**/tickets/")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390  # no sideways scroll
    context.close()


def test_browsers_get_the_icon(desktop):
    response = desktop.request.get("/favicon.ico")
    assert response.status == 200 and response.body()[:4] == b"\x00\x00\x01\x00"
