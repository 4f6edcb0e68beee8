"""Journey: an administrator creates a handler, who must change the password at first sign-in."""

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.pages import sign_in, sign_out

NEW_PASSWORD_1 = "First#Temp2026"
NEW_PASSWORD_2 = "Handler#Own2026"


@pytest.fixture
def traditional_page(browser, base_url):
    context = browser.new_context(base_url=base_url, locale="zh-TW")
    page = context.new_page()
    yield page
    context.close()


def test_admin_creates_handler_who_must_change_password(traditional_page):
    page = traditional_page
    page.goto("/auth/login")
    expect(page.locator("html")).to_have_attribute("lang", "zh-TW")
    expect(page.locator("h1")).to_have_text("登入")

    sign_in(page, "admin")
    expect(page).to_have_url(re.compile(r"/home$"))
    page.goto("/admin/users/new")
    page.fill("input[name=username]", "wu.handler")
    page.fill("input[name=display_name]", "吳承辦")
    page.select_option("select[name=role]", "handler")
    page.select_option("select[name=unit_id]", label="商务局")
    page.fill("input[name=mobile]", "13812345678")
    page.fill("input[name=password]", NEW_PASSWORD_1)
    page.click("form button[type=submit].btn-primary")
    expect(page).to_have_url(re.compile(r"/admin/users$"))
    page.goto("/admin/users?q=wu.handler")  # the demo has a handler and a lead in every unit
    expect(page.locator("table")).to_contain_text("wu.handler")
    expect(page.locator("table")).to_contain_text("138****5678")
    sign_out(page)

    sign_in(page, "wu.handler", NEW_PASSWORD_1)
    expect(page).to_have_url(re.compile(r"/auth/password$"))
    page.goto("/home")
    expect(page).to_have_url(re.compile(r"/auth/password$"))
    page.fill("input[name=current_password]", NEW_PASSWORD_1)
    page.fill("input[name=new_password]", NEW_PASSWORD_2)
    page.fill("input[name=confirm]", NEW_PASSWORD_2)
    page.click("form button[type=submit].btn-primary")
    expect(page).to_have_url(re.compile(r"/home$"))
    expect(page.locator("[data-testid=role]")).to_contain_text("商务局")
