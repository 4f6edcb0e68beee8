"""Report tables to CSV and XLSX, through the one spreadsheet writer (:mod:`app.core.sheets`).

Rows are written one at a time, so a 100,000-row export needs no more memory than a 100-row
one. The file is complete before the response starts: the row count is then known exactly,
audited (DOMAIN §7: an export is an audited event) and committed, and only then is the file
sent.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from flask import Response, send_file

from app.core import audit, sheets
from app.core.clock import now_utc, to_local
from app.core.transactions import commit_or_explain

FORMATS = sheets.FORMATS


@dataclass
class Table:
    """A report table: translated headers, column widths (characters) and rows."""

    name: str
    title: str
    headers: Sequence[str]
    widths: Sequence[int]
    rows: Iterable[Sequence]


def write(table: Table, fmt: str, handle) -> int:
    """Write the table as CSV (UTF-8 with a byte-order mark; decimals as shown, one place) or
    XLSX (bold frozen header row, column widths); returns the number of rows."""
    return sheets.write_table(handle, fmt, title=table.title or "report",
                              headers=table.headers, rows=table.rows, widths=table.widths,
                              float_format=".1f")


def export_response(table: Table, fmt: str, actor, details: dict) -> Response:
    """Write the table, audit the export with its row count, commit, and send the file."""
    handle = tempfile.TemporaryFile()  # noqa: SIM115 - closed by the response
    try:
        rows = write(table, fmt, handle)
    except Exception:
        handle.close()
        raise
    commit_or_explain(lambda: audit.record("report.export", actor=actor, object_type="report",
                                           object_id=table.name,
                                           details={**details, "format": fmt, "rows": rows}))
    handle.seek(0, os.SEEK_SET)
    stamp = to_local(now_utc()).strftime("%Y%m%d")
    response = send_file(handle, mimetype=sheets.MIMETYPES[fmt], as_attachment=True,
                         download_name=f"{table.name}-{stamp}.{fmt}")
    response.headers["X-Row-Count"] = str(rows)
    return response
