"""Background jobs on one engine (Huey): long work out of the request, and the schedules.

The API other packages use (details in the README, "Background jobs")::

    # app/<package>/jobs.py — listed in JOB_MODULES in app/__init__.py
    from flask_babel import lazy_gettext as _l
    from app.core.permissions import Permission
    from app.jobs import job, schedule, cleanup

    @job("firms.export", label=_l("Firm export"), permission=Permission.FIRM_EXPORT,
         idempotent=True)
    def export_firms(ctx, *, filters: dict) -> dict:
        rows = ...
        for n, row in enumerate(rows, 1):
            ...
            ctx.progress(n, total)          # throttled; raises JobCancelled if cancelled
        audit.record("firm.export", actor=ctx.actor, ...)
        return {"file_id": stored.id}       # kept as the job's result

    # a view: the job is sent only after this transaction commits
    record = commit_or_explain(lambda: export_firms.enqueue(actor=current_user,
                                                            filters=form.filters()))
    ... redirect to a page that polls jobs.progress_of(record)

    schedule("sla.scan", "*/5 * * * *")    # periodic, once per period on any number of machines

    @cleanup("exports.files")              # called by the daily clean-up job
    def remove_expired(now) -> int: ...
"""

from flask import Blueprint
from flask_babel import lazy_gettext as _l

from app.core.navigation import register_nav
from app.core.permissions import Permission

bp = Blueprint("jobs", __name__, url_prefix="/admin/jobs")

register_nav("jobs.index", _l("Jobs"), Permission.JOB_MANAGE, order=85, group="admin")

from app.jobs import views  # noqa: E402, F401
from app.jobs.definitions import JobDefinition, UnknownJobKind, job  # noqa: E402
from app.jobs.housekeeping import cleanup  # noqa: E402
from app.jobs.models import Job, JobState  # noqa: E402
from app.jobs.runner import JobCancelled, JobContext, JobRefused  # noqa: E402
from app.jobs.schedules import schedule  # noqa: E402
from app.jobs.services import (  # noqa: E402
    cancel,
    enqueue,
    progress_of,
    progress_of_many,
    retry,
)

__all__ = ["Job", "JobCancelled", "JobContext", "JobDefinition", "JobRefused", "JobState",
           "UnknownJobKind", "bp", "cancel", "cleanup", "enqueue", "job", "progress_of",
           "progress_of_many", "retry", "schedule"]
