"""Journey: a dispatcher registers a firm, mistypes its USCC, reads the error in Chinese,
corrects it, then finds the firm again by part of its name typed in Traditional characters."""

import re

from flask_babel import refresh
from playwright.sync_api import expect

from app.firms.uscc import USCC_PROBLEM_MESSAGES, UsccProblem
from tests.e2e.pages import sign_in

NAME = "昆山如意示范精密机械有限公司"
MISTYPED = "9132 0583 3141 5926 8A"
CORRECT = "91320583314159268J"


def chinese_check_message(app) -> str:
    """The wrong-check-character message as the Simplified Chinese catalogue has it."""
    with app.test_request_context(headers={"Accept-Language": "zh-CN"}):
        refresh()
        message = str(USCC_PROBLEM_MESSAGES[UsccProblem.CHECK])
    assert re.search(r"[\u4e00-\u9fff]", message), "the message must be translated"
    return message


def test_dispatcher_corrects_a_mistyped_uscc_and_finds_the_firm(page, live_app):
    sign_in(page, "dispatcher")
    page.goto("/firms/new")
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    page.fill("input[name=uscc]", MISTYPED)
    page.fill("input[name=name]", NAME)
    page.select_option("select[name=area_id]", label="张浦镇")
    page.fill("input[name=industry_code]", "C3484")
    page.select_option("select[name=capital_origin]", "taiwan")
    page.click("[data-testid=firm-form] button[type=submit]")

    error = page.locator("input[name=uscc] ~ .invalid-feedback")
    expect(error).to_be_visible()
    expect(error).to_contain_text(chinese_check_message(live_app))
    expect(page.locator("input[name=name]")).to_have_value(NAME)

    page.fill("input[name=uscc]", CORRECT)
    page.click("[data-testid=firm-form] button[type=submit]")
    expect(page).to_have_url(re.compile(r"/firms/\d+$"))
    expect(page.locator("[data-testid=firm-name]")).to_have_text(NAME)
    expect(page.locator("[data-testid=firm-uscc]")).to_have_text(CORRECT)

    page.goto("/firms/")
    page.fill("input[name=q]", "如意示範")
    page.click("form[role=search] button[type=submit]")
    results = page.locator("[data-testid=firm-list]")
    expect(results).to_contain_text(NAME)
    expect(results.locator("tbody tr")).to_have_count(1)
    results.get_by_role("link", name=NAME).click()
    expect(page.locator("[data-testid=firm-uscc]")).to_have_text(CORRECT)
