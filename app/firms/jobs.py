"""Firm export and import as jobs: the page that asks returns at once, the work runs on a
consumer with a progress bar (:mod:`app.exports`)."""

from __future__ import annotations

import dataclasses

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from app.core import audit, storage
from app.core.clock import today_local
from app.core.permissions import Permission
from app.exports import files
from app.extensions import db
from app.firms import export, importer, queries
from app.jobs import job

#: Rejected rows shown on the result page (the error report lists all of them).
ERRORS_SHOWN = 50


@job("firms.export", label=_l("Firm export"), permission=Permission.FIRM_EXPORT,
     idempotent=True, sqlite_writer=False)
def export_firms(ctx, *, fmt: str, filters: dict) -> dict:
    """The filtered firm list as a file; the export and its row count are audited."""
    stmt = queries.firms_query(queries.FirmFilters(**filters), today_local())
    total = db.session.scalar(stmt.with_only_columns(sa.func.count()).order_by(None))
    entry = files.write_sheet(ctx, fmt, stem="firms", title=_("Firms"),
                              headers=export.headers(), rows=export.export_rows(stmt),
                              total=total, widths=export.WIDTHS)
    ctx.begin_write()
    audit.record("firm.export", actor=ctx.actor, object_type="firms",
                 details={"format": fmt, "rows": entry["rows"], "filters": filters})
    return {"files": [entry]}


def filters_param(filters: queries.FirmFilters) -> dict:
    """The list's filters as the job's parameters (plain strings)."""
    return dataclasses.asdict(filters)


@job("firms.import", label=_l("Firm import"), permission=Permission.FIRM_IMPORT,
     idempotent=True, retries=1)
def import_firms(ctx, *, upload: str, filename: str, dry_run: bool) -> dict:
    """Check every row of the uploaded file and (unless a dry run) import the valid ones, in
    the job's one transaction: a refused file (type, headers, no rows) writes nothing. Running
    it again is harmless (rows are matched by USCC)."""
    state = {"done": 0, "total": None}

    def on_total(total):
        state["total"] = total
        ctx.progress(0, total)

    def progress(rows):
        state["done"] += rows
        ctx.progress(state["done"], state["total"])

    report = importer.run_import(storage.path_of(upload), filename, ctx.actor, dry_run=dry_run,
                                 max_bytes=current_app.config["FIRM_IMPORT_MAX_BYTES"],
                                 progress=progress, on_total=on_total)
    ctx.progress(report.total, report.total)
    result = {"summary": _summary(report), "files": []}
    if report.rejected:
        with files.new_file("errors", "firms-import-errors.xlsx",
                            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
                            ) as (handle, entry):
            entry["rows"] = importer.error_report(report, handle)
        result["files"].append(entry)
    return result


def _summary(report: importer.ImportReport) -> dict:
    rejected = sorted(report.rejected, key=lambda e: e.row_number)
    return {"dry_run": report.dry_run, "total": report.total, "created": report.created,
            "updated": report.updated, "unchanged": report.unchanged,
            "rejected": len(rejected),
            "errors": [[e.row_number, e.reason] for e in rejected[:ERRORS_SHOWN]]}
