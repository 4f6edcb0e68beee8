"""The production application with one job kind more, for the several-machine test: its
consumers run ``flask --app tests.deploy.cluster_jobs jobs worker`` so that they know
``tests.hold``, a job that stays running until the test lets it go — long enough to kill its
consumer in the middle. Everything else is ``wsgi.py``'s application.

``tests.hold`` says where it runs (attempt and process id) in a Redis list of the job store,
then waits for a token on another list (bounded), and returns where it finished. It is
idempotent, so the sweep of a surviving consumer queues it again when its consumer dies.
"""

from __future__ import annotations

import os
import time

from app import create_app
from app.jobs import job
from app.jobs.engine import huey

#: Longest wait for the test's token: a held job never outlives a failed test for long.
HOLD_SECONDS = 180


@job("tests.hold", label="Held test job", idempotent=True, retries=0)
def hold(ctx, *, gate: str) -> dict:
    """Run until the test pushes a token onto ``<gate>.open``."""
    where = f"{ctx.job.attempts}:{os.getpid()}"
    connection = huey.storage.conn
    connection.rpush(f"{gate}.started", where)
    deadline = time.monotonic() + HOLD_SECONDS
    while not connection.blpop([f"{gate}.open"], timeout=2):  # within the socket timeout
        if time.monotonic() > deadline:
            raise TimeoutError(f"the test never opened {gate}")
    return {"ran": where}


app = create_app()
