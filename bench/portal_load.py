"""Load on the public request form: concurrent clients submitting for a fixed time.

    python bench/portal_load.py --database sqlite:////tmp/ruyi-portal-bench.db
    python bench/portal_load.py \\
        --database postgresql+psycopg://postgres@127.0.0.1:5432/ruyi_portal_bench

Builds a fresh database (migrations, then ``flask demo seed``), starts gunicorn with two
workers and the per-IP limits raised, then:

1. the form page: ``wrk`` (2 threads, as many connections as clients) for ``--page-seconds``;
2. submissions: ``--clients`` concurrent clients (spread over processes so the client's own
   GIL is not the bottleneck), each fetching the form once for its session and CSRF token and
   then posting complete requests with unique titles for ``--seconds``.

Every answer is counted by status; every accepted submission's tracking token (from the
redirect) is then looked up in the database, so "accepted" means "stored".
"""

from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
import urllib.parse
from collections import Counter

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
VENV_BIN = os.path.join(ROOT, ".venv", "bin")
TOKEN = re.compile(rb'name="csrf_token"[^>]*value="([^"]+)"')
TRACK = re.compile(r"/track/([A-Za-z0-9_-]+)/received")


def _env(database: str) -> dict:
    env = dict(os.environ)
    env.update({
        "DATABASE_URL": database, "FLASK_APP": "wsgi.py", "RUYI_ENV": "development",
        "SECRET_KEY": "portal-bench-only", "LOG_LEVEL": "WARNING",
        "PORTAL_SUBMIT_LIMIT": "1000000 per second", "MAIL_BACKEND": "console",
        "TICKET_UPLOAD_DIR": os.path.join(ROOT, "instance", "bench-uploads"),
    })
    return env


def prepare(database: str) -> None:
    """A fresh, migrated, seeded database."""
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
    for command in (["db", "upgrade"], ["demo", "seed"]):
        subprocess.run([os.path.join(VENV_BIN, "flask"), *command],  # noqa: S603 - fixed
                       cwd=ROOT, env=env,
                       check=True, capture_output=True)


def start_server(database: str, port: int, workers: int) -> subprocess.Popen:
    """gunicorn with ``workers`` sync workers; returns once it answers."""
    server = subprocess.Popen(  # noqa: S603 - our own gunicorn
        [os.path.join(VENV_BIN, "gunicorn"), "-w", str(workers), "--no-control-socket",
         "-b", f"127.0.0.1:{port}", "--log-level", "warning", "wsgi:app"],
        cwd=ROOT, env=_env(database), start_new_session=True)
    for _ in range(100):
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            connection.request("GET", "/request")
            if connection.getresponse().status == 200:
                return server
        except OSError:
            time.sleep(0.2)
    server.kill()
    raise RuntimeError("gunicorn did not start")


def stop_server(server: subprocess.Popen) -> None:
    os.killpg(server.pid, signal.SIGTERM)
    server.wait(timeout=30)


def form_page_load(port: int, seconds: int, connections: int) -> dict:
    """Requests per second on GET /request with wrk (None without wrk)."""
    if not shutil.which("wrk"):
        return {"requests_per_second": None, "note": "wrk not installed"}
    output = subprocess.run(["wrk", "-t2",  # noqa: S603, S607 - wrk on localhost f"-c{connections}", f"-d{seconds}s",
                             f"http://127.0.0.1:{port}/request"],
                            capture_output=True, text=True, check=True).stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    latency = re.search(r"Latency\s+(\S+)", output).group(1)
    return {"requests_per_second": rate, "non_2xx_3xx": int(errors.group(1)) if errors else 0,
            "mean_latency": latency}


class Session:
    """One keep-alive client with its cookie, as a browser would be."""

    def __init__(self, port: int):
        self.port = port
        self.cookie = ""
        self.connection = None

    def _open(self):
        self.connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)

    def request(self, method: str, path: str, body: str | None = None):
        headers = {"Accept-Language": "zh-CN", "Cookie": self.cookie}
        if body is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        for attempt in (1, 2):
            if self.connection is None:
                self._open()
            try:
                self.connection.request(method, path, body=body, headers=headers)
                response = self.connection.getresponse()
                payload = response.read()
                break
            except (http.client.HTTPException, OSError):
                self.connection = None  # sync workers close the connection: reconnect once
                if attempt == 2:
                    raise
        cookie = response.headers.get("Set-Cookie")
        if cookie:
            self.cookie = cookie.split(";")[0]
        if response.headers.get("Connection", "").lower() == "close":
            self.connection.close()
            self.connection = None
        return response.status, payload, response.headers


def _client(port: int, deadline: float, client_id: int, results: list) -> None:
    session = Session(port)
    _status, page, _headers = session.request("GET", "/request")
    token = TOKEN.search(page).group(1).decode()
    statuses, tokens, n = Counter(), [], 0
    while time.monotonic() < deadline:
        n += 1
        body = urllib.parse.urlencode({
            "csrf_token": token, "firm_name": "昆山压测有限公司", "uscc": "91320583314159268J",
            "contact_name": "压测", "mobile": "13812345678", "email": "",
            "demand_type": "consult", "category": "", "title": f"压测 {client_id}-{n}",
            "description": "负载测试提交的诉求。", "consent": "y", "website": ""})
        status, _payload, headers = session.request("POST", "/request", body)
        statuses[status] += 1
        if status == 302:
            tokens.append(TRACK.search(headers["Location"]).group(1))
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
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--processes", type=int, default=4)
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--page-seconds", type=int, default=20)
    args = parser.parse_args()
    sys.path.insert(0, ROOT)
    prepare(args.database)
    server = start_server(args.database, args.port, args.workers)
    try:
        page = form_page_load(args.port, args.page_seconds, args.clients)
        load, tokens = submissions(args.port, args.seconds, args.clients, args.processes)
    finally:
        stop_server(server)
    accepted = load["statuses"].get(302, 0)
    server_errors = sum(n for status, n in load["statuses"].items() if status >= 500)
    report = {
        "database": args.database.split("://")[0], "workers": args.workers,
        "clients": args.clients, "form_page": page, "submissions": load,
        "accepted": accepted, "accepted_per_second": round(accepted / load["elapsed_seconds"],
                                                            1),
        "server_errors": server_errors, "accepted_and_stored": stored(args.database, tokens),
    }
    print(json.dumps(report, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
