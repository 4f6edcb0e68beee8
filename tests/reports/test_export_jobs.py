"""The report exports and the monthly report run as jobs (the flow: tests/exports)."""

from __future__ import annotations

import pytest

from tests.exports import flow
from tests.exports.test_exports import job_of, rows_of

MARCH = "period=month&start=2026-03-01"


@pytest.fixture(autouse=True)
def files_dir(app, tmp_path):
    saved = app.config.get("TICKET_UPLOAD_DIR")
    app.config["TICKET_UPLOAD_DIR"] = str(tmp_path / "files")
    yield
    app.config["TICKET_UPLOAD_DIR"] = saved


def test_drill_down_export_is_a_job(month, login_as):
    client = login_as(month.supervisor)
    page = flow.start(client, f"/reports/export/tickets.csv?fact=handling&subset=all&{MARCH}")
    assert job_of(page).kind == "reports.export_drill"
    rows = rows_of(client.get(flow.download_links(page)[0]), "csv")
    assert len(rows) == 1 + 8 and rows[0][0] == "Reference"
    assert (job_of(page).progress_done, job_of(page).progress_total) == (8, 8)


def test_breakdown_export_is_a_job(month, login_as):
    client = login_as(month.supervisor)
    page = flow.start(client, f"/reports/export/breakdown.xlsx?by=unit&{MARCH}")
    assert job_of(page).kind == "reports.export_breakdown"
    rows = rows_of(client.get(flow.download_links(page)[0]), "xlsx")
    assert rows[0][0] == "Unit" and rows[-1][0] == "Total"


def test_monthly_report_is_a_job_writing_the_table_by_unit(month, login_as):
    client = login_as(month.supervisor)
    monthly = client.get("/reports/monthly?start=2026-03-01").get_data(as_text=True)
    assert 'data-testid="export-monthly-xlsx"' in monthly
    page = flow.start(client, "/reports/monthly/export.xlsx?start=2026-03-01")
    job = job_of(page)
    assert job.kind == "reports.monthly"
    assert job.result["files"][0]["name"].startswith("monthly-report-2026-03-")
    rows = rows_of(client.get(flow.download_links(page)[0]), "xlsx")
    names = [r[0] for r in rows]
    assert month.unit_a.name in names and names[-1] == "Total"
    assert client.post("/reports/monthly/export.xlsx?start=bogus").status_code in (400, 404)
