"""Production gunicorn settings; ``gunicorn wsgi:app`` reads this file from the working
directory (or pass ``-c gunicorn.conf.py``). Every value can be changed by environment
variable; the figures behind the choices are in bench/RESULTS.md ("Public portal").

Synchronous worker processes, gunicorn's rule of 2 × cores + 1 of them: requests are
CPU-bound Python, the extra processes cover the waits on the database (commits). Threads do
not pay here: measured on the public form they served fewer pages for the same CPU, and on
SQLite a thread holding the write lock waits for its process's GIL while the other writers
queue past their busy timeout. Keep-alive and slow clients are nginx's job (TLS in front).
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
