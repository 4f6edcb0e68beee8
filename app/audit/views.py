"""Audit log page and CSV export for the auditor role."""

from __future__ import annotations

import csv
import io
import json

import sqlalchemy as sa
from flask import Response, render_template, request, stream_with_context
from flask_babel import format_datetime
from flask_babel import gettext as _
from flask_login import current_user

from app.audit import bp
from app.audit.forms import AuditFilterForm
from app.audit.queries import audit_query
from app.core import audit
from app.core.clock import now_utc, to_local
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


def _csv_rows(stmt: sa.Select):
    headers = [_("Time"), _("User"), _("Role"), _("Action"), _("Object type"), _("Object"),
               _("IP address"), _("User agent"), _("Outcome"), _("Details")]
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    buffer.write("\ufeff")  # so spreadsheet programs read the Chinese text as UTF-8
    writer.writerow(headers)
    for row in db.session.scalars(stmt.execution_options(yield_per=1000)):
        writer.writerow([to_local(row.at).isoformat(timespec="seconds"), row.actor_name,
                         row.actor_role, row.action, row.object_type, row.object_id, row.ip,
                         row.user_agent, "ok" if row.success else "failed",
                         json.dumps(row.details, ensure_ascii=False)])
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
    yield buffer.getvalue()


@bp.route("/export.csv")
@require_permission(Permission.AUDIT_EXPORT)
def export_csv():
    """Stream the filtered log as CSV; the export itself is audited with its row count."""
    form = AuditFilterForm(request.args)
    last_id = db.session.scalar(sa.select(sa.func.max(audit.AuditEvent.id))) or 0
    stmt = _filtered(form).where(audit.AuditEvent.id <= last_id)  # not the export's own row
    counted = sa.select(sa.func.count()).select_from(stmt.order_by(None).subquery())
    count = db.session.scalar(counted)
    details = {"rows": count, "filters": request.args.to_dict()}
    commit_or_explain(lambda: audit.record("audit.export", actor=current_user,
                                           object_type="audit_events", details=details))
    stamp = format_datetime(now_utc(), "yyyyMMdd-HHmm")
    return Response(
        stream_with_context(_csv_rows(stmt)),
        mimetype="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="audit-{stamp}.csv"'},
    )
