"""Production gunicorn settings; ``gunicorn wsgi:app`` reads this file from the working
directory (or pass ``-c gunicorn.conf.py``). Every value can be changed by environment
variable; the figures behind the choices are in bench/RESULTS.md ("Public portal").

Synchronous worker processes, gunicorn's rule of 2 × cores + 1 of them: requests are
CPU-bound Python, the extra processes cover the waits on the database (commits). Threads do
not pay here: measured on the public form they served fewer pages for the same CPU, and on
SQLite a thread holding the write lock waits for its process's GIL while the other writers
queue past their busy timeout. Keep-alive and slow clients are nginx's job (TLS in front).

Several workers need a rate-limit store they share (Redis): gunicorn refuses to start them on
a per-worker store unless that is allowed explicitly (:func:`rate_limit_problem`).
"""

import multiprocessing
import os

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", 2 * multiprocessing.cpu_count() + 1))
worker_class = os.environ.get("GUNICORN_WORKER_CLASS", "sync")
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = 30
# Recycle workers now and then so a slow leak in a library cannot grow without bound.
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "20000"))
max_requests_jitter = 2000
# Behind the proxy: trust its X-Forwarded-Proto (HTTPS) only when it connects from here.
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")

#: Rate-limit stores that count in each worker's own memory (see app/core/rate_limits.py).
PER_PROCESS_STORES = ("local-memory", "memory")


def rate_limit_problem(workers: int, environ) -> str | None:
    """Why these settings must not start: several workers each counting the per-address rate
    limits in their own memory let a client through N times as often as configured. A shared
    store (Redis) fixes it; ``RATELIMIT_ALLOW_PER_WORKER=true`` accepts it knowingly."""
    store = environ.get("RATELIMIT_STORAGE_URI") or "local-memory://"
    if (workers <= 1 or not _flag(environ, "RATELIMIT_ENABLED", True)
            or store.split("://", 1)[0] not in PER_PROCESS_STORES
            or _flag(environ, "RATELIMIT_ALLOW_PER_WORKER", False)):
        return None
    return (f"{workers} workers would each count the rate limits in their own memory "
            f"({store}), so every limit would be {workers} times looser. Set "
            "RATELIMIT_STORAGE_URI=redis://… (shared by all workers), run one worker, or set "
            "RATELIMIT_ALLOW_PER_WORKER=true to accept per-worker counting.")


def on_starting(server):
    """Refuse to start with per-worker rate-limit counting unless it was allowed."""
    problem = rate_limit_problem(server.cfg.workers, os.environ)
    if problem:
        raise RuntimeError(problem)  # gunicorn prints "Error: …" and exits with status 1


def _flag(environ, name: str, default: bool) -> bool:
    """A yes/no setting read as config.py reads it."""
    value = environ.get(name)
    return default if value in (None, "") else value.strip().lower() in {"1", "true", "yes", "on"}
