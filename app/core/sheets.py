"""The one writer of spreadsheet files (CSV and XLSX) every export uses, cell by cell.

**Formulas are neutralised** (OWASP, "CSV injection"; DOMAIN §8): a text cell that starts with
``=``, ``+``, ``-``, ``@``, a tab or a carriage return — or their full-width forms ``＝ ＋ －
＠``, which Chinese spreadsheet programs also read as the start of a formula — would be run
as a formula by Excel or LibreOffice when the file is opened (``=HYPERLINK(…)`` sends the
row to another site). In CSV such a cell gets a leading apostrophe, the character
spreadsheets take as "this is text"; in XLSX it is written as a text cell marked "quote
prefix", so it shows exactly as typed, is never evaluated and stays text when edited.

**Numbers that are numbers stay numbers**: ``int``, ``float`` and ``Decimal`` values are
written as numbers (a negative number is a number, not a formula). **Codes stay text**: a text
made only of digits (a USCC such as ``913205834308879414``, a mobile number, a code with a
leading zero) would be turned into a number by Excel — rounded to 15 digits, shown as
``9.13206E+17``, leading zeros dropped; XLSX writes it as a text cell, CSV with a leading tab
(the usual way to keep spreadsheet programs from reading it as a number; the firm import
strips it again).

Rows are written one at a time (openpyxl's write-only mode; the csv module), so a 100,000-row
file needs no more memory than a 100-row one.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from decimal import Decimal

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from app.core.clock import to_local

FORMATS = ("csv", "xlsx")
MIMETYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
#: First characters that make a spreadsheet read a cell as a formula.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\uff1d", "\uff0b", "\uff0d", "\uff20")


def is_formula_like(text: str) -> bool:
    """Whether a spreadsheet would take this text as a formula (OWASP's rule)."""
    return text.startswith(FORMULA_STARTS)


def is_digit_code(text: str) -> bool:
    """A text made only of ASCII digits: a code a spreadsheet would turn into a number."""
    return text.isascii() and text.isdigit()


def csv_cell(value, float_format: str | None = None) -> str | int | float:
    """One value as a CSV cell: numbers as numbers, times in Beijing time, text neutralised."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int | Decimal):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            return str(value)
        return format(value, float_format) if float_format else value
    if isinstance(value, datetime):
        return _local(value).isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    text = str(value)
    if is_formula_like(text):
        return "'" + text
    if is_digit_code(text):
        return "\t" + text
    return text


def _local(value: datetime) -> datetime:
    """Beijing time without a zone (spreadsheets know no zones), to the second."""
    if value.tzinfo is not None:
        value = to_local(value).replace(tzinfo=None)
    return value.replace(microsecond=0)


class SheetWriter:
    """One table written row by row to a binary file ``handle`` as CSV or XLSX.

    ``append(row)`` for each row, then ``close()`` (which returns the number of rows written
    and, for XLSX, writes the workbook: the handle must stay open until then).
    """

    def __init__(self, handle, fmt: str, *, title: str, headers: Sequence,
                 widths: Sequence[int] | None = None, float_format: str | None = None):
        if fmt not in FORMATS:
            raise ValueError(f"unknown export format {fmt!r}")
        self.fmt, self.rows = fmt, 0
        self._handle, self._float_format = handle, float_format
        if fmt == "csv":
            self._text = io.TextIOWrapper(handle, encoding="utf-8-sig", newline="")
            self._csv = csv.writer(self._text)
            self._csv.writerow([csv_cell(str(h)) for h in headers])
        else:
            self._workbook = Workbook(write_only=True)
            self._sheet = self._workbook.create_sheet(title=_sheet_title(title))
            for index, width in enumerate(widths or (), start=1):
                self._sheet.column_dimensions[get_column_letter(index)].width = width
            self._sheet.freeze_panes = "A2"
            bold = Font(bold=True)
            header = []
            for text in headers:
                cell = self._text_cell(str(text))
                cell.font = bold
                header.append(cell)
            self._sheet.append(header)

    def append(self, row: Iterable) -> None:
        """Write one row."""
        if self.fmt == "csv":
            float_format = self._float_format
            self._csv.writerow([csv_cell(v, float_format) for v in row])
        else:
            self._sheet.append([self._xlsx_cell(v) for v in row])
        self.rows += 1

    def extend(self, rows: Iterable[Iterable]) -> int:
        """Write every row; returns how many."""
        for row in rows:
            self.append(row)
        return self.rows

    def close(self) -> int:
        """Finish the file (the handle stays open); returns the number of rows written."""
        if self.fmt == "csv":
            self._text.flush()
            self._text.detach()
        else:
            self._workbook.save(self._handle)
        return self.rows

    def _xlsx_cell(self, value):
        if value is None or isinstance(value, bool | int | Decimal):
            return value
        if isinstance(value, float):
            return value if math.isfinite(value) else str(value)
        if isinstance(value, datetime):
            return _local(value)
        if isinstance(value, date):
            return value
        text = str(value)
        if is_formula_like(text):
            return self._text_cell(text)
        return text  # a plain str is a text cell (digit codes included): never guessed

    def _text_cell(self, text: str) -> WriteOnlyCell:
        """A text cell that is never a formula, whatever it starts with."""
        cell = WriteOnlyCell(self._sheet)
        cell.value = text
        if cell.data_type != "s":  # openpyxl takes a leading "=" as a formula
            cell.data_type = "s"
        if is_formula_like(text):
            cell.quotePrefix = True
        return cell


def _sheet_title(title: str) -> str:
    """A worksheet name Excel accepts: at most 31 characters, none of ``[]:*?/\\``."""
    cleaned = "".join(" " if c in "[]:*?/\\" else c for c in str(title)).strip("' ")
    return cleaned[:31] or "Sheet"


def write_table(handle, fmt: str, *, title: str, headers: Sequence, rows: Iterable[Iterable],
                widths: Sequence[int] | None = None, float_format: str | None = None) -> int:
    """Write a whole table to ``handle``; returns the number of data rows."""
    writer = SheetWriter(handle, fmt, title=title, headers=headers, widths=widths,
                         float_format=float_format)
    writer.extend(rows)
    return writer.close()
