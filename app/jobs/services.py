"""Asking for jobs and acting on them: enqueue, progress, cancel, retry, and the sweep.

**Enqueue after commit.** :func:`enqueue` adds the job record to the caller's transaction and
nothing else; the message goes to the job store only once that transaction has committed
(and is dropped if it rolls back). So a consumer never picks up a job whose cause — or whose
own record — is not committed yet, and a refused action asks for no job. A message that is
still lost (the store was unreachable at that moment, a consumer was killed mid-job) is sent
again by the sweep; a consumer claims a job only from a waiting state, so a message delivered
twice runs the job once.
"""

from __future__ import annotations

import json
import logging
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from flask import current_app, has_request_context, request
from flask_babel import gettext as _
from huey.constants import EmptyData
from sqlalchemy import event
from sqlalchemy.orm import Session

from app.core import audit
from app.core.clock import now_utc
from app.core.errors import DomainError
from app.core.transactions import begin_write
from app.extensions import db
from app.jobs.definitions import JobDefinition, definition_of
from app.jobs.engine import huey
from app.jobs.models import FINISHED_STATES, WAITING_STATES, Job, JobState

logger = logging.getLogger("ruyi.jobs")

_PENDING = "jobs_pending"  # session.info: (job id, kind) added in the open transaction
_COMMITTED = "jobs_committed"  # session.info: committed, to send when the transaction ends

class JobNotChangeable(DomainError):
    """The job is not in a state that allows the requested change."""


def enqueue(kind: str | JobDefinition, actor=None, *, period_key: str | None = None,
            **params: Any) -> Job:
    """Ask for a job: add its record to the current transaction; it is sent after the commit.

    :param kind: the declared kind (``"firms.export"``) or its definition.
    :param actor: the user who asks (``current_user``), or ``None`` for the system. The job
        runs as this user: their permission is checked again when it runs, and audit rows
        written by the job name them.
    :param params: the job function's keyword arguments; plain JSON values only (ids, not
        objects), because the job may run on another machine, later.
    :returns: the flushed :class:`Job` (its ``id`` is known; the caller commits).
    """
    definition = definition_of(kind)
    try:
        params = json.loads(json.dumps(params))
    except TypeError as error:
        raise TypeError(f"job {definition.kind!r}: parameters must be JSON values") from error
    now = now_utc()
    job = Job(kind=definition.kind, actor_id=getattr(actor, "id", None), params=params,
              locale=_requester_locale(actor), ip=_requester_address(),
              period_key=period_key, state=JobState.QUEUED, attempts=0, queued_at=now,
              sent_at=now)
    db.session.add(job)
    db.session.flush()
    _pending(db.session()).append((job.id, definition.kind))
    logger.info("job %s %s queued by %s", job.id, definition.kind,
                getattr(actor, "username", "system"))
    return job


def _requester_locale(actor) -> str | None:
    if has_request_context():
        from app.core.i18n import locale_name

        return locale_name()
    return getattr(actor, "preferred_language", None)


def _requester_address() -> str | None:
    return request.remote_addr if has_request_context() else None


def _pending(session: Session) -> list[tuple[int, str]]:
    return session.info.setdefault(_PENDING, [])


@event.listens_for(Session, "after_commit")
def _committed(session: Session) -> None:
    pending = session.info.pop(_PENDING, None)
    if pending:
        session.info.setdefault(_COMMITTED, []).extend(pending)


@event.listens_for(Session, "after_rollback")
def _rolled_back(session: Session) -> None:
    dropped = session.info.pop(_PENDING, None)
    if dropped:
        logger.info("dropped %d job(s) asked for in a rolled-back transaction", len(dropped))


@event.listens_for(Session, "after_transaction_end")
def _send_committed(session: Session, transaction) -> None:
    # Sent only when the outermost transaction has ended: the session is free again, so in
    # immediate mode (tests) the job can run in it at once, exactly as a consumer would later.
    if transaction.parent is not None or not session.info.get(_COMMITTED):
        return
    while session.info.get(_COMMITTED):
        job_id, kind = session.info[_COMMITTED].pop(0)
        send(job_id, kind)


