"""Report pages: who may see what, drill-downs that match their numbers, exports that match the
screen, audited exports, a constant number of queries, and the public page switch."""

from __future__ import annotations

import csv
import io
import re

import openpyxl
import pytest
import sqlalchemy as sa

from app.core.audit import AuditEvent
from app.core.permissions import Role
from app.extensions import db
from tests.exports import flow
from tests.helpers import count_queries, csrf_token

MARCH = "period=month&start=2026-03-01"


def test_handler_and_dispatcher_get_no_reports(month, make, login_as):
    for role in (Role.HANDLER, Role.DISPATCHER, Role.ADMIN):
        client = login_as(make.user(role))
        assert client.get(f"/reports/?{MARCH}").status_code == 403
        assert client.get(f"/reports/tickets?fact=open&subset=a&{MARCH}").status_code == 403
        token = csrf_token(client, "/auth/change-password")
        assert client.post(f"/reports/export/breakdown.csv?{MARCH}",
                           data={"csrf_token": token}).status_code == 403


def test_supervisor_sees_every_unit_with_definitions(month, login_as):
    page = login_as(month.supervisor).get(f"/reports/?{MARCH}").get_data(as_text=True)
    assert month.unit_a.name in page and month.unit_b.name in page
    assert 'data-testid="definitions"' in page and "the share replied by the deadline" in page
    assert '<svg' in page and 'role="img"' in page
    assert month.tickets["T4"].reference in page  # in the overdue list


def test_unit_lead_sees_only_their_unit(month, login_as):
    client = login_as(month.lead_a)
    page = client.get(f"/reports/?{MARCH}").get_data(as_text=True)
    assert month.unit_a.name in page and month.unit_b.name not in page
    other = client.get(f"/reports/tickets?fact=open&subset=a&by=unit&key={month.unit_b.id}"
                       f"&{MARCH}").get_data(as_text=True)
    assert month.tickets["T4"].reference not in other
    assert "0 tickets" in other


def test_drill_down_lists_exactly_the_number_it_came_from(month, login_as):
    client = login_as(month.supervisor)
    page = client.get(f"/reports/?{MARCH}").get_data(as_text=True)
    link = re.search(r'data-testid="figure-overdue"><a href="([^"]+)">(\d+)</a>', page)
    assert link and link.group(2) == "2"
    drill = client.get(link.group(1).replace("&amp;", "&")).get_data(as_text=True)
    assert "2 tickets" in drill
    assert month.tickets["T4"].reference in drill and month.tickets["T6"].reference in drill
    # Sorted by remaining working time: T6 (due 03-09) is later than T4 (03-10).
    assert drill.index(month.tickets["T6"].reference) < drill.index(month.tickets["T4"].reference)


def _html_row(page: str, name: str) -> str:
    match = re.search(r"<tr data-key=\"[^\"]*\">\s*<th scope=\"row\">" + re.escape(name)
                      + r"</th>(.*?)</tr>", page, re.S)
    assert match, name
    return match.group(1)


def test_csv_export_equals_the_table_on_screen(month, login_as):
    client = login_as(month.supervisor)
    page = client.get(f"/reports/?by=unit&{MARCH}").get_data(as_text=True)
    response = flow.export(client, f"/reports/export/breakdown.csv?by=unit&{MARCH}")
    lines = list(csv.reader(io.StringIO(response.get_data().decode("utf-8-sig"))))
    assert lines[0][0] == "Unit"
    for line in lines[1:-1]:
        cells = re.sub(r"<[^>]+>", " ", _html_row(page, line[0]))
        shown = re.findall(r"[\d.]+%?|–", cells)
        for value in line[1:]:
            text = value or "–"
            assert text in shown or f"{text}%" in shown, (line[0], value)
    assert lines[-1][0] == "Total"


def test_xlsx_export_has_every_row_a_frozen_header_and_is_audited(month, login_as):
    client = login_as(month.supervisor)
    response = flow.export(client, f"/reports/export/tickets.xlsx?fact=handling&subset=all&{MARCH}")
    assert response.status_code == 200
    book = openpyxl.load_workbook(io.BytesIO(response.get_data()))
    sheet = book.active
    assert sheet.freeze_panes == "A2"
    assert sheet.max_row == 1 + 8  # the 8 tickets of 按期办结率's denominator
    assert sheet.cell(1, 1).value == "Reference" and sheet.cell(1, 1).font.bold
    audit_row = db.session.scalars(sa.select(AuditEvent).where(
        AuditEvent.action == "report.export").order_by(AuditEvent.id.desc())).first()
    assert audit_row.details["rows"] == 8 and audit_row.details["format"] == "xlsx"
    assert audit_row.actor_id == month.supervisor.id


