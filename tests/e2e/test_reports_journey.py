"""A supervisor opens the dashboard, drills into one unit's overdue tickets and exports them
(the export runs as a job; its page offers the file)."""

from __future__ import annotations

import re

import openpyxl
from playwright.sync_api import expect

from tests.e2e.pages import sign_in


def test_supervisor_drills_into_a_units_overdue_tickets_and_exports_them(page, tmp_path):
    sign_in(page, "supervisor")
    page.goto("/reports/")
    table = page.get_by_test_id("breakdown")
    expect(table).to_be_visible()
    row = table.locator("tbody tr", has_text="商务局")
    overdue_column = [h.strip() for h in table.locator("thead th").all_inner_texts()].index(
        page.get_by_test_id("cards").locator("[data-figure=overdue] .small").first.inner_text()
        .strip())
    cell = row.locator("th, td").nth(overdue_column)
    shown = int(cell.inner_text().strip())
    assert shown > 0
    cell.locator("a").first.click()
    expect(page.get_by_test_id("drill-list")).to_be_visible()
    total = int(re.search(r"\d+", page.get_by_test_id("drill-total").inner_text()).group())
    assert total == shown
    page.get_by_test_id("export-xlsx").click()  # the export runs as a job: its page
    expect(page).to_have_url(re.compile(r"/my/files/\d+$"))
    with page.expect_download() as download_info:
        page.get_by_test_id("download-export").click()
    path = tmp_path / "overdue.xlsx"
    download_info.value.save_as(path)
    sheet = openpyxl.load_workbook(path).active
    assert sheet.max_row == total + 1
    assert sheet.freeze_panes == "A2"
