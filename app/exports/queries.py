"""The jobs of one user, newest first: what "My exports and imports" lists."""

from __future__ import annotations

import sqlalchemy as sa

from app.exports.files import FILE_KINDS
from app.jobs.models import Job, JobState


def my_jobs(user, kind: str = "", state: str = "") -> sa.Select:
    """The user's export and import jobs; unknown filter values are ignored."""
    statement = (sa.select(Job).where(Job.actor_id == user.id, Job.kind.in_(FILE_KINDS))
                 .order_by(Job.id.desc()))
    if kind in FILE_KINDS:
        statement = statement.where(Job.kind == kind)
    if state in {s.value for s in JobState}:
        statement = statement.where(Job.state == state)
    return statement
