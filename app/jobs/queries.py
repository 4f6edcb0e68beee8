"""The job list of ``/admin/jobs``: newest first, filtered by state, kind and a search."""

from __future__ import annotations

import sqlalchemy as sa

from app.auth.models import User
from app.jobs.models import Job, JobState

#: Jobs that may need a person: still to run, running, waiting to retry, or failed.
ATTENTION_STATES = (JobState.QUEUED, JobState.RUNNING, JobState.RETRYING, JobState.FAILED)


def jobs_query(q: str = "", state: str = "", kind: str = "") -> sa.Select:
    """Jobs matching the filters. ``state`` is a state, ``attention`` or ``retried`` (run more
    than once); ``q`` is a job number, or part of the requester's name or of the error."""
    statement = sa.select(Job).order_by(Job.id.desc())
    if state == "attention":
        statement = statement.where(Job.state.in_(ATTENTION_STATES))
    elif state == "retried":
        statement = statement.where(Job.attempts > 1)
    elif state in {s.value for s in JobState}:
        statement = statement.where(Job.state == state)
    if kind:
        statement = statement.where(Job.kind == kind)
    q = q.strip()
    if q.isdigit():
        statement = statement.where(Job.id == int(q))
    elif q:
        pattern = f"%{q.lower()}%"
        requesters = sa.select(User.id).where(sa.or_(sa.func.lower(User.username).like(pattern),
                                                     sa.func.lower(User.display_name).like(pattern)))
        statement = statement.where(sa.or_(Job.actor_id.in_(requesters),
                                           sa.func.lower(Job.error).like(pattern),
                                           Job.kind.like(pattern)))
    return statement
