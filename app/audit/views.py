"""Audit log page and export (CSV, XLSX) for the auditor role."""

from __future__ import annotations

import sqlalchemy as sa
from flask import redirect, render_template, request, url_for
from flask_login import current_user

from app.audit import bp, chain
from app.audit import jobs as audit_jobs
from app.audit.forms import AuditFilterForm
from app.audit.queries import audit_query
from app.core import audit
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
    return render_template("audit/events.html", form=form, page=paginate(_filtered(form)),
                           verification=chain.last_verification())


@bp.route("/export.<any(csv, xlsx):fmt>", methods=["POST"])
@require_permission(Permission.AUDIT_EXPORT)
def export(fmt: str):
    """Start the export of the filtered log (a job); its page offers the file when done."""
    form = AuditFilterForm(request.args)
    form.validate()
    filters = {"actor": form.actor.data or "", "action": form.action.data or "",
               "object_type": form.object_type.data or "", "success": form.success.data or "",
               "date_from": form.date_from.data.isoformat() if form.date_from.data else "",
               "date_to": form.date_to.data.isoformat() if form.date_to.data else ""}
    last_id = db.session.scalar(sa.select(sa.func.max(audit.AuditEvent.id))) or 0
    record = commit_or_explain(lambda: audit_jobs.export_log.enqueue(
        actor=current_user, fmt=fmt, filters=filters, last_id=last_id))
    if not record:
        return redirect(url_for("audit.events", **request.args))
    return redirect(url_for("exports.show", job_id=record.id))