def send(job_id: int, kind: str) -> bool:
    """Hand one job's message to the job store (its record is committed). ``False`` if the
    store refused it: the record stays queued and the sweep sends it again."""
    from app.jobs.engine import run_job

    definition = definition_of(kind)
    task = run_job.s(job_id, retries=definition.retries, retry_delay=definition.retry_delay,
                     retry_backoff=definition.backoff, priority=definition.priority)
    try:
        huey.enqueue(task)
    except Exception:  # the store is down: the record keeps the job, the sweep resends it
        logger.exception("could not send job %s (%s) to the job store; it will be resent",
                         job_id, kind)
        return False
    return True


# -- progress, heartbeat and cancel requests: small keys in the shared job store ---------------
#
# A long job's own transaction may hold SQLite's write lock for its whole run (an import is one
# transaction), so a progress row written beside it would wait for it; the job store is shared
# by every machine (Redis) and made for small writes, so a poll on any web server reads it.

def _key(what: str, job_id: int) -> str:
    return f"ruyi.job.{what}.{job_id}"


def write_progress(job_id: int, done: int, total: int | None) -> None:
    """Store a running job's progress (and that it is alive)."""
    value = {"done": int(done), "total": None if total is None else int(total),
             "at": now_utc().timestamp()}
    huey.storage.put_data(_key("progress", job_id), json.dumps(value).encode())
    beat(job_id)


def beat(job_id: int) -> None:
    """Record that the consumer running this job is alive."""
    huey.storage.put_data(_key("beat", job_id), str(now_utc().timestamp()).encode())


def last_beat(job_ids: list[int]) -> dict[int, datetime]:
    """The last sign of life of each running job that has one."""
    if not job_ids:
        return {}
    keys = [_key("beat", i) for i in job_ids]
    found = huey.storage.peek_many(keys)
    beats = {}
    for job_id, key in zip(job_ids, keys, strict=True):
        value = found.get(key)
        if value is not None and value is not EmptyData:
            beats[job_id] = datetime.fromtimestamp(float(bytes(value)), now_utc().tzinfo)
    return beats


def progress_of(job: Job) -> tuple[int | None, int | None]:
    """``(done, total)`` of a job: live from the store while it runs, else from its record."""
    if job.state == JobState.RUNNING:
        value = huey.storage.peek_data(_key("progress", job.id))
        if value is not EmptyData:
            data = json.loads(bytes(value))
            return data["done"], data["total"]
    return job.progress_done, job.progress_total


def progress_of_many(jobs: list[Job]) -> dict[int, tuple[int | None, int | None]]:
    """:func:`progress_of` for a page of jobs, with one read of the store."""
    running = [j.id for j in jobs if j.state == JobState.RUNNING]
    found = huey.storage.peek_many([_key("progress", i) for i in running]) if running else {}
    result = {j.id: (j.progress_done, j.progress_total) for j in jobs}
    for job_id in running:
        value = found.get(_key("progress", job_id))
        if value is not None and value is not EmptyData:
            data = json.loads(bytes(value))
            result[job_id] = (data["done"], data["total"])
    return result


def cancel_requested(job_id: int) -> bool:
    """Whether someone asked this running job to stop."""
    return huey.storage.peek_data(_key("cancel", job_id)) is not EmptyData


def forget_live_state(job_id: int) -> None:
    """Drop a finished job's progress, heartbeat and cancel request from the store."""
    for what in ("progress", "beat", "cancel"):
        huey.storage.delete_data(_key(what, job_id))


# -- people acting on jobs (/admin/jobs) ------------------------------------------------------

