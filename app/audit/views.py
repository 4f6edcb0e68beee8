"""Audit log page and export (CSV, XLSX) for the auditor role."""

from __future__ import annotations

import tempfile

import sqlalchemy as sa
from flask import render_template, request, send_file
from flask_babel import format_datetime
from flask_login import current_user

from app.audit import bp
from app.audit import export as audit_export
from app.audit.forms import AuditFilterForm
from app.audit.queries import audit_query
from app.core import audit, sheets
from app.core.clock import now_utc
from app.core.pagination import paginate
from app.core.permissions import Permission, require_permission
from app.core.transactions import commit_or_explain
from app.extensions import db


def _filtered(form: AuditFilterForm) -> sa.Select:
    form.validate()
    return audit_query(form.actor.data or "", form.action.data or "",
                       form.object_type.data or "", form.success.data or "",
                       form.date_from.data, form.date_to.data)


@bp.route("/")
@require_permission(Permission.AUDIT_VIEW)
def events():
    """Filterable audit log."""
    form = AuditFilterForm(request.args)
    return render_template("audit/events.html", form=form, page=paginate(_filtered(form)))


@bp.route("/export.<any(csv, xlsx):fmt>")
@require_permission(Permission.AUDIT_EXPORT)
def export(fmt: str):
    """The filtered log as a file; the export itself is audited with its row count."""
    form = AuditFilterForm(request.args)
    last_id = db.session.scalar(sa.select(sa.func.max(audit.AuditEvent.id))) or 0
    stmt = _filtered(form).where(audit.AuditEvent.id <= last_id)  # not the export's own row
    handle = tempfile.TemporaryFile()  # noqa: SIM115 - closed by the response
    count = audit_export.write(stmt, fmt, handle)
    details = {"rows": count, "format": fmt, "filters": request.args.to_dict()}
    commit_or_explain(lambda: audit.record("audit.export", actor=current_user,
                                           object_type="audit_events", details=details))
    handle.seek(0)
    stamp = format_datetime(now_utc(), "yyyyMMdd-HHmm")
    return send_file(handle, mimetype=sheets.MIMETYPES[fmt], as_attachment=True,
                     download_name=f"audit-{stamp}.{fmt}")
