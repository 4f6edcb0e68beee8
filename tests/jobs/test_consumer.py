"""The real consumer: ``flask jobs worker`` in its own process, on a SQLite job store, takes
the jobs that another process asks for and runs them; Ctrl-C stops it cleanly.

The waits are bounded polls (``--wait``, ``ping --timeout``) by the command line, never a
sleep taken as the proof.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest
from huey.storage import SqliteStorage

from app.jobs.engine import huey, run_job

ROOT = Path(__file__).resolve().parents[2]
FLASK = [sys.executable, "-m", "flask"]


@pytest.fixture
def installation(tmp_path):
    """A migrated SQLite database and an empty job store, as a fresh machine has them."""
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("JOBS_", "TEST_DATABASE"))}
    env.update(RUYI_ENV="development", FLASK_APP="wsgi.py", SECRET_KEY="consumer-test",
               DATABASE_URL=f"sqlite:///{tmp_path / 'ruyi.db'}",
               JOBS_URL=f"sqlite:///{tmp_path / 'jobs.db'}",
               JOBS_NAME=f"test{uuid.uuid4().hex[:12]}", LOG_LEVEL="INFO")
    subprocess.run([*FLASK, "db", "upgrade"], cwd=ROOT, env=env, check=True,  # noqa: S603
                   capture_output=True, timeout=300)
    return env, tmp_path


def flask(env, *args, timeout=300):
    return subprocess.run([*FLASK, *args], cwd=ROOT, env=env,  # noqa: S603 - our own flask
                          capture_output=True, text=True,
                          timeout=timeout)


def _queue_pings(env, path, n: int) -> None:
    """What web servers do when many ask at once: n job records, then their messages."""
    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S")
    with sqlite3.connect(path / "ruyi.db") as connection:
        ids = [connection.execute(
            "INSERT INTO jobs (kind, state, params, attempts, queued_at, sent_at) "
            "VALUES ('jobs.ping', 'queued', '{}', 0, ?, ?)", (now, now)).lastrowid
            for _ in range(n)]
    store = SqliteStorage(env["JOBS_NAME"], filename=str(path / "jobs.db"))
    for job_id in ids:
        store.enqueue(huey.serialize_task(run_job.s(job_id)))


def test_a_real_consumer_runs_jobs_asked_for_by_another_process(installation):
    env, path = installation
    log = open(path / "consumer.log", "w+")  # noqa: SIM115 - read after the process ends
    consumer = subprocess.Popen([*FLASK, "jobs", "worker", "--workers", "4"], cwd=ROOT,  # noqa: S603
                                env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        ping = flask(env, "jobs", "ping", "--timeout", "120")
        assert ping.returncode == 0, ping.stdout + ping.stderr
        # 40 at once for 4 worker threads on one SQLite database: each job's transaction
        # waits for its writer's turn, none fails with "database is locked".
        _queue_pings(env, path, 40)
        scan = flask(env, "jobs", "enqueue", "sla.scan", "--wait", "120")
        assert scan.returncode == 0, scan.stdout + scan.stderr
        last = flask(env, "jobs", "ping", "--timeout", "120")  # queued after the 40
        assert last.returncode == 0, last.stdout + last.stderr
    finally:
        consumer.send_signal(signal.SIGINT)  # what Ctrl-C does
        code = consumer.wait(timeout=60)
    log.seek(0)
    output = log.read()
    assert code == 0, output
    assert "Consumer exiting" in output
    with sqlite3.connect(path / "ruyi.db") as connection:
        rows = connection.execute(  # a schedule may also have fired: those have a period
            "SELECT kind, state, attempts FROM jobs WHERE period_key IS NULL ORDER BY id"
        ).fetchall()
    assert rows == [("jobs.ping", "succeeded", 1)] * 41 + [("sla.scan", "succeeded", 1),
                                                          ("jobs.ping", "succeeded", 1)]