def cancel(job: Job, actor) -> Job:
    """Cancel a waiting job at once; ask a running one to stop at its next progress report."""
    if job.state in WAITING_STATES:
        before = job.state
        job.state = JobState.CANCELLED
        job.finished_at = now_utc()
        db.session.flush()
        audit.record("job.cancel", actor=actor, obj=job,
                     details={"kind": job.kind, "state": str(before)})
        return job
    if job.state == JobState.RUNNING:
        huey.storage.put_data(_key("cancel", job.id), b"1")
        audit.record("job.cancel", actor=actor, obj=job,
                     details={"kind": job.kind, "state": "running"})
        return job
    raise JobNotChangeable(_("This job has already finished."))


def retry(job: Job, actor) -> Job:
    """Queue a failed or cancelled job again, with its parameters and requester."""
    if not job.can_retry:
        raise JobNotChangeable(_("Only a failed or cancelled job can be run again."))
    before = job.state
    now = now_utc()
    job.state = JobState.QUEUED
    job.finished_at = None
    job.queued_at = job.sent_at = now
    db.session.flush()
    huey.storage.delete_data(_key("cancel", job.id))
    _pending(db.session()).append((job.id, job.kind))
    audit.record("job.retry", actor=actor, obj=job,
                 details={"kind": job.kind, "state": str(before), "attempts": job.attempts})
    return job


# -- the sweep: lost messages and dead consumers ----------------------------------------------

def sweep(now: datetime | None = None) -> dict[str, int]:
    """Send again the messages of jobs queued long ago, and deal with jobs whose consumer died:
    an idempotent one is queued again, any other fails (a person decides). Commits.

    Safe on several machines at once: every change is conditional on the state it saw.
    """
    now = now or now_utc()
    stale = now - timedelta(seconds=current_app.config["JOBS_STALE_SECONDS"])
    begin_write()
    counts = {"resent": 0, "requeued": 0, "failed": 0, "skipped": 0}
    for job_id, kind in db.session.execute(
            sa.select(Job.id, Job.kind).where(Job.state == JobState.QUEUED, Job.sent_at < stale)
            .order_by(Job.id).limit(1000)).all():
        if _conditional(job_id, JobState.QUEUED, sent_at=now):
            counts["resent"] += 1
            _pending(db.session()).append((job_id, kind))
    running = db.session.execute(
        sa.select(Job.id, Job.kind).where(Job.state == JobState.RUNNING, Job.started_at < stale)
        .order_by(Job.id).limit(1000)).all()
    beats = last_beat([job_id for job_id, _kind in running])
    for job_id, kind in running:
        if beats.get(job_id, stale) > stale:
            continue
        counts[_recover(job_id, kind, now)] += 1
    db.session.commit()
    if counts["requeued"] or counts["failed"] or counts["resent"]:
        logger.warning("job sweep: %s", counts)
    return counts


def _recover(job_id: int, kind: str, now: datetime) -> str:
    try:
        idempotent = definition_of(kind).idempotent
    except LookupError:
        idempotent = False
    note = _("The consumer running this job stopped.")
    if idempotent and _conditional(job_id, JobState.RUNNING, state=JobState.QUEUED,
                                   sent_at=now, error=note):
        _pending(db.session()).append((job_id, kind))
        return "requeued"
    if not idempotent and _conditional(
            job_id, JobState.RUNNING, state=JobState.FAILED, finished_at=now,
            error=note + " " + _("It is not safe to repeat by itself: retry it if needed.")):
        return "failed"
    return "skipped"  # another sweep, or the job itself, changed it meanwhile


def _conditional(job_id: int, expected: JobState, **values) -> bool:
    result = db.session.execute(sa.update(Job).where(Job.id == job_id, Job.state == expected)
                                .values(**values).execution_options(synchronize_session=False))
    return result.rowcount == 1


def purge_finished(now: datetime | None = None) -> int:
    """Remove finished job records older than ``JOBS_KEEP_DAYS`` (flushes; the caller commits)."""
    now = now or now_utc()
    before = now - timedelta(days=current_app.config["JOBS_KEEP_DAYS"])
    result = db.session.execute(sa.delete(Job).where(
        Job.state.in_(FINISHED_STATES), Job.finished_at < before)
        .execution_options(synchronize_session=False))
    return result.rowcount or 0
