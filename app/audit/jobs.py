"""The audit log export as a job (a long log would outlast a request): the file is offered on
the job's page (:mod:`app.exports`), and the export itself is audited with its row count."""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from app.audit import export as audit_export
from app.audit.queries import audit_query
from app.core import audit
from app.core.permissions import Permission
from app.exports import files
from app.extensions import db
from app.jobs import job


@job("audit.export", label=_l("Audit log export"), permission=Permission.AUDIT_EXPORT,
     idempotent=True, sqlite_writer=False)
def export_log(ctx, *, fmt: str, filters: dict, last_id: int) -> dict:
    """The filtered log up to ``last_id`` (the newest row when it was asked for: not the
    export's own row, nor what happened while it waited) as a file."""
    stmt = audit_query(**_query_args(filters)).where(audit.AuditEvent.id <= last_id)
    total = db.session.scalar(stmt.with_only_columns(sa.func.count()).order_by(None))
    entry = files.write_sheet(ctx, fmt, stem="audit", title=_("Audit log"),
                              headers=audit_export.headers(),
                              rows=audit_export.export_rows(stmt), total=total,
                              widths=audit_export.WIDTHS)
    ctx.begin_write()
    audit.record("audit.export", actor=ctx.actor, object_type="audit_events",
                 details={"rows": entry["rows"], "format": fmt, "filters": filters})
    return {"files": [entry]}


def _query_args(filters: dict) -> dict:
    args = {key: filters.get(key) or "" for key in ("actor", "action", "object_type",
                                                   "success")}
    for key in ("date_from", "date_to"):
        args[key] = date.fromisoformat(filters[key]) if filters.get(key) else None
    return args
