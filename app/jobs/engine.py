"""The one job engine: a Huey instance, its store chosen by ``JOBS_URL``.

* ``sqlite:///…/jobs.db`` (the default, ``instance/jobs.db``): embedded, one machine;
* ``redis://host:6379/0``: shared by every web server and consumer on any number of machines
  (run Redis with persistence, AOF);
* ``memory://``: in-process only, with ``JOBS_IMMEDIATE`` for the tests.

Huey carries only a job's id: the parameters, the requester and the state are in the job
record (:class:`app.jobs.models.Job`), which the consumer reads in its own transaction. Huey
is created here, unbound like the Flask extensions, and pointed at its store by
:func:`init_app` in ``create_app``.
"""

from __future__ import annotations

import os
from urllib.parse import urlsplit

from flask import Flask, current_app, has_app_context
from huey import Huey
from huey.storage import MemoryStorage, PriorityRedisStorage, SqliteStorage
from redis import ConnectionPool

#: Results live in the job record, not in Huey's result store (which would grow forever).
huey = Huey("ruyi", results=False, utc=True, immediate=True)

_app: list[Flask] = []


def storage_for(url: str, name: str):
    """The Huey storage for a ``JOBS_URL``."""
    scheme = urlsplit(url).scheme
    if scheme == "memory":
        return MemoryStorage(name)
    if scheme == "sqlite":
        path = url[len("sqlite:///"):]
        if not path:
            raise ValueError("JOBS_URL sqlite:/// needs a file path")
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        return SqliteStorage(name, filename=path)
    if scheme in ("redis", "rediss", "unix"):
        # Bounded waits: a web request that sends a job after its commit must not hang on a
        # Redis that is down (the record keeps the job; the sweep sends it later). A
        # consumer's blocking read lasts 1 s, well inside the socket timeout.
        pool = ConnectionPool.from_url(url, socket_connect_timeout=2, socket_timeout=10,
                                       health_check_interval=30)
        return PriorityRedisStorage(name, connection_pool=pool)
    raise ValueError(f"JOBS_URL: unknown job store {scheme!r} (sqlite, redis or memory)")


def init_app(app: Flask) -> None:
    """Point the engine at the application's job store and remember the application, whose
    context every job runs in."""
    name = app.config["JOBS_NAME"]
    huey.name = name
    huey._immediate = bool(app.config["JOBS_IMMEDIATE"])  # the setter would swap the storage
    huey.storage = storage_for(app.config["JOBS_URL"], name)
    _app[:] = [app]
    app.extensions["jobs"] = huey


def application() -> Flask:
    """The application jobs run in: the current one, else the one :func:`init_app` was given."""
    if has_app_context():
        return current_app._get_current_object()
    if not _app:
        raise RuntimeError("the job engine is not configured: call create_app() first")
    return _app[0]


@huey.task(context=True, name="ruyi.job")
def run_job(job_id: int, task=None) -> None:
    """The one Huey task: run the job whose record has this id (:mod:`app.jobs.runner`)."""
    from app.jobs.runner import run

    run(job_id, task)
