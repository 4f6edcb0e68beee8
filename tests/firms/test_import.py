"""Importing firms: every malformed file writes nothing; re-import changes nothing."""

import csv
import io

import pytest
import sqlalchemy as sa
from flask_babel import gettext as _
from flask_babel import refresh
from openpyxl import Workbook, load_workbook

from app.core.audit import AuditEvent
from app.core.permissions import Role
from app.extensions import db as _db
from app.firms import importer
from app.firms.models import Contact, Firm, FirmNameChange
from app.firms.uscc import USCC_PROBLEM_MESSAGES, UsccProblem, complete
from app.jobs.models import Job
from tests.exports import flow
from tests.helpers import csrf_token

HEADER = [c.header for c in importer.COLUMNS]


def row(n: int, **overrides) -> list:
    values = {"uscc": complete(f"91320583MA{n:07d}"), "name": f"昆山导入{n}电子有限公司",
              "english_name": "", "area": "昆山开发区", "industry": "C3982",
              "legal_form": "有限责任公司", "capital_origin": "台资", "address": "前进东路1号",
              "employees": "120", "is_key_firm": "否", "commissioner": "",
              "contact_name": f"联系人{n}", "contact_title": "总经理",
              "contact_mobile": "13812345678", "contact_email": ""}
    values.update(overrides)
    return [values[c.key] for c in importer.COLUMNS]


def write_xlsx(path, rows, header=HEADER):
    workbook = Workbook()
    sheet = workbook.active
    if header:
        sheet.append(header)
    for values in rows:
        sheet.append(values)
    workbook.save(path)
    return path


def write_csv(path, rows, header=HEADER, encoding="utf-8-sig"):
    with open(path, "w", newline="", encoding=encoding) as handle:
        writer = csv.writer(handle)
        if header:
            writer.writerow(header)
        writer.writerows(rows)
    return path


def run(path, dry_run=False, max_bytes=10 * 1024 * 1024, actor=None):
    report = importer.run_import(str(path), str(path), actor, dry_run=dry_run,
                                 max_bytes=max_bytes)
    _db.session.commit() if not dry_run else _db.session.rollback()
    return report


def firm_count() -> int:
    return _db.session.scalar(sa.select(sa.func.count(Firm.id)))


def cli(app, *args):
    return app.test_cli_runner().invoke(args=["firms", "import", *map(str, args)])


def nothing_written():
    assert firm_count() == 0
    assert _db.session.scalar(sa.select(sa.func.count(Contact.id))) == 0
    assert _db.session.scalar(sa.select(sa.func.count(AuditEvent.id)).where(
        AuditEvent.action == "firm.import")) == 0


def _bad_files(tmp_path):
    fake_xlsx = tmp_path / "fake.xlsx"
    fake_xlsx.write_text("统一社会信用代码,企业名称\n", encoding="utf-8")
    zip_as_csv = tmp_path / "book.csv"
    write_xlsx(zip_as_csv, [row(1)])
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    blank_sheet = write_xlsx(tmp_path / "blank.xlsx", [], header=None)
    header_only = write_xlsx(tmp_path / "header.xlsx", [])
    wrong = write_xlsx(tmp_path / "wrong.xlsx", [["x"] * 3], header=["名称", "代码", "地址"])
    unknown_extra = write_csv(tmp_path / "extra.csv", [[*row(1), "x"]], header=[*HEADER, "备注"])
    missing = write_csv(tmp_path / "missing.csv", [row(1)[1:]], header=HEADER[1:])
    other = tmp_path / "firms.txt"
    other.write_text("hello", encoding="utf-8")
    # Messages are compared in the current language: the command line speaks the default one.
    return {"xlsx that is text": (fake_xlsx, _("The file is not a real Excel (.xlsx) workbook.")),
            "csv that is a workbook": (zip_as_csv, _("The file is not a text CSV file.")),
            "empty file": (empty, _("The file is empty.")),
            "workbook with no rows": (blank_sheet, _("The file is empty.")),
            "header only": (header_only, _("The file has a header row but no data rows.")),
            "wrong headers": (wrong, "名称、代码"),
            "unknown extra column": (unknown_extra, "备注"),
            "missing required column": (missing, "统一社会信用代码"),
            "wrong extension": (other, _("Upload an .xlsx or .csv file."))}


BAD = ["xlsx that is text", "csv that is a workbook", "empty file", "workbook with no rows",
       "header only", "wrong headers", "unknown extra column", "missing required column",
       "wrong extension"]


@pytest.mark.parametrize("case", BAD)
def test_malformed_file_is_refused_with_a_clear_message_and_writes_nothing(app, tmp_path, case):
    path, message = _bad_files(tmp_path)[case]
    result = cli(app, path)
    assert result.exit_code != 0
    assert message in result.output
    nothing_written()


