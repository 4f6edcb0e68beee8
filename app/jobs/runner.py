"""Running one job: claim it, check its requester, do the work in one transaction, record it.

1. **Claim** (a short transaction of its own): the record goes from queued/retrying to
   running only if it is still waiting, so a message delivered twice, or one for a cancelled
   job, does nothing.
2. **Check** the requester as the web would: still active, still holding the kind's
   permission. A job asked by the system has no requester.
3. **Work**: the kind's function in the application context, in the requester's language,
   audit rows naming the requester and their address; then the record is marked succeeded
   *in the same transaction*, which commits once.
4. **Failure**: everything the job did is rolled back; the record says why in a transaction of
   its own. A refusal (a domain rule, a lost permission, a cancel) is final; anything else is
   retried with backoff when the kind is idempotent and tries remain, else final.
"""

from __future__ import annotations

import logging
import threading
import time
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from flask import current_app, has_app_context
from flask_babel import force_locale
from flask_babel import gettext as _

from app.core import audit
from app.core.clock import now_utc
from app.core.errors import DomainError
from app.core.transactions import begin_write
from app.extensions import db
from app.jobs import services
from app.jobs.definitions import JobDefinition, UnknownJobKind, definition_of
from app.jobs.engine import application, huey
from app.jobs.models import WAITING_STATES, Job, JobState

logger = logging.getLogger("ruyi.jobs")

ERROR_LIMIT = 4000


class JobCancelled(DomainError):
    """Someone cancelled the job while it ran; what it did is rolled back."""


class JobRefused(DomainError):
    """The requester may no longer do what the job does (deactivated, or permission gone)."""


@dataclass
class JobContext:
    """What a job function gets as its first argument.

    ``actor`` is the requester (``None`` for the system): pass it to services as the actor, as
    a view passes ``current_user``. ``progress(done, total)`` reports how far a long job is.
    """

    job: Job
    actor: Any
    definition: JobDefinition
    _last_write: float | None = field(default=None, repr=False)
    _reported: tuple[int, int | None] | None = field(default=None, repr=False)

    def begin_write(self) -> None:
        """For a kind declared ``sqlite_writer=False``: end the reading so far (nothing may be
        changed yet) and start writing; on SQLite this waits for the writer's turn."""
        begin_write()

    @property
    def params(self) -> dict[str, Any]:
        """The job's parameters as it was asked for."""
        return dict(self.job.params)

    def progress(self, done: int, total: int | None = None) -> None:
        """Report ``done`` of ``total`` rows (total may be unknown). Cheap to call per row: it
        is written at most every ``JOBS_PROGRESS_SECONDS`` (and always when done reaches
        total), outside the job's transaction, so a page polling it sees it at once. Raises
        :class:`JobCancelled` when an admin asked the job to stop."""
        self._reported = (done, total)
        now = time.monotonic()
        finished = total is not None and done >= total
        interval = current_app.config["JOBS_PROGRESS_SECONDS"]
        if not finished and self._last_write is not None and now - self._last_write < interval:
            return
        self._last_write = now
        services.write_progress(self.job.id, done, total)
        if services.cancel_requested(self.job.id):
            raise JobCancelled(_("Cancelled by an administrator."))


def run(job_id: int, task=None) -> None:
    """Run the job ``job_id`` (called by the consumer through Huey, or at once in tests).

    Re-raises the failure only when Huey should retry it (``task.retries`` left).
    """
    with app_context():
        claimed = _claim(job_id)
        if claimed is None:
            return
        job, definition = claimed
        with ExitStack() as stack:
            if not huey.immediate:
                stack.enter_context(_heartbeat(job_id))
            try:
                _work(job, definition)
            except Exception as error:
                db.session.rollback()
                retrying = (_retryable(error) and task is not None and task.retries > 0)
                _record_failure(job_id, error, retrying)
                if retrying:
                    raise
            finally:
                services.forget_live_state(job_id)


@contextmanager
def app_context():
    """The application context jobs need; inside one already (tests), that one."""
    if has_app_context():
        yield
        return
    with application().app_context():
        try:
            yield
        finally:
            db.session.remove()


