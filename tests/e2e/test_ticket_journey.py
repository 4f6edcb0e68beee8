"""Journey across desks: a phone request from intake through extension to an approved reply."""

from __future__ import annotations

import re

import pytest
from flask_babel import force_locale, gettext
from playwright.sync_api import expect

from app.tickets.models.enums import (
    EXTENSION_STATUS_LABELS,
    STATUS_LABELS,
    ExtensionStatus,
    TicketStatus,
)
from tests.e2e.pages import sign_in, sign_out


@pytest.fixture
def labels(live_app):
    """The status labels as the zh-CN browser reads them."""
    with live_app.test_request_context(), force_locale("zh_CN"):
        return {**{status: str(label) for status, label in STATUS_LABELS.items()},
                **{status: str(label) for status, label in EXTENSION_STATUS_LABELS.items()},
                "five_days": gettext("Extension of %(days)d working days", days=5)}


def _act(page, action: str, **fields: str) -> None:
    """Open an action's dialog on the ticket page, fill its fields and submit it."""
    form = page.locator(f"form[action$='/act/{action}']")
    form.locator("xpath=ancestor::details").locator("summary").click()
    for name, value in fields.items():
        form.locator(f"[name={name}]").fill(value)
    form.locator(f"button[data-action={action}]").click()
    page.wait_for_load_state()


def _expect_status(page, label: str) -> None:
    expect(page.get_by_test_id("status")).to_have_text(label)


def test_phone_request_goes_from_intake_through_an_extension_to_an_approved_reply(page, labels):
    sign_in(page, "dispatcher")
    page.goto("/tickets/new")
    page.select_option("select[name=channel]", "phone")
    page.fill("input[name=requester_name]", "王先生")
    page.fill("input[name=requester_mobile]", "13800138000")
    page.fill("input[name=requester_firm_name]", "东湖贸易有限公司")
    page.fill("input[name=title]", "外贸备案咨询")
    page.fill("textarea[name=description]", "来电询问对外贸易经营者备案的办理材料。")
    page.locator("form button[type=submit]").last.click()
    page.wait_for_url(re.compile(r"/tickets/[^/]+$"))
    ticket_url = page.url
    _expect_status(page, labels[TicketStatus.SUBMITTED])

    dispatch = page.locator("form[action$='/act/dispatch']")
    dispatch.locator("xpath=ancestor::details").locator("summary").click()
    unit = dispatch.locator("select[name=lead_unit] option", has_text="商务局").first
    dispatch.locator("select[name=lead_unit]").select_option(unit.get_attribute("value"))
    dispatch.locator("button[data-action=dispatch]").click()
    page.wait_for_load_state()
    _expect_status(page, labels[TicketStatus.DISPATCHED])
    expect(page.locator("dl")).to_contain_text("商务局")
    sign_out(page)

    sign_in(page, "handler")
    page.goto(ticket_url)
    _act(page, "acknowledge")
    _expect_status(page, labels[TicketStatus.IN_PROGRESS])
    _act(page, "suspend", missing_info="营业执照副本扫描件",
         contact_attempt="11月26日上午致电王先生 13800138000，已告知需补充材料")
    _expect_status(page, labels[TicketStatus.SUSPENDED])
    expect(page.get_by_test_id("timeline")).to_contain_text("营业执照副本扫描件")
    _act(page, "resume", reason="材料已补齐")
    _expect_status(page, labels[TicketStatus.IN_PROGRESS])
    _act(page, "request_extension", days="5", reason="需会同海关核实备案信息")
    requests = page.get_by_test_id("requests")
    expect(requests).to_contain_text("需会同海关核实备案信息")
    expect(requests).to_contain_text(labels["five_days"])
    expect(requests).to_contain_text(labels[ExtensionStatus.AWAITING_ENDORSEMENT])
    proposed = requests.locator(".text-muted").first.inner_text().split("→")[-1].strip()
    deadlines_before = page.get_by_test_id("deadlines").inner_text()
    assert proposed not in deadlines_before
    sign_out(page)

    sign_in(page, "lead")
    page.goto(ticket_url)
    expect(page.locator("form[action$='/act/approve_extension']")).to_have_count(0)
    _act(page, "endorse_extension")
    expect(page.get_by_test_id("requests")).to_contain_text(
        labels[ExtensionStatus.AWAITING_DECISION])
    sign_out(page)

    sign_in(page, "supervisor")
    page.goto(ticket_url)
    _act(page, "approve_extension")
    _expect_status(page, labels[TicketStatus.IN_PROGRESS])
    expect(page.get_by_test_id("requests")).to_contain_text(labels[ExtensionStatus.APPROVED])
    deadlines_after = page.get_by_test_id("deadlines")
    expect(deadlines_after).to_contain_text(proposed)
    assert deadlines_after.inner_text() != deadlines_before
    sign_out(page)

    sign_in(page, "handler")
    page.goto(ticket_url)
    _act(page, "reply", text="已告知备案所需材料及办理窗口。")
    _expect_status(page, labels[TicketStatus.REPLIED])
    sign_out(page)

    sign_in(page, "dispatcher")
    page.goto(ticket_url)
    expect(page.locator("main#content")).to_contain_text("已告知备案所需材料及办理窗口。")
    _act(page, "approve_reply")
    _expect_status(page, labels[TicketStatus.FOLLOW_UP])
    expect(page.locator("form[action$='/act/reply']")).to_have_count(0)
