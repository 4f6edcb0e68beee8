"""Journey: a Taiwan-invested firm asks in Traditional Chinese, follows its request, rates
the answer 不满意, and the supervisor finds the rectification it opened."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from app.auth.models import Unit, User
from app.extensions import db
from app.tickets import services as tickets
from app.tickets.models import Ticket
from tests.e2e.pages import sign_in

MOBILE = "13912345678"


@pytest.fixture
def traditional_page(browser, base_url):
    context = browser.new_context(base_url=base_url, locale="zh-TW")
    page = context.new_page()
    yield page
    context.close()


def staff_reply(app, reference: str) -> None:
    """The office's steps, through the services on the live database: dispatch, acknowledge,
    reply, approve."""
    with app.app_context():
        ticket = db.session.scalar(sa.select(Ticket).where(Ticket.reference == reference))
        users = {u.username: u for u in db.session.scalars(sa.select(User))}
        unit = db.session.scalar(sa.select(Unit).where(Unit.code == "SWJ"))
        tickets.transition(ticket, "dispatch", users["dispatcher"], lead_unit=unit)
        tickets.transition(ticket, "acknowledge", users["handler"])
        tickets.transition(ticket, "reply", users["handler"], text="已協調人社局舉辦專場招聘會。")
        tickets.transition(ticket, "approve_reply", users["dispatcher"])
        db.session.commit()
        db.session.remove()


def test_firm_submits_in_traditional_chinese_rates_and_supervisor_sees_rectification(
        traditional_page, live_app, browser, base_url):
    page = traditional_page
    page.goto("/")
    expect(page.locator("html")).to_have_attribute("lang", "zh-TW")
    form = page.locator("[data-testid=request-form]")
    form.locator("input[name=firm_name]").fill("崑山臺灣精密股份有限公司")
    form.locator("input[name=uscc]").fill("91320583314159268J")
    form.locator("input[name=contact_name]").fill("陳經理")
    form.locator("input[name=mobile]").fill(MOBILE)
    form.locator("select[name=demand_type]").select_option("help")
    form.locator("input[name=title]").fill("招工困難")
    form.locator("textarea[name=description]").fill("希望協助組織專場招聘會。")
    form.locator("input[name=is_taiwan]").check()
    form.locator("input[name=consent]").check()
    form.locator("button[type=submit]").click()

    expect(page).to_have_url(re.compile(r"/track/[A-Za-z0-9_-]{43,}/received$"))
    reference = page.locator("[data-testid=reference]").inner_text()
    assert re.fullmatch(r"KS\d{4}-\d{6}", reference)
    expect(page.locator("[data-testid=promised]")).to_have_text(
        re.compile(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}"))

    page.goto("/track")
    page.fill("input[name=reference]", reference)
    page.fill("input[name=mobile]", MOBILE)
    page.click("main form button[type=submit]")
    expect(page).to_have_url(re.compile(r"/track/[A-Za-z0-9_-]{43,}$"))
    expect(page.locator("h1")).to_contain_text(reference)
    tracking_url = page.url

    staff_reply(live_app, reference)
    page.goto(tracking_url)
    expect(page.locator("[data-testid=reply]")).to_contain_text("專場招聘會")
    page.check("input[name=level][value='2']")
    page.fill("textarea[name=comment]", "答覆沒有解決問題")
    page.locator("[data-testid=rate-card] button[type=submit]").click()
    expect(page.locator("[data-testid=rated]")).to_be_visible()

    staff = browser.new_context(base_url=base_url, locale="zh-CN").new_page()
    sign_in(staff, "supervisor")
    staff.goto("/ratings/rectifications")
    expect(staff.locator("[data-testid=rectifications]")).to_contain_text(reference)
    staff.locator("[data-testid=rectifications] a", has_text=reference).click()
    expect(staff.locator("[data-testid=evaluator]")).to_contain_text("陳經理")
    staff.context.close()
