"""The audit log as CSV or XLSX, through the one spreadsheet writer (formulas neutralised:
a failed sign-in can put any text an attacker likes into the user column)."""

from __future__ import annotations

import json

import sqlalchemy as sa
from flask_babel import gettext as _

from app.core import sheets
from app.core.audit import AuditEvent
from app.extensions import db

WIDTHS = (20, 16, 12, 24, 16, 12, 16, 30, 8, 60)


def headers() -> list[str]:
    return [_("Time"), _("User"), _("Role"), _("Action"), _("Object type"), _("Object"),
            _("IP address"), _("User agent"), _("Outcome"), _("Details")]


def export_rows(stmt: sa.Select):
    """The filtered log as plain columns, read in batches (no ORM objects)."""
    columns = stmt.with_only_columns(
        AuditEvent.at, AuditEvent.actor_name, AuditEvent.actor_role, AuditEvent.action,
        AuditEvent.object_type, AuditEvent.object_id, AuditEvent.ip, AuditEvent.user_agent,
        AuditEvent.success, AuditEvent.details)
    for row in db.session.execute(columns.execution_options(yield_per=2000)):
        yield [row.at, row.actor_name, row.actor_role, row.action, row.object_type,
               row.object_id, row.ip, row.user_agent, "ok" if row.success else "failed",
               json.dumps(row.details, ensure_ascii=False)]


def write(stmt: sa.Select, fmt: str, handle) -> int:
    """Write the rows of ``stmt`` to ``handle``; returns the row count."""
    return sheets.write_table(handle, fmt, title=_("Audit log"), headers=headers(),
                              rows=export_rows(stmt), widths=WIDTHS)