def _claim(job_id: int) -> tuple[Job, JobDefinition] | None:
    begin_write()
    now = now_utc()
    claimed = db.session.execute(
        sa.update(Job).where(Job.id == job_id, Job.state.in_(WAITING_STATES))
        .values(state=JobState.RUNNING, attempts=Job.attempts + 1, started_at=now)
        .execution_options(synchronize_session=False)).rowcount
    db.session.commit()
    job = db.session.get(Job, job_id, populate_existing=True)
    if not claimed:
        logger.info("job %s not run: %s", job_id,
                    "no such record (its transaction rolled back?)" if job is None
                    else f"it is {job.state}")
        return None
    try:
        definition = definition_of(job.kind)
    except UnknownJobKind:
        _record_failure(job_id, UnknownJobKind(f"unknown job kind {job.kind!r}"), False)
        return None
    logger.info("job %s %s started (attempt %d)", job.id, job.kind, job.attempts)
    return job, definition


def _work(job: Job, definition: JobDefinition) -> None:
    locale = job.locale or current_app.config["BABEL_DEFAULT_LOCALE"]
    if definition.sqlite_writer:
        begin_write()
    with audit.origin(job.ip, f"job {job.kind}"), force_locale(locale):
        actor = _requester(job, definition)
        ctx = JobContext(job, actor, definition)
        result = definition.func(ctx, **job.params)
        job = db.session.get(Job, job.id)  # the job may have committed and expired it
        job.state = JobState.SUCCEEDED
        job.finished_at = now_utc()
        job.error = None
        job.result = result if result is None or isinstance(result, dict) else {"value": result}
        if ctx._reported is not None:
            job.progress_done, job.progress_total = ctx._reported
        db.session.commit()
    logger.info("job %s %s succeeded", job.id, job.kind)


def _requester(job: Job, definition: JobDefinition):
    if job.actor_id is None:
        return None
    from app.auth.models import User

    actor = db.session.get(User, job.actor_id)
    if actor is None or not actor.is_active:
        raise JobRefused(_("The user who asked for this job is no longer active."))
    if definition.permission is not None and not actor.can(definition.permission):
        raise JobRefused(_("The user who asked for this job may no longer do this."))
    return actor


def _retryable(error: Exception) -> bool:
    """A refusal stays a refusal; anything else (an outage, a deadlock) may pass."""
    return not isinstance(error, DomainError | UnknownJobKind)


def _record_failure(job_id: int, error: Exception, retrying: bool) -> None:
    try:
        _write_failure(job_id, error, retrying)
    except Exception:  # the database is unreachable too: the sweep finds the job later
        db.session.rollback()
        logger.exception("job %s: could not record its failure (%s)", job_id, error)


def _write_failure(job_id: int, error: Exception, retrying: bool) -> None:
    text = str(error) if isinstance(error, DomainError) else f"{type(error).__name__}: {error}"
    begin_write()
    job = db.session.get(Job, job_id, populate_existing=True)
    if job is None:
        return
    if isinstance(error, JobCancelled):
        job.state = JobState.CANCELLED
    else:
        job.state = JobState.RETRYING if retrying else JobState.FAILED
    job.error = text[:ERROR_LIMIT]
    job.finished_at = None if retrying else now_utc()
    if isinstance(error, JobRefused):
        audit.record("job.refused", actor=job.actor, obj=job, success=False,
                     details={"kind": job.kind, "reason": text})
    db.session.commit()
    log = logger.warning if retrying or isinstance(error, DomainError) else logger.error
    log("job %s %s %s after attempt %d: %s", job.id, job.kind, job.state, job.attempts, text,
        exc_info=not isinstance(error, DomainError))


@contextmanager
def _heartbeat(job_id: int):
    """While the job runs, tell the store every so often that its consumer is alive."""
    stop = threading.Event()
    interval = max(1.0, current_app.config["JOBS_STALE_SECONDS"] / 5)

    def beat():
        while True:
            try:
                services.beat(job_id)
            except Exception:  # the store is briefly unreachable: try again next time
                logger.warning("job %s: could not record the heartbeat", job_id)
            if stop.wait(interval):
                return

    thread = threading.Thread(target=beat, name=f"job-{job_id}-heartbeat", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()
