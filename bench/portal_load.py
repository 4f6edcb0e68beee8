"""Load on the public request form: concurrent clients submitting for a fixed time.

    python bench/portal_load.py --database sqlite:////tmp/ruyi-portal-bench.db
    python bench/portal_load.py \\
        --database postgresql+psycopg://postgres@127.0.0.1:5432/ruyi_portal_bench
    # on a copy of the 100,000 tickets of bench/tickets_seed.py (it keeps the submissions)
    python bench/portal_load.py --database sqlite:////tmp/copy.db --existing --skip-page

Builds a fresh database (migrations, then ``flask demo seed``), starts gunicorn with the
production settings of ``gunicorn.conf.py`` (two workers unless told otherwise, no worker
recycling unless ``GUNICORN_MAX_REQUESTS`` is set) and the per-IP limits raised, then:

1. the form page: ``wrk`` (2 threads, as many connections as clients, no cookies: every
   request is a first visit with a new session) for ``--page-seconds``; with ``--bare`` also a
   plain Flask app serving a page of the same size on the same gunicorn settings (the ceiling)
   and the application's own ``/bench/bare`` (framework and middleware, no page);
2. submissions: ``--clients`` concurrent clients (spread over processes so the client's own
   GIL is not the bottleneck), each fetching the form once for its session and CSRF token and
   then posting complete requests with unique titles for ``--seconds``.

Every answer is counted by status; every accepted submission's tracking token (from the
redirect) is then looked up in the database, so "accepted" means "stored". Besides requests
per second — which on a shared machine mostly measure the share of CPU the server got — it
reports the **CPU time per request** of the gunicorn workers (and, on PostgreSQL, of the
database's server processes of this database), read from ``/proc``, and the load average
before and after each phase. With the defaults the whole run takes about 2½ minutes.
"""

from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing
import os
import re
import resource
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
from collections import Counter

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
VENV_BIN = os.path.join(ROOT, ".venv", "bin")
TOKEN = re.compile(rb'name="csrf_token"[^>]*value="([^"]+)"')


def _env(database: str) -> dict:
    env = dict(os.environ)
    env.update({
        "DATABASE_URL": database, "FLASK_APP": "wsgi.py", "RUYI_ENV": "development",
        "SECRET_KEY": "portal-bench-only", "LOG_LEVEL": "WARNING",
        "PORTAL_SUBMIT_LIMIT": "1000000 per second", "MAIL_BACKEND": "console",
        # The limits are raised for the run anyway: per-worker counting is accepted knowingly.
        "RATELIMIT_ALLOW_PER_WORKER": "true",
        "TICKET_UPLOAD_DIR": os.path.join(ROOT, "instance", "bench-uploads"),
        # as production renders: templates read once, the blank form page kept
        "TEMPLATES_AUTO_RELOAD": "false",
    })
    # No worker recycling unless asked for: a worker replaced mid-run would take the CPU time
    # it used with it (the meter reads the processes alive at the end of a phase).
    env.setdefault("GUNICORN_MAX_REQUESTS", "0")
    return env


def prepare(database: str, demo_tickets: int = 100) -> None:
    """A fresh, migrated, seeded database (few demo tickets: the form does not depend on them,
    and the full demo history takes minutes to build)."""
    if database.startswith("sqlite:///"):
        path = database.removeprefix("sqlite:///")
        for suffix in ("", "-wal", "-shm"):
            if os.path.exists(path + suffix):
                os.remove(path + suffix)
    else:
        import sqlalchemy as sa

        engine = sa.create_engine(database)
        with engine.begin() as connection:
            connection.exec_driver_sql("DROP SCHEMA public CASCADE")
            connection.exec_driver_sql("CREATE SCHEMA public")
        engine.dispose()
    env = _env(database)
    for command in (["db", "upgrade"], ["demo", "seed", "--tickets", str(demo_tickets)]):
        subprocess.run([os.path.join(VENV_BIN, "flask"), *command],  # noqa: S603 - fixed
                       cwd=ROOT, env=env,
                       check=True, capture_output=True)