def test_file_over_the_size_limit_is_refused_and_writes_nothing(app, tmp_path):
    path = write_xlsx(tmp_path / "big.xlsx", [row(n) for n in range(1, 50)])
    app.config["FIRM_IMPORT_MAX_BYTES"], saved = 1000, app.config["FIRM_IMPORT_MAX_BYTES"]
    try:
        result = cli(app, path)
    finally:
        app.config["FIRM_IMPORT_MAX_BYTES"] = saved
    assert result.exit_code != 0
    assert _("The file is larger than the limit of %(mb)s MB.", mb=0.0) in result.output
    nothing_written()


def _upload(client, path, name=None, dry_run=""):
    return client.post("/firms/import", data={
        "csrf_token": csrf_token(client, "/firms/import"), "dry_run": dry_run,
        "file": (io.BytesIO(path.read_bytes()), name or path.name)},
        content_type="multipart/form-data")


@pytest.mark.parametrize("case", ["csv that is a workbook", "wrong extension", "empty file"])
def test_upload_page_shows_a_wrong_file_next_to_the_file_field_and_starts_no_job(
        client, make, login_as, tmp_path, case):
    with client.application.test_request_context(headers={"Accept-Language": "en"}):
        refresh()
        path, message = _bad_files(tmp_path)[case]
    refresh()
    login_as(make.user(Role.DISPATCHER))
    response = _upload(client, path)
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "invalid-feedback" in body and message in body
    assert _db.session.scalar(sa.select(sa.func.count(Job.id))) == 0
    nothing_written()


@pytest.mark.parametrize("case", ["wrong headers", "header only"])
def test_a_file_refused_by_the_import_job_shows_why_on_its_page(client, make, login_as,
                                                                tmp_path, case):
    with client.application.test_request_context(headers={"Accept-Language": "en"}):
        refresh()
        path, message = _bad_files(tmp_path)[case]
    refresh()
    login_as(make.user(Role.DISPATCHER))
    response = _upload(client, path)
    assert response.status_code == 302
    body = client.get(response.headers["Location"]).get_data(as_text=True)
    assert 'data-testid="job-error"' in body and message in body
    nothing_written()


def test_valid_rows_are_imported_together_and_rejected_rows_are_reported(app, tmp_path, make):
    registered = make.firm(name="昆山已登记有限公司")

    def make_first_uscc():
        return registered.uscc

    rows = [row(1), row(2, uscc="91320583MA0000002X"), row(3, area="火星镇"),
            row(4, industry="C9999"), row(1, name="重复代码有限公司"),
            row(5, name="昆山已登记有限公司"),
            row(6, is_key_firm="是"), row(7, contact_mobile="12345"), row(8, name=""),
            row(9, capital_origin="月球")]
    path = write_xlsx(tmp_path / "mixed.xlsx", rows)
    report = run(path)
    assert (report.total, report.created, len(report.rejected)) == (10, 1, 9)
    reasons = {e.row_number: e.reason for e in report.rejected}
    assert reasons[3] == str(USCC_PROBLEM_MESSAGES[UsccProblem.CHECK])
    assert reasons[4] == _("Unknown area %(name)s.", name="火星镇")
    assert reasons[5] == _("Unknown industry class %(code)s.", code="C9999")
    assert reasons[6] == _("Duplicate: the same code is on row %(row)d.", row=2)
    assert make_first_uscc() in reasons[7]
    assert reasons[8] == _("A key firm must have a service commissioner.")
    assert "13812345678" in reasons[9]
    assert reasons[10] == _("The column %(col)s is required.", col="企业名称")
    assert reasons[11] == _("Unknown capital origin %(value)s.", value="月球")
    firm = _db.session.scalar(sa.select(Firm).where(Firm.uscc == complete("91320583MA0000001")))
    assert firm.is_taiwan_invested and firm.contacts[0].name == "联系人1"
    out = io.BytesIO()
    importer.error_report(report, out)
    sheet = load_workbook(out).active
    assert sheet.max_row == 10
    assert sheet.cell(1, sheet.max_column).value == _("Reason")
    assert "火星镇" in sheet.cell(3, sheet.max_column).value


def test_dry_run_counts_but_writes_nothing(app, tmp_path):
    path = write_csv(tmp_path / "firms.csv", [row(1), row(2), row(3, area="火星镇")])
    result = cli(app, path, "--dry-run")
    assert result.exit_code == 0, result.output
    assert "3 rows: 2 new, 0 updated, 0 unchanged, 1 rejected" in result.output
    assert (tmp_path / "firms-csv-errors.xlsx").exists()
    nothing_written()


