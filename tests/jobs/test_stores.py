"""The job stores ``JOBS_URL`` chooses, and the production one (Redis) carrying real messages.

Redis tests use ``TEST_REDIS_URL`` (default database 14) and a queue name of their own per
run; they remove only their own keys.
"""

from __future__ import annotations

import os
import time
import uuid
from types import SimpleNamespace

import pytest
import redis
from huey.storage import MemoryStorage, PriorityRedisStorage, SqliteStorage

from app.core.permissions import Role
from app.jobs import JobState, enqueue, services
from app.jobs.engine import huey, run_job, storage_for

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/14")


def test_the_store_follows_jobs_url(tmp_path):
    assert isinstance(storage_for("memory://", "t"), MemoryStorage)
    sqlite = storage_for(f"sqlite:///{tmp_path / 'sub' / 'jobs.db'}", "t")
    assert isinstance(sqlite, SqliteStorage) and (tmp_path / "sub" / "jobs.db").exists()
    store = storage_for("redis://127.0.0.1:6379/14", "t")
    assert isinstance(store, PriorityRedisStorage)
    assert store.pool.connection_kwargs["socket_connect_timeout"] == 2
    with pytest.raises(ValueError):
        storage_for("amqp://host/", "t")


@pytest.fixture
def redis_store():
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping()
    except redis.RedisError:
        pytest.skip("Redis is not running")
    store = storage_for(REDIS_URL, f"test{uuid.uuid4().hex[:12]}")
    yield store
    store.flush_queue()
    store.flush_schedule()
    store.flush_results()
    store.flush_counters()


def test_redis_carries_the_message_and_the_live_progress(db, redis_store):
    """What a web server writes to Redis, any consumer reads: the job's message, then its
    progress and heartbeat."""
    immediate, memory = huey.immediate, huey.storage
    huey._immediate, huey.storage = False, redis_store
    try:
        record = enqueue("tests.write", note="via redis")
        db.session.commit()
        assert record.state == JobState.QUEUED  # nobody ran it: it waits in Redis
        assert redis_store.queue_size() == 1
        task = huey.dequeue()
        assert task.name == run_job.task_class.__name__ and task.args == (record.id,)
        services.write_progress(record.id, 5, 10)
        running = SimpleNamespace(id=record.id, state=JobState.RUNNING, progress_done=None,
                                  progress_total=None)
        assert services.progress_of(running) == (5, 10)
        assert record.id in services.last_beat([record.id])
        huey.execute(task)  # what a consumer does with it
        db.session.refresh(record)
        assert record.state == JobState.SUCCEEDED
    finally:
        huey._immediate, huey.storage = immediate, memory


def test_a_store_that_is_down_delays_the_job_and_does_not_fail_the_request(db, make):
    immediate, memory = huey.immediate, huey.storage
    huey._immediate, huey.storage = False, storage_for("redis://127.0.0.1:1/0", "down")
    try:
        started = time.monotonic()
        record = enqueue("tests.write", actor=make.user(Role.DISPATCHER), note="later")
        db.session.commit()  # the message cannot be sent: logged, the record keeps the job
        assert time.monotonic() - started < 5
        assert record.state == JobState.QUEUED and record.sent_at is not None
    finally:
        huey._immediate, huey.storage = immediate, memory
    assert services.send(record.id, record.kind)  # the store is back: the sweep resends it
    assert record.state == JobState.SUCCEEDED