def start_server(database: str, port: int, args, app: str = "wsgi:app",
                 path: str = "/request") -> subprocess.Popen:
    """gunicorn with ``gunicorn.conf.py`` and the worker options given; returns once it
    answers ``path``."""
    options = ["-w", str(args.workers)]
    if args.worker_class:
        options += ["-k", args.worker_class]
    if args.threads:
        options += ["--threads", str(args.threads)]
    server = subprocess.Popen(  # noqa: S603 - our own gunicorn
        [os.path.join(VENV_BIN, "gunicorn"), "-c", os.path.join(ROOT, "gunicorn.conf.py"),
         *options, "--no-control-socket", "-b", f"127.0.0.1:{port}",
         "--log-level", "warning", app],
        cwd=ROOT, env=_env(database), start_new_session=True)
    for _ in range(150):
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            connection.request("GET", path)
            if connection.getresponse().status == 200:
                return server
        except OSError:
            pass
        time.sleep(0.2)
    server.kill()
    raise RuntimeError("gunicorn did not start")


# -- CPU time and load, from /proc -------------------------------------------------------------

TICKS = os.sysconf("SC_CLK_TCK")


def _cpu_seconds(pid: int) -> float:
    """utime + stime of one process (0 once it is gone)."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as handle:
            fields = handle.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / TICKS


def _children(pid: int) -> list[int]:
    try:
        with open(f"/proc/{pid}/task/{pid}/children", encoding="ascii") as handle:
            return [int(child) for child in handle.read().split()]
    except OSError:
        return []


def _database_pids(database: str) -> list[int]:
    """The PostgreSQL server processes serving this database (none for SQLite)."""
    if not database.startswith("postgresql"):
        return []
    import sqlalchemy as sa

    engine = sa.create_engine(database)
    with engine.connect() as connection:
        pids = list(connection.execute(sa.text(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
            "AND pid <> pg_backend_pid()")).scalars())
    engine.dispose()
    return pids


class CpuMeter:
    """CPU seconds used by the gunicorn workers (and this database's server processes)
    between ``start()`` and ``stop()``; processes that appear meanwhile count in full."""

    def __init__(self, server: subprocess.Popen, database: str):
        self.server, self.database = server, database

    def _sample(self) -> dict[str, dict[int, float]]:
        workers = [self.server.pid, *_children(self.server.pid)]
        return {"server": {pid: _cpu_seconds(pid) for pid in workers},
                "database": {pid: _cpu_seconds(pid) for pid in _database_pids(self.database)}}

    def start(self) -> None:
        self.load_before = _loadavg()
        self.before = self._sample()
        self.clients_before = _children_cpu()

    def stop(self, requests: int) -> dict:
        after = self._sample()
        result = {"load_average_before": self.load_before, "load_average_after": _loadavg()}
        clients = _children_cpu() - self.clients_before
        result["client_cpu_ms_per_request"] = (round(clients * 1000 / requests, 3)
                                               if requests else None)
        for part in ("server", "database"):
            if part == "database" and not after[part]:
                continue
            used = sum(seconds - self.before[part].get(pid, 0.0)
                       for pid, seconds in after[part].items())
            result[f"{part}_cpu_seconds"] = round(used, 2)
            result[f"{part}_cpu_ms_per_request"] = (round(used * 1000 / requests, 3)
                                                    if requests else None)
        if requests:
            per_request = sum(result.get(f"{part}_cpu_ms_per_request") or 0
                              for part in ("server", "database", "client"))
            # What the machine's cores could do if this run had them to itself.
            result["cpu_bound_ceiling_per_second"] = round(
                (os.cpu_count() or 1) * 1000 / per_request) if per_request else None
        return result


def _children_cpu() -> float:
    """CPU seconds of this script's finished children (wrk, the client processes)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _loadavg() -> str:
    with open("/proc/loadavg", encoding="ascii") as handle:
        return " ".join(handle.read().split()[:3])


def stop_server(server: subprocess.Popen) -> None:
    os.killpg(server.pid, signal.SIGTERM)
    server.wait(timeout=30)


def page_load(port: int, seconds: int, connections: int, meter: CpuMeter | None = None,
              path: str = "/request") -> dict:
    """Requests per second on one page with wrk (None without wrk), and CPU per request."""
    if not shutil.which("wrk"):
        return {"requests_per_second": None, "note": "wrk not installed"}
    if meter is not None:
        meter.start()
    output = subprocess.run(["wrk", "-t2", f"-c{connections}",  # noqa: S603, S607 - wrk
                             f"-d{seconds}s", f"http://127.0.0.1:{port}{path}"],
                            capture_output=True, text=True, check=True).stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
    total = int(re.search(r"(\d+) requests in", output).group(1))
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    latency = re.search(r"Latency\s+(\S+)", output).group(1)
    result = {"requests_per_second": rate, "requests": total,
              "non_2xx_3xx": int(errors.group(1)) if errors else 0, "mean_latency": latency}
    if meter is not None:
        result.update(meter.stop(total))
    return result


def bare_pages(database: str, args, page_bytes: int) -> dict:
    """The ceilings on the same gunicorn settings: a plain Flask app serving a page of the
    form page's size, and the application's own ``/bench/bare`` (middleware, no page)."""
    results = {}
    for name, app, path in (("plain_flask_same_size", "bench.bare_wsgi:app", "/request"),
                            ("app_bare_page", "bench.reports_wsgi:app", "/bench/bare")):
        os.environ["BARE_PAGE_BYTES"] = str(page_bytes)  # read by bench/bare_wsgi.py
        server = start_server(database, args.port, args, app=app, path=path)
        try:
            results[name] = page_load(args.port, args.page_seconds, args.clients,
                                      CpuMeter(server, ""), path)
        finally:
            stop_server(server)
    return results


#: The form as the clients post it, URL-encoded once; only the title differs per request.
FORM = {"firm_name": "昆山压测有限公司", "uscc": "91320583314159268J", "contact_name": "压测",
        "mobile": "13812345678", "email": "", "demand_type": "consult", "category": "",
        "description": "负载测试提交的诉求。", "consent": "y", "website": ""}
COOKIE = re.compile(rb"\r\nSet-Cookie: (session=[^;\r]*)", re.IGNORECASE)
LOCATION = re.compile(rb"\r\nLocation: [^\r]*/track/([A-Za-z0-9_-]+)/received", re.IGNORECASE)


class Client:
    """One visitor with its session cookie, as lean as the measurement allows: a raw socket
    per request (``Connection: close``: a sync worker closes after each answer anyway),
    request bytes built once and only the title and length filled in, the answer read to
    its end and only its status, ``Set-Cookie`` and ``Location`` looked at; redirects are
    not followed. Its CPU time per request is part of the report."""

    def __init__(self, port: int):
        self.port = port
        self.cookie = b""

    def exchange(self, request: bytes) -> tuple[int, bytes]:
        """Send one request; the status and the head of the answer (cookie kept)."""
        with socket.create_connection(("127.0.0.1", self.port), timeout=60) as connection:
            connection.sendall(request)
            chunks = []
            while chunk := connection.recv(65536):
                chunks.append(chunk)
        answer = b"".join(chunks)
        cookie = COOKIE.search(answer, 0, answer.find(b"\r\n\r\n"))
        if cookie:
            self.cookie = cookie.group(1)
        return int(answer[9:12]), answer

    def head(self, method: str, extra: bytes = b"") -> bytes:
        return (f"{method} /request HTTP/1.1\r\nHost: 127.0.0.1:{self.port}\r\n"
                "Accept-Language: zh-CN\r\nConnection: close\r\n").encode() + (
            b"Cookie: " + self.cookie + b"\r\n" if self.cookie else b"") + extra


def _client(port: int, deadline: float, client_id: int, results: list) -> None:
    client = Client(port)
    _status, page = client.exchange(client.head("GET") + b"\r\n")
    token = TOKEN.search(page).group(1).decode()
    body = urllib.parse.urlencode({"csrf_token": token, **FORM}).encode() + b"&title="
    title = urllib.parse.quote_plus(f"压测 {client_id}-").encode()
    statuses, tokens, n, cookie, head = Counter(), [], 0, None, b""
    while time.monotonic() < deadline:
        n += 1
        if client.cookie != cookie:  # a new session cookie: rebuild the fixed part once
            cookie = client.cookie
            head = client.head("POST", b"Content-Type: application/x-www-form-urlencoded\r\n")
        payload = body + title + str(n).encode()
        status, answer = client.exchange(
            head + b"Content-Length: " + str(len(payload)).encode() + b"\r\n\r\n" + payload)
        statuses[status] += 1
        if status == 302:
            tokens.append(LOCATION.search(answer).group(1).decode())
    results.append((dict(statuses), tokens))


def _process(port: int, deadline: float, first_id: int, threads: int, queue) -> None:
    results: list = []
    workers = [threading.Thread(target=_client, args=(port, deadline, first_id + i, results))
               for i in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    queue.put(results)


def submissions(port: int, seconds: int, clients: int, processes: int) -> tuple[dict, list]:
    """Run the clients; status counts and the tracking tokens of accepted submissions."""
    deadline = time.monotonic() + seconds
    queue = multiprocessing.Queue()
    per = [clients // processes + (1 if i < clients % processes else 0)
           for i in range(processes)]
    jobs, first = [], 0
    for count in per:
        jobs.append(multiprocessing.Process(target=_process,
                                            args=(port, deadline, first, count, queue)))
        first += count
    started = time.monotonic()
    for job in jobs:
        job.start()
    collected = [queue.get() for _ in jobs]
    for job in jobs:
        job.join()
    elapsed = time.monotonic() - started
    statuses, tokens = Counter(), []
    for results in collected:
        for counts, accepted in results:
            statuses.update(counts)
            tokens.extend(accepted)
    return {"elapsed_seconds": round(elapsed, 1), "statuses": dict(statuses)}, tokens


def stored(database: str, tokens: list) -> int:
    """How many of the accepted submissions' tokens have a ticket in the database."""
    import sqlalchemy as sa

    engine = sa.create_engine(database)
    with engine.connect() as connection:
        rows = set(connection.execute(sa.text("SELECT access_token FROM tickets")).scalars())
    engine.dispose()
    return sum(1 for token in tokens if token in rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", required=True)
    parser.add_argument("--port", type=int, default=8306)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--worker-class", default=None,
                        help="gunicorn worker class (default: gunicorn.conf.py's)")
    parser.add_argument("--threads", type=int, default=None,
                        help="threads per gthread worker (default: gunicorn.conf.py's)")
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--processes", type=int, default=4)
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--page-seconds", type=int, default=20)
    parser.add_argument("--bare", action="store_true",
                        help="also measure the bare pages (the ceiling), page-seconds each")
    parser.add_argument("--skip-page", action="store_true")
    parser.add_argument("--skip-submissions", action="store_true")
    parser.add_argument("--demo-tickets", type=int, default=100,
                        help="demo tickets seeded before the run (default 100)")
    parser.add_argument("--existing", action="store_true",
                        help="submit to the database as it is (e.g. bench/tickets_seed.py's "
                             "100,000 tickets) instead of building a fresh one")
    args = parser.parse_args()
    sys.path.insert(0, ROOT)
    if not args.existing:
        prepare(args.database, args.demo_tickets)
    report = {"database": args.database.split("://")[0], "workers": args.workers,
              "worker_class": args.worker_class or _configured("worker_class"),
              "threads": args.threads or _configured("threads"), "clients": args.clients,
              "cpus": os.cpu_count()}
    server = start_server(args.database, args.port, args)
    tokens: list = []
    try:
        meter = CpuMeter(server, args.database)
        if not args.skip_page:
            report["form_page"] = page_load(args.port, args.page_seconds, args.clients, meter)
            report["form_page_bytes"] = _page_size(args.port)
        if not args.skip_submissions:
            meter.start()
            load, tokens = submissions(args.port, args.seconds, args.clients, args.processes)
            accepted = load["statuses"].get(302, 0)
            load.update(meter.stop(sum(load["statuses"].values())))
            report["submissions"] = load
            report["accepted"] = accepted
            report["accepted_per_second"] = round(accepted / load["elapsed_seconds"], 1)
            report["server_errors"] = sum(n for status, n in load["statuses"].items()
                                          if status >= 500)
    finally:
        stop_server(server)
    if tokens:
        report["accepted_and_stored"] = stored(args.database, tokens)
    if args.bare:
        report["bare"] = bare_pages(args.database, args, report.get("form_page_bytes", 10000))
    print(json.dumps(report, ensure_ascii=False, indent=2))


def _configured(name: str):
    """A setting of gunicorn.conf.py (as the server reads it), or gunicorn's default."""
    import runpy

    return runpy.run_path(os.path.join(ROOT, "gunicorn.conf.py")).get(name, 1)


def _page_size(port: int) -> int:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    connection.request("GET", "/request")
    return len(connection.getresponse().read())


if __name__ == "__main__":
    main()
