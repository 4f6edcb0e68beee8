"""Report tables to CSV and XLSX, streamed through a temporary file in bounded memory.

Rows are written one at a time (openpyxl's write-only mode for XLSX), so a 100,000-row export
needs no more memory than a 100-row one. The file is complete before the response starts: the
row count is then known exactly, audited (DOMAIN §7: an export is an audited event) and
committed, and only then is the file sent.
"""

from __future__ import annotations

import csv
import io
import os
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from flask import Response, send_file
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from app.core import audit
from app.core.clock import now_utc, to_local
from app.core.transactions import commit_or_explain

FORMATS = ("csv", "xlsx")
_MIMETYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


@dataclass
class Table:
    """A report table: translated headers, column widths (characters) and rows."""

    name: str
    title: str
    headers: Sequence[str]
    widths: Sequence[int]
    rows: Iterable[Sequence]


def cell_value(value):
    """Values as a spreadsheet should hold them: local times, plain numbers and text."""
    if isinstance(value, datetime):
        return to_local(value).replace(tzinfo=None, microsecond=0)
    if value is None or isinstance(value, int | float | date):
        return value
    return str(value)


def _csv_text(value) -> str:
    value = cell_value(value)
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.1f}"
    return str(value)


def write_csv(table: Table, handle) -> int:
    """UTF-8 with a byte-order mark, so spreadsheet programs read the Chinese text right."""
    text = io.TextIOWrapper(handle, encoding="utf-8-sig", newline="")
    writer = csv.writer(text)
    writer.writerow([str(h) for h in table.headers])
    written = 0
    for row in table.rows:
        writer.writerow([_csv_text(v) for v in row])
        written += 1
    text.flush()
    text.detach()
    return written


def write_xlsx(table: Table, handle) -> int:
    """A write-only workbook: bold frozen header row, column widths set before the rows."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=table.title[:31] or "report")
    for index, width in enumerate(table.widths, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    sheet.freeze_panes = "A2"
    bold = Font(bold=True)
    header = []
    for text in table.headers:
        cell = WriteOnlyCell(sheet, value=str(text))
        cell.font = bold
        header.append(cell)
    sheet.append(header)
    written = 0
    for row in table.rows:
        sheet.append([cell_value(v) for v in row])
        written += 1
    workbook.save(handle)
    return written


def export_response(table: Table, fmt: str, actor, details: dict) -> Response:
    """Write the table, audit the export with its row count, commit, and send the file."""
    handle = tempfile.TemporaryFile()  # noqa: SIM115 - closed by the response
    try:
        rows = (write_xlsx if fmt == "xlsx" else write_csv)(table, handle)
    except Exception:
        handle.close()
        raise
    commit_or_explain(lambda: audit.record("report.export", actor=actor, object_type="report",
                                           object_id=table.name,
                                           details={**details, "format": fmt, "rows": rows}))
    handle.seek(0, os.SEEK_SET)
    stamp = to_local(now_utc()).strftime("%Y%m%d")
    response = send_file(handle, mimetype=_MIMETYPES[fmt], as_attachment=True,
                         download_name=f"{table.name}-{stamp}.{fmt}")
    response.headers["X-Row-Count"] = str(rows)
    return response