def test_reimporting_the_same_file_changes_nothing(app, tmp_path):
    path = write_xlsx(tmp_path / "firms.xlsx", [row(n) for n in range(1, 6)])
    first = run(path)
    assert first.created == 5
    before = _db.session.execute(sa.select(Firm.id, Firm.updated_at, Firm.search_key)
                                 .order_by(Firm.id)).all()
    contacts = _db.session.scalar(sa.select(sa.func.count(Contact.id)))
    dry = run(path, dry_run=True)
    assert (dry.created, dry.updated, dry.unchanged) == (0, 0, 5)
    second = run(path)
    assert (second.created, second.updated, second.unchanged) == (0, 0, 5)
    _db.session.expire_all()
    assert _db.session.execute(sa.select(Firm.id, Firm.updated_at, Firm.search_key)
                               .order_by(Firm.id)).all() == before
    assert _db.session.scalar(sa.select(sa.func.count(Contact.id))) == contacts


def test_reimport_updates_existing_firms_by_uscc_and_keeps_the_old_name(app, tmp_path):
    run(write_csv(tmp_path / "a.csv", [row(1)]))
    renamed = write_csv(tmp_path / "b.csv", [row(1, name="昆山改名电子有限公司",
                                                  contact_name="新联系人")])
    dry = run(renamed, dry_run=True)
    assert (dry.created, dry.updated, dry.unchanged) == (0, 1, 0)
    report = run(renamed)
    assert (report.created, report.updated) == (0, 1)
    firm = _db.session.scalar(sa.select(Firm))
    _db.session.refresh(firm)
    assert firm.name == "昆山改名电子有限公司"
    history = _db.session.scalars(sa.select(FirmNameChange.old_name)).all()
    assert history == ["昆山导入1电子有限公司"]
    assert "导入1" in firm.search_key and "新联系人" in firm.search_key
    assert firm_count() == 1


def test_key_firm_with_a_staff_commissioner_is_imported(app, tmp_path, make):
    handler = make.user(Role.HANDLER)
    report = run(write_csv(tmp_path / "k.csv", [row(1, is_key_firm="是",
                                                     commissioner=handler.username)]))
    assert report.created == 1
    assert _db.session.scalar(sa.select(Firm.commissioner_id)) == handler.id


def test_gb18030_csv_and_english_headers_are_accepted(app, tmp_path):
    path = write_csv(tmp_path / "gbk.csv", [row(1)], header=[c.key for c in importer.COLUMNS],
                     encoding="gb18030")
    assert run(path).created == 1


def test_real_import_is_audited_with_counts(app, tmp_path, db):
    result = cli(app, write_csv(tmp_path / "a.csv", [row(1), row(2, area="火星镇")]))
    assert result.exit_code == 0, result.output
    event_row = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "firm.import"))
    assert event_row.details["created"] == 1 and event_row.details["rejected"] == 1


def test_upload_page_imports_and_offers_the_error_report(client, make, login_as, tmp_path):
    login_as(make.user(Role.DISPATCHER))
    path = write_xlsx(tmp_path / "up.xlsx", [row(1), row(2, area="火星镇")])
    response = _upload(client, path, "up.xlsx")
    assert response.status_code == 302
    page = client.get(response.headers["Location"])
    body = page.get_data(as_text=True)
    assert 'data-testid="import-report"' in body and "火星镇" in body
    assert firm_count() == 1
    links = flow.download_links(page)
    assert len(links) == 1 and links[0].endswith("/errors")
    report = client.get(links[0])
    assert report.status_code == 200
    assert "火星镇" in str([c.value for c in load_workbook(io.BytesIO(report.data)).active[2]])


def test_dry_run_upload_writes_nothing_and_reports_what_it_would_do(client, make, login_as,
                                                                     tmp_path):
    login_as(make.user(Role.DISPATCHER))
    path = write_xlsx(tmp_path / "up.xlsx", [row(1), row(2)])
    response = _upload(client, path, dry_run="y")
    body = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Dry run: nothing was written." in body and "2 rows: 2 new" in body
    assert firm_count() == 0


def test_template_has_the_import_headers_and_a_valid_example(client, make, login_as, tmp_path):
    login_as(make.user(Role.ADMIN))
    data = client.get("/firms/import/template.xlsx").data
    path = tmp_path / "template.xlsx"
    path.write_bytes(data)
    sheet = load_workbook(path).active
    assert [c.value for c in sheet[1]] == HEADER
    assert run(path, dry_run=True).created == 1


def test_reindex_recomputes_stale_search_keys(app, make):
    firm = make.firm(name="昆山鼎鑫电子有限公司")
    make.contact(firm, name="王伟")
    _db.session.execute(sa.update(Firm).values(search_key="stale"))
    result = app.test_cli_runner().invoke(args=["firms", "reindex"])
    assert result.exit_code == 0, result.output
    key = _db.session.scalar(sa.select(Firm.search_key).where(Firm.id == firm.id))
    assert " 鼎鑫 " in key and "王伟" in key and "stale" not in key
