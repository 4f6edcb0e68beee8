"""``/admin/jobs``: what the job engine is doing, what failed and why; retry and cancel."""

from __future__ import annotations

from flask import redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.core.forms import ConfirmForm
from app.core.pagination import paginate
from app.core.permissions import Permission, require_permission
from app.core.rendering import translated
from app.core.transactions import commit_or_explain
from app.extensions import db
from app.jobs import bp, queries, services
from app.jobs.definitions import all_definitions
from app.jobs.forms import JobFilterForm
from app.jobs.models import JOB_STATE_LABELS, Job


def _kind_labels() -> dict[str, str]:
    return {d.kind: str(d.label) for d in all_definitions()}


@bp.route("/")
@require_permission(Permission.JOB_MANAGE)
def index():
    """Jobs newest first; by default those that may need a person."""
    form = JobFilterForm(request.args)
    page = paginate(queries.jobs_query(form.q.data or "", form.state_filter(),
                                       form.kind.data or ""))
    return render_template(
        "jobs/index.html", form=form, page=page, confirm=ConfirmForm(),
        progress=services.progress_of_many(page.items), kinds=_kind_labels(),
        states=translated(JOB_STATE_LABELS),
        cancel_requested={j.id for j in page.items if services.cancel_requested(j.id)}
        if any(j.state == "running" for j in page.items) else set())


@bp.route("/<int:job_id>")
@require_permission(Permission.JOB_MANAGE)
def detail(job_id: int):
    """One job: parameters, attempts, the error in full, the result."""
    job = db.get_or_404(Job, job_id)
    return render_template("jobs/detail.html", job=job, confirm=ConfirmForm(),
                           progress=services.progress_of(job), kinds=_kind_labels(),
                           states=translated(JOB_STATE_LABELS),
                           cancel_requested=services.cancel_requested(job.id))


@bp.route("/<int:job_id>/<any(retry, cancel):action>", methods=["POST"])
@require_permission(Permission.JOB_MANAGE)
def act(job_id: int, action: str):
    """Retry a failed or cancelled job, or cancel a waiting or running one (audited)."""
    job = db.get_or_404(Job, job_id)
    if action == "retry":
        commit_or_explain(lambda: services.retry(job, current_user),
                          _("Job %(id)s is queued again.", id=job_id))
    else:
        running = job.state == "running"
        commit_or_explain(lambda: services.cancel(job, current_user),
                          _("Job %(id)s will stop at its next progress report.", id=job_id)
                          if running else _("Job %(id)s cancelled.", id=job_id))
    return redirect(url_for("jobs.detail", job_id=job_id))
