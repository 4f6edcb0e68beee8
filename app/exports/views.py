"""My exports and imports: the list, one job's progress and result, its progress for the
poll, and the download (the requester and administrators only; others get 404)."""

from __future__ import annotations

from flask import jsonify, render_template, request, send_file
from flask_login import current_user

from app.core import audit, storage
from app.core.pagination import paginate
from app.core.permissions import Permission, require, require_permission
from app.core.rendering import translated
from app.core.transactions import commit_or_explain
from app.exports import bp, files, queries
from app.exports.forms import MyJobFilterForm
from app.extensions import db
from app.jobs import progress_of, progress_of_many
from app.jobs.definitions import all_definitions
from app.jobs.models import JOB_STATE_LABELS, Job


def _job(job_id: int) -> Job:
    """The job if the current user may see it (theirs, or an administrator); else 404."""
    job = db.session.get(Job, job_id)
    require(job is not None and job.kind in files.FILE_KINDS and job.can_view(current_user))
    return job


def _kinds() -> dict[str, str]:
    return {d.kind: str(d.label) for d in all_definitions()}


@bp.route("/")
@require_permission(Permission.JOB_OWN)
def index():
    """The user's exports and imports, newest first, with their state and progress."""
    form = MyJobFilterForm(request.args)
    page = paginate(queries.my_jobs(current_user, form.kind.data or "", form.state.data or ""))
    return render_template("exports/index.html", form=form, page=page, kinds=_kinds(),
                           progress=progress_of_many(page.items),
                           states=translated(JOB_STATE_LABELS), files_of=files.files_of)


@bp.route("/<int:job_id>")
@require_permission(Permission.JOB_OWN)
def show(job_id: int):
    """One job: a progress bar while it waits or runs, then its result and files."""
    job = _job(job_id)
    done, total = progress_of(job)
    return render_template("exports/show.html", job=job, done=done, total=total,
                           kinds=_kinds(), states=translated(JOB_STATE_LABELS),
                           files=files.files_of(job), expires_at=files.expires_at(job))


@bp.route("/<int:job_id>/progress")
@require_permission(Permission.JOB_OWN)
def progress(job_id: int):
    """The job's state and ``done of total`` for the page's poll (a few bytes, no query of
    the rows)."""
    job = _job(job_id)
    done, total = progress_of(job)
    return jsonify(state=str(job.state), finished=job.is_finished, done=done, total=total)


@bp.route("/<int:job_id>/<any(export, errors):key>")
@require_permission(Permission.JOB_OWN)
def download(job_id: int, key: str):
    """One of the job's files; each download is audited."""
    job = _job(job_id)
    entry = files.file_of(job, key)
    require(entry is not None)
    path = storage.path_of(entry["stored"])
    handle = _open(path)
    commit_or_explain(lambda: audit.record(
        "export.download", actor=current_user, obj=job,
        details={"kind": job.kind, "file": entry["name"], "requester_id": job.actor_id}))
    return send_file(handle, mimetype=entry["mimetype"], as_attachment=True,
                     download_name=entry["name"])


def _open(path: str):
    try:
        return open(path, "rb")
    except FileNotFoundError:
        require(False)
