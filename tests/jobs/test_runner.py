"""The job wrapper: after-commit sending, one transaction per job, the requester's permission
and audit identity, retries only for idempotent jobs, cancel, retry, progress, the sweep."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from flask_babel import force_locale

from app.core.audit import AuditEvent
from app.core.permissions import Role
from app.extensions import db
from app.jobs import JobState, cancel, enqueue, job, progress_of, retry, services
from app.jobs.definitions import definition_of
from app.jobs.engine import huey
from app.jobs.models import Job
from tests.jobs.conftest import calls, failures_left


def audit_rows(action: str) -> list[AuditEvent]:
    return list(db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == action)
                                   .order_by(AuditEvent.id)))


def test_a_job_asked_for_in_a_transaction_runs_only_after_the_commit(db, make):
    user = make.user(Role.DISPATCHER)
    record = enqueue("tests.write", actor=user, note="after")
    assert record.id and record.state == JobState.QUEUED
    assert calls == []  # not before the commit, even in immediate mode
    db.session.commit()
    assert calls == [{"actor": user.id, "note": "after"}]
    assert record.state == JobState.SUCCEEDED and record.attempts == 1
    assert record.result == {"note": "after"} and record.finished_at is not None


def test_a_job_asked_for_in_a_rolled_back_transaction_never_runs(db, make):
    user = make.user(Role.DISPATCHER)
    enqueue("tests.write", actor=user, note="never")
    db.session.rollback()
    db.session.commit()
    assert calls == []
    assert db.session.scalar(sa.select(sa.func.count(Job.id))) == 0


def test_a_message_for_a_job_whose_record_is_gone_is_ignored(db):
    assert services.send(987654, "tests.write")  # e.g. its savepoint was rolled back
    assert calls == []


def test_the_jobs_work_commits_with_its_success(db, make):
    user = make.user(Role.DISPATCHER)
    enqueue("tests.write", actor=user, note="kept")
    db.session.commit()
    [row] = audit_rows("tests.job_wrote")
    assert row.details == {"note": "kept"}


def test_a_failing_job_rolls_back_everything_it_did_and_says_why(db, make):
    user = make.user(Role.DISPATCHER)
    record = enqueue("tests.write", actor=user, note="lost", fail=True)
    db.session.commit()
    assert calls, "it ran"
    assert audit_rows("tests.job_wrote") == []
    assert record.state == JobState.FAILED and record.attempts == 1
    assert "failed on purpose" in record.error
    assert record.finished_at is not None


def test_a_job_audits_as_its_requester_from_the_requesters_address(app, db, make):
    user = make.user(Role.DISPATCHER)
    with app.test_request_context(environ_base={"REMOTE_ADDR": "10.1.2.3"}):
        record = enqueue("tests.write", actor=user, note="who")
    db.session.commit()
    [row] = audit_rows("tests.job_wrote")
    assert (row.actor_id, row.actor_name, row.actor_role) == (user.id, user.username,
                                                              "dispatcher")
    assert row.ip == "10.1.2.3" and row.user_agent == "job tests.write"
    assert record.ip == "10.1.2.3"


def test_a_job_whose_requester_lost_the_permission_is_refused_and_audited(db, make):
    user = make.user(Role.DISPATCHER, preferred_language="en")
    record = enqueue("tests.write", actor=user, note="x")
    user.role = Role.AUDITOR  # no FIRM_EXPORT any more, before the job runs
    db.session.commit()
    assert calls == []
    assert record.state == JobState.FAILED
    assert "may no longer" in record.error
    [refused] = audit_rows("job.refused")
    assert refused.actor_id == user.id and refused.success is False


def test_a_job_of_a_deactivated_requester_is_refused(db, make):
    user = make.user(Role.DISPATCHER, preferred_language="en")
    record = enqueue("tests.write", actor=user)
    user.is_active = False
    db.session.commit()
    assert calls == [] and record.state == JobState.FAILED
    assert "no longer active" in record.error


def test_a_system_job_has_no_requester_to_check(db):
    record = enqueue("tests.write", note="system")
    db.session.commit()
    assert record.state == JobState.SUCCEEDED and calls == [{"actor": None, "note": "system"}]
    [row] = audit_rows("tests.job_wrote")
    assert row.actor_id is None


def test_a_non_idempotent_job_fails_once_and_is_not_retried(db, make):
    user = make.user(Role.DISPATCHER)
    record = enqueue("tests.write", actor=user, fail=True)
    db.session.commit()
    assert len(calls) == 1 and record.attempts == 1 and record.state == JobState.FAILED
    assert huey.scheduled_count() == 0 and huey.pending_count() == 0


def test_only_an_idempotent_job_may_declare_retries():
    with pytest.raises(ValueError, match="idempotent"):
        job("tests.bad", label="bad", retries=2)(lambda ctx: None)
    assert definition_of("tests.write").retries == 0
    assert definition_of("tests.flaky").retries == 2


def _run_scheduled_retries() -> None:
    """What the consumer does when a retry's time has come (Huey's clock: naive UTC)."""
    later = datetime.now(UTC).replace(tzinfo=None) + timedelta(days=1)
    for task in huey.read_schedule(later):
        huey.execute(task, later)


def test_an_idempotent_job_is_retried_with_backoff_until_it_succeeds(db):
    failures_left[0] = 2
    record = enqueue("tests.flaky")
    db.session.commit()
    assert record.state == JobState.RETRYING and record.attempts == 1
    assert "gateway is down" in record.error and record.finished_at is None
    [waiting] = huey.scheduled()
    assert waiting.retries == 1 and waiting.retry_delay == 60  # 30 s, doubled for the next
    _run_scheduled_retries()
    db.session.expire_all()
    assert record.state == JobState.RETRYING and record.attempts == 2
    _run_scheduled_retries()
    db.session.expire_all()
    assert record.state == JobState.SUCCEEDED and record.attempts == 3 and record.error is None
    assert [c["attempt"] for c in calls] == [1, 2, 3]
    assert len(audit_rows("tests.flaky_ran")) == 1  # the failed attempts were rolled back


def test_an_idempotent_job_fails_for_good_when_its_retries_are_spent(db):
    failures_left[0] = 5
    record = enqueue("tests.flaky")
    db.session.commit()
    _run_scheduled_retries()
    _run_scheduled_retries()
    db.session.expire_all()
    assert record.state == JobState.FAILED and record.attempts == 3
    assert huey.scheduled_count() == 0


def test_a_refusal_is_not_retried_even_for_an_idempotent_job(db):
    record = enqueue("tests.refuse")
    db.session.commit()
    assert record.state == JobState.FAILED and len(calls) == 1
    assert record.error == "not allowed by a rule" and huey.scheduled_count() == 0


def test_a_message_delivered_twice_runs_the_job_once(db):
    record = enqueue("tests.write", note="once")
    db.session.commit()
    services.send(record.id, record.kind)
    assert len(calls) == 1 and record.attempts == 1


def test_a_cancelled_waiting_job_does_not_run_when_its_message_arrives(db, make):
    admin = make.user(Role.ADMIN)
    record = enqueue("tests.write", note="cancelled")
    db.session.flush()
    db.session.info.pop("jobs_pending")  # its message is "in the store", not yet taken
    db.session.commit()
    cancel(record, admin)
    db.session.commit()
    services.send(record.id, record.kind)
    assert calls == [] and record.state == JobState.CANCELLED
    [row] = audit_rows("job.cancel")
    assert row.actor_id == admin.id and row.details["state"] == "queued"


def test_cancelling_a_running_job_stops_it_at_its_next_progress_report(db, app):
    app.config["JOBS_PROGRESS_SECONDS"] = 0
    try:
        record = enqueue("tests.long", rows=5, cancel_at=3)
        db.session.commit()
    finally:
        app.config["JOBS_PROGRESS_SECONDS"] = 1
    assert record.state == JobState.CANCELLED and record.error
    assert audit_rows("tests.long_started") == []  # rolled back
    assert calls == []  # it never got to the end


def test_progress_is_readable_while_the_job_runs_and_kept_when_it_ends(db, app):
    app.config["JOBS_PROGRESS_SECONDS"] = 0
    try:
        record = enqueue("tests.long", rows=3)
        db.session.commit()
    finally:
        app.config["JOBS_PROGRESS_SECONDS"] = 1
    assert calls[0]["seen"] == [(1, 3), (2, 3), (3, 3)]
    assert (record.progress_done, record.progress_total) == (3, 3)
    assert progress_of(record) == (3, 3)


def test_progress_is_written_at_most_once_per_interval_but_always_at_the_end(db, app):
    app.config["JOBS_PROGRESS_SECONDS"] = 3600
    try:
        record = enqueue("tests.long", rows=4)
        db.session.commit()
    finally:
        app.config["JOBS_PROGRESS_SECONDS"] = 1
    # The first report is written, the next two fall inside the interval, the last is the end.
    assert calls[0]["seen"] == [(1, 4), (1, 4), (1, 4), (4, 4)]
    assert (record.progress_done, record.progress_total) == (4, 4)


def test_an_admin_retries_a_failed_job_as_its_requester(db, make):
    user = make.user(Role.DISPATCHER)
    admin = make.user(Role.ADMIN)
    record = enqueue("tests.write", actor=user, note="again", fail=True)
    db.session.commit()
    assert record.state == JobState.FAILED
    record.params = {"note": "again"}  # what was wrong is fixed, say
    retry(record, admin)
    db.session.commit()
    assert record.state == JobState.SUCCEEDED and record.attempts == 2
    assert calls[-1] == {"actor": user.id, "note": "again"}
    [row] = audit_rows("job.retry")
    assert row.actor_id == admin.id and row.details["state"] == "failed"


def test_only_failed_or_cancelled_jobs_can_be_retried_and_finished_ones_not_cancelled(db, make):
    admin = make.user(Role.ADMIN)
    record = enqueue("tests.write")
    db.session.commit()
    assert record.state == JobState.SUCCEEDED
    with pytest.raises(services.JobNotChangeable):
        retry(record, admin)
    with pytest.raises(services.JobNotChangeable):
        cancel(record, admin)


def test_the_job_runs_in_its_requesters_language(db, make):
    user = make.user(Role.DISPATCHER, preferred_language="zh_Hant")
    record = enqueue("tests.language", actor=user)
    db.session.commit()
    assert record.locale == "zh_Hant" and record.result == {"text": "無權存取"}


def test_parameters_must_be_plain_values(db, make):
    with pytest.raises(TypeError):
        enqueue("tests.write", note=make)


def _stale(record: Job, minutes: int) -> None:
    record.state = JobState.RUNNING
    record.started_at = record.sent_at = datetime(2026, 3, 2, 2, 0, tzinfo=UTC) - timedelta(
        minutes=minutes)
    db.session.commit()


def _kept(kind: str, **params) -> Job:
    """A job record whose message is lost (never sent)."""
    record = enqueue(kind, **params)
    db.session.flush()
    db.session.info.pop("jobs_pending")
    db.session.commit()
    return record


def test_the_sweep_resends_a_message_lost_long_ago(db, frozen_clock):
    record = _kept("tests.write", note="lost message")
    record.sent_at = frozen_clock.now_utc() - timedelta(minutes=10)
    fresh = _kept("tests.write", note="just queued")
    db.session.commit()
    counts = services.sweep()
    assert counts["resent"] == 1
    assert record.state == JobState.SUCCEEDED and fresh.state == JobState.QUEUED


def test_the_sweep_requeues_an_idempotent_job_whose_consumer_died(db, frozen_clock):
    record = _kept("tests.flaky")
    _stale(record, minutes=10)
    counts = services.sweep()
    assert counts["requeued"] == 1
    assert record.state == JobState.SUCCEEDED and record.attempts == 1


def test_the_sweep_fails_a_non_idempotent_job_whose_consumer_died(db, frozen_clock):
    record = _kept("tests.write")
    _stale(record, minutes=10)
    with force_locale("en"):
        counts = services.sweep()
    assert counts["failed"] == 1 and calls == []
    db.session.refresh(record)
    assert record.state == JobState.FAILED and "not safe to repeat" in record.error


def test_the_sweep_leaves_a_long_job_whose_consumer_is_alive(db, frozen_clock):
    record = _kept("tests.write")
    _stale(record, minutes=10)
    services.beat(record.id)  # the consumer's heartbeat, just now
    assert services.sweep() == {"resent": 0, "requeued": 0, "failed": 0, "skipped": 0}
    assert record.state == JobState.RUNNING


def test_finished_records_are_purged_after_the_keeping_time(db, frozen_clock):
    old = enqueue("tests.write")
    db.session.commit()
    old.finished_at = frozen_clock.now_utc() - timedelta(days=31)
    waiting = _kept("tests.write")
    waiting.queued_at = frozen_clock.now_utc() - timedelta(days=40)
    db.session.commit()
    assert services.purge_finished() == 1
    assert db.session.get(Job, waiting.id) is not None
