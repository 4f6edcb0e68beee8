"""The audit log's jobs: the export (a long log would outlast a request: the file is offered on
the job's page, :mod:`app.exports`, and the export itself is audited with its row count); the
chain's sealing every few minutes and its verification every hour (:mod:`app.audit.chain`)."""

from __future__ import annotations

import logging
from datetime import date

import sqlalchemy as sa
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from app.audit import chain
from app.audit import export as audit_export
from app.audit.queries import audit_query
from app.core import audit
from app.core.permissions import Permission
from app.core.transactions import begin_write
from app.exports import files
from app.extensions import db
from app.jobs import job, schedule

logger = logging.getLogger("ruyi.audit")


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


@job("audit.seal", label=_l("Audit log: seal new rows"), idempotent=True, retries=1)
def seal(ctx) -> dict:
    """Append the seals of the rows committed since the last run (a rerun seals nothing twice:
    a sealed row is no longer unsealed)."""
    return {"sealed": chain.seal_all()}


@job("audit.verify", label=_l("Audit log: verify the chain"), idempotent=True, retries=1,
     sqlite_writer=False)
def verify(ctx) -> dict:
    """Check the whole chain and keep the verdict for the auditor's page."""
    return verify_and_record("job")


def verify_and_record(via: str) -> dict:
    """Seal what is waiting (committed batch by batch), verify, keep the verdict and an audit
    row (flushed: the job's runner, or the command's ``commit_or_stop``, commits them)."""
    chain.seal_all()
    verdict = chain.verify()
    begin_write()  # it only read so far
    chain.record(verdict, via)
    audit.record("audit.verify", object_type="audit_seals", success=verdict.ok,
                 details={"checked": verdict.checked, "broken": verdict.broken,
                          "first_broken_event": verdict.first_broken_event_id,
                          "reason": verdict.reason})
    if not verdict.ok:
        logger.error("audit chain broken: %s rows, first audit event #%s (%s)", verdict.broken,
                     verdict.first_broken_event_id, verdict.reason)
    return {"ok": verdict.ok, "checked": verdict.checked, "broken": verdict.broken,
            "first_broken_event": verdict.first_broken_event_id, "reason": verdict.reason,
            "seconds": verdict.seconds}


schedule("audit.seal", "*/5 * * * *")
schedule("audit.verify", "20 * * * *")