def _queries_for(client, url: str) -> int:
    with count_queries() as counted:
        assert client.get(url).status_code == 200
    return counted.count


def test_dashboard_and_drill_down_run_a_constant_number_of_queries(month, make, login_as):
    client = login_as(month.supervisor)
    before = (_queries_for(client, f"/reports/?{MARCH}"),
              _queries_for(client, f"/reports/tickets?fact=handling&subset=all&{MARCH}"))
    for _ in range(4):  # more units, more tickets in the same period
        unit = make.unit()
        make.user(Role.HANDLER, unit=unit)
        from app.tickets.services import transition

        ticket = make.ticket(actor=month.firm_user)
        transition(ticket, "dispatch", month.dispatcher, lead_unit=unit)
    after = (_queries_for(client, f"/reports/?{MARCH}"),
             _queries_for(client, f"/reports/tickets?fact=handling&subset=all&{MARCH}"))
    assert after == before


def test_bad_period_shows_a_message_not_an_error(month, login_as):
    response = login_as(month.supervisor).get(
        "/reports/?period=custom&start=2026-03-10&end=2026-03-01")
    assert response.status_code == 200
    assert "Choose a valid period" in response.get_data(as_text=True)
    assert login_as(month.supervisor).get("/reports/tickets?fact=nope").status_code == 404


def test_monthly_report_prints_the_month(month, login_as):
    page = login_as(month.supervisor).get("/reports/monthly?start=2026-03-01")
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and "2026-03" in text and month.unit_a.name in text


def test_public_page_needs_no_sign_in_shows_no_personal_data_and_can_be_switched_off(
        month, client, app):
    page = client.get("/reports/public?month=2026-03")
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and month.unit_a.name in text
    assert month.handler_a.display_name not in text
    assert month.tickets["T1"].reference not in text
    app.config["REPORTS_PUBLIC_PAGE"] = False
    try:
        assert client.get("/reports/public").status_code == 404
    finally:
        app.config["REPORTS_PUBLIC_PAGE"] = True


@pytest.mark.parametrize("by", ["unit", "area", "category", "handler"])
def test_every_breakdown_renders_and_exports(month, login_as, by):
    client = login_as(month.supervisor)
    assert client.get(f"/reports/?by={by}&{MARCH}").status_code == 200
    response = flow.export(client, f"/reports/export/breakdown.xlsx?by={by}&{MARCH}")
    assert response.status_code == 200
    assert openpyxl.load_workbook(io.BytesIO(response.get_data())).active.max_row >= 2


def test_drill_down_pages_carry_the_total_of_the_same_query(month, app, login_as,
                                                            monkeypatch):
    """Tickets received in March: T1–T6, T8, T9, T12, T13 = 10. With 3 a page, page 4 holds
    one ticket and still says 10; a page past the end says 10 too (counted separately), and
    every page lists different tickets."""
    monkeypatch.setitem(app.config, "PAGE_SIZE", 3)
    client = login_as(month.supervisor)
    seen = []
    for number in (1, 2, 3, 4, 5):
        page = client.get(f"/reports/tickets?fact=intake&subset=all&{MARCH}&page={number}")
        text = page.get_data(as_text=True)
        assert "10 tickets" in text, number
        seen += [t.reference for t in month.tickets.values() if t.reference in text]
    assert len(seen) == len(set(seen)) == 10


def _fact_reads(client, url: str) -> int:
    """How many statements of the request read the stored facts."""
    with count_queries() as counted:
        assert client.get(url).status_code == 200
    return sum("report_facts" in statement for statement in counted.statements)


def test_drill_page_lists_and_counts_in_one_statement(month, login_as):
    client = login_as(month.supervisor)
    url = f"/reports/tickets?fact=intake&subset=all&{MARCH}"
    client.get(url)  # the fixture's uncommitted changes reach report_facts on the first read
    assert _fact_reads(client, url) == 1
    assert _fact_reads(client, url + "&page=9") == 2  # only an empty page counts apart
