"""The job record: what people see of a background job (the queue itself is Huey's).

One row per job, written in the transaction that asks for the job, so a job exists exactly
when its cause committed. The consumer moves it through its states; admins read it on
``/admin/jobs``. Progress of a running job lives in the job store (see
:func:`app.jobs.services.progress_of`); the row gets the final figures when the job ends.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.clock import now_utc
from app.db import UTCDateTime, enum_type
from app.extensions import db


class JobState(StrEnum):
    """Where a job is: waiting, running, done (succeeded, failed, cancelled) or waiting to retry."""

    QUEUED = "queued"
    RUNNING = "running"
    RETRYING = "retrying"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"


JOB_STATE_LABELS = {
    JobState.QUEUED: _l("Queued"),
    JobState.RUNNING: _l("Running"),
    JobState.RETRYING: _l("Waiting to retry"),
    JobState.SUCCEEDED: _l("Succeeded"),
    JobState.FAILED: _l("Failed"),
    JobState.CANCELLED: _l("Cancelled"),
}

#: States a consumer may still pick the job up from.
WAITING_STATES = frozenset({JobState.QUEUED, JobState.RETRYING})
#: States in which nothing will happen to the job any more (unless an admin retries it).
FINISHED_STATES = frozenset({JobState.SUCCEEDED, JobState.FAILED, JobState.CANCELLED})


class Job(db.Model):
    """One background job: its kind and parameters, who asked, its state and outcome."""

    __tablename__ = "jobs"
    __table_args__ = (
        sa.Index("ix_jobs_state_id", "state", "id"),
        sa.Index("ix_jobs_actor_id_id", "actor_id", "id"),
        sa.Index("ix_jobs_kind_id", "kind", "id"),
        sa.CheckConstraint("attempts >= 0", name="attempts_not_negative"),
        sa.CheckConstraint(
            "(state IN ('succeeded', 'failed', 'cancelled')) = (finished_at IS NOT NULL)",
            name="finished_iff_finished_at"),
        sa.CheckConstraint("state <> 'running' OR started_at IS NOT NULL",
                           name="running_has_started_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The registered kind, e.g. ``sla.scan`` (:func:`app.jobs.job`); kinds are code, so no CHECK.
    kind: Mapped[str] = mapped_column(sa.String(64), nullable=False)
    state: Mapped[JobState] = mapped_column(enum_type(JobState, "state"), nullable=False,
                                            default=JobState.QUEUED)
    #: The user who asked; ``None`` for the system (schedules, the command line).
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    #: The job's keyword arguments (JSON: plain values only; the message carries only the id).
    params: Mapped[dict[str, Any]] = mapped_column(sa.JSON, nullable=False, default=dict)
    #: The requester's language and address, so texts and audit rows are theirs.
    locale: Mapped[str | None] = mapped_column(sa.String(16))
    ip: Mapped[str | None] = mapped_column(sa.String(45))
    #: A scheduled job's period (``sla.scan@2026-03-02T02:05Z``): unique, so a period runs once
    #: however many schedulers are alive.
    period_key: Mapped[str | None] = mapped_column(sa.String(96), unique=True)
    attempts: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=0)
    #: The last failure, for people (the traceback goes to the log).
    error: Mapped[str | None] = mapped_column(sa.Text)
    progress_done: Mapped[int | None] = mapped_column(sa.Integer)
    progress_total: Mapped[int | None] = mapped_column(sa.Integer)
    #: What the job returned (JSON), e.g. ``{"file_id": 12}``: a reference to its result.
    result: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON)
    queued_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=now_utc)
    #: When the message was last handed to the job store (the sweep sends lost ones again).
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    actor = relationship("User", lazy="joined")

    def can_view(self, user) -> bool:
        """Its requester and the administrators of jobs see a job (and its result)."""
        from app.core.permissions import Permission

        return bool(getattr(user, "is_authenticated", False)) and (
            user.id == self.actor_id or user.can(Permission.JOB_MANAGE))

    @property
    def is_finished(self) -> bool:
        """Nothing more will happen to it unless someone retries it."""
        return self.state in FINISHED_STATES

    @property
    def can_retry(self) -> bool:
        """An admin may run a failed or cancelled job again."""
        return self.state in (JobState.FAILED, JobState.CANCELLED)

    @property
    def can_cancel(self) -> bool:
        """Waiting jobs are cancelled at once; a running one is asked to stop."""
        return self.state in (JobState.QUEUED, JobState.RETRYING, JobState.RUNNING)

    def __repr__(self) -> str:
        return f"<Job {self.id} {self.kind} {self.state}>"
