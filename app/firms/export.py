"""Export of the filtered firm list to CSV or XLSX, with headers in the reader's language."""

from __future__ import annotations

import sqlalchemy as sa
from flask_babel import gettext as _

from app.auth.models import User
from app.core import sheets
from app.extensions import db
from app.firms.models import CAPITAL_ORIGIN_LABELS, LEGAL_FORM_LABELS, Area, Firm

WIDTHS = (22, 36, 30, 14, 12, 16, 12, 10, 36, 10, 10, 14, 10)


def headers() -> list[str]:
    return [_("Unified social credit code"), _("Legal name"), _("English name"), _("Area"),
            _("Industry (GB/T 4754)"), _("Legal form"), _("Capital origin"),
            _("Taiwan-invested"), _("Address"), _("Employees"), _("Key firm"),
            _("Service commissioner"), _("Archived")]


def export_rows(stmt: sa.Select):
    """The rows of the filtered list, read in batches (no ORM objects, no tags)."""
    columns = stmt.with_only_columns(
        Firm.uscc, Firm.name, Firm.english_name, Area.name.label("area"), Firm.industry_code,
        Firm.legal_form, Firm.capital_origin, Firm.address, Firm.employees, Firm.is_key_firm,
        User.display_name.label("commissioner"), Firm.archived_at,
    ).join(Area, Firm.area_id == Area.id).outerjoin(User, Firm.commissioner_id == User.id)
    yes, no = _("Yes"), _("No")
    for row in db.session.execute(columns.execution_options(yield_per=2000)):
        yield [row.uscc, row.name, row.english_name or "", row.area, row.industry_code,
               str(LEGAL_FORM_LABELS[row.legal_form]),
               str(CAPITAL_ORIGIN_LABELS[row.capital_origin]),
               yes if row.capital_origin == "taiwan" else no, row.address or "",
               row.employees,
               yes if row.is_key_firm else no, row.commissioner or "",
               yes if row.archived_at else no]


def write(stmt: sa.Select, fmt: str, handle) -> int:
    """The filtered list as CSV (UTF-8 with a byte-order mark, so Excel shows Chinese
    correctly) or XLSX, written row by row to ``handle``; returns the row count."""
    return sheets.write_table(handle, fmt, title=_("Firms"), headers=headers(),
                              rows=export_rows(stmt), widths=WIDTHS)
