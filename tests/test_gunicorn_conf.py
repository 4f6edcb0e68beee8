"""gunicorn.conf.py refuses to start several workers that would each count the rate limits in
their own memory (every limit N times looser), unless a shared store is set or it is allowed."""

from __future__ import annotations

import os
import runpy
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CONF = os.path.join(ROOT, "gunicorn.conf.py")
problem = runpy.run_path(CONF)["rate_limit_problem"]


@pytest.mark.parametrize(("workers", "environ"), [
    (2, {}),
    (5, {"RATELIMIT_STORAGE_URI": "local-memory://"}),
    (2, {"RATELIMIT_STORAGE_URI": "memory://"}),
    (2, {"RATELIMIT_ALLOW_PER_WORKER": "no", "RATELIMIT_ENABLED": "true"}),
])
def test_several_workers_with_a_per_process_store_are_refused(workers, environ):
    message = problem(workers, environ)
    assert message and f"{workers} times looser" in message and "redis://" in message


@pytest.mark.parametrize(("workers", "environ"), [
    (1, {}),
    (2, {"RATELIMIT_STORAGE_URI": "redis://127.0.0.1:6379/0"}),
    (2, {"RATELIMIT_ALLOW_PER_WORKER": "true"}),
    (2, {"RATELIMIT_ENABLED": "false"}),
])
def test_one_worker_a_shared_store_or_an_explicit_choice_may_start(workers, environ):
    assert problem(workers, environ) is None


def test_gunicorn_itself_stops_with_the_reason_before_serving():
    """The real server: it exits with status 1 and says why, before binding or loading the
    application."""
    environ = {key: value for key, value in os.environ.items()
               if not key.startswith(("RATELIMIT_", "WEB_CONCURRENCY"))}
    done = subprocess.run(  # noqa: S603 - our own gunicorn
        [os.path.join(os.path.dirname(sys.executable), "gunicorn"), "-c", CONF, "-w", "3",
         "-b", "127.0.0.1:0", "wsgi:app"],
        cwd=ROOT, env=environ, capture_output=True, text=True, timeout=60)
    assert done.returncode == 1
    assert "3 workers would each count the rate limits in their own memory" in done.stderr
