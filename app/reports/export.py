"""Report tables to CSV and XLSX, through the one spreadsheet writer (:mod:`app.core.sheets`).

Rows are written one at a time, so a 100,000-row export needs no more memory than a 100-row
one. Exports run as jobs (:mod:`app.reports.jobs`): the file is written, the export audited
with its exact row count (DOMAIN §7), and the file offered on the job's page.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from app.core import sheets

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
