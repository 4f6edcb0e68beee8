"""Journey on a phone: a handler logs a visit with two issues and hands one over as a ticket."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from app.auth.models import User
from app.extensions import db
from app.firms.models import Firm
from tests.e2e.pages import sign_in


@pytest.fixture
def phone(browser, base_url):
    context = browser.new_context(base_url=base_url, locale="zh-CN",
                                  viewport={"width": 390, "height": 844},
                                  is_mobile=True, has_touch=True)
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def served_firm(live_app):
    with live_app.app_context():
        handler = db.session.scalar(sa.select(User).where(User.username == "handler"))
        name = db.session.scalar(sa.select(Firm.name).where(
            Firm.commissioner_id == handler.id).order_by(Firm.id))
        db.session.remove()
    return name


def test_handler_logs_a_visit_with_two_issues_and_hands_one_over(phone, served_firm):
    page = phone
    sign_in(page, "handler")
    page.goto("/visits/new")
    page.fill("input[name=q]", served_firm[:6])
    page.press("input[name=q]", "Enter")
    page.locator("[data-testid=firm-choices] a", has_text=served_firm).first.click()
    expect(page.locator("[data-testid=visit-firm]")).to_have_text(served_firm)

    page.select_option("select[name=mode]", "onsite")
    page.check("input[name=purposes][value=policy_publicity]")
    page.fill("textarea[name=operating_status]", "订单饱满，计划扩产，用工缺口约80人。")
    page.fill("textarea[name='issues-0-description']", "招工难，缺少熟练技工。")
    page.click("[data-testid=add-issue]")
    expect(page.locator("[data-testid=issue-row]")).to_have_count(2)
    expect(page.locator("textarea[name='issues-0-description']")).to_have_value(
        "招工难，缺少熟练技工。")
    page.fill("textarea[name='issues-1-description']", "希望了解研发费用加计扣除政策。")
    page.check("input[name='issues-1-is_solved_on_site']")
    page.fill("textarea[name='issues-1-solution']", "现场讲解并提供申报指南。")
    save = page.locator("[data-testid=save-visit]")
    box = save.bounding_box()
    assert box["height"] >= 44 and box["width"] >= 300  # a thumb-sized button on a phone
    save.click()
    expect(page).to_have_url(re.compile(r"/visits/\d+$"))
    expect(page.locator("[data-testid=issue]")).to_have_count(2)

    page.on("dialog", lambda dialog: dialog.accept())
    open_issue = page.locator("[data-testid=issue]", has_text="招工难")
    open_issue.locator("form[action$='/assign'] button").click()
    expect(page.locator("[data-testid=issue]", has_text="招工难")
           .locator("[data-testid=issue-ticket]")).to_contain_text(re.compile(r"KS\d{4}-\d{6}"))
    expect(page.locator("[data-testid=issue]", has_text="研发费用")
           .locator("[data-testid=issue-state]")).to_be_visible()
