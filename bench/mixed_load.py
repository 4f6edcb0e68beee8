"""A mixed load on the production set-up: firms submitting and looking up, staff browsing
queues and tickets and acting, the scan running — for a fixed time, on PostgreSQL.

    python bench/mixed_load.py                      # 10 minutes, 50 clients
    python bench/mixed_load.py --seconds 60 --clients 20 --demo-tickets 50   # a short proof

Sets up, in a temporary folder, a PostgreSQL server of its own (``initdb``/``pg_ctl``, durable
settings) and a ``redis-server`` (rate limits and jobs), migrates and seeds the demo data
(``flask demo seed``), then starts gunicorn with the production settings (``RUYI_ENV=
production``, ``gunicorn.conf.py``: 2 × cores + 1 sync workers) and one job consumer whose
scheduler runs the SLA scan and the audit seal **every minute** during the run.

Clients (threads spread over processes; each its own address through ``X-Forwarded-For``,
as nginx passes it, so the per-address limits stay out of the way):

* **firms** (40 % of the clients): the public form, a submission (new address each time),
  the "received" page, the tracking page, a lookup by reference and mobile number;
* **staff** (60 %): sign in once as one of the demo accounts (dispatcher, supervisor, unit
  lead, handler), then browse the home page, the ticket queue (pages and filters), ticket
  pages and the firm list, and comment on a ticket (a write: event, audit row, notification).

Each client waits ``--think`` seconds (random up to that) between steps. The report: answers
by status (0 ≥ 500 expected), p50/p95/p99/max per page, submissions with a receipt that are
not in the database afterwards (0 expected) or twice, the audit chain verified at the end, and
the load average sampled during the run (the machine may be shared).
"""

from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing
import os
import random
import re
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import uuid
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.deploy.private_servers import PrivatePostgres, PrivateRedis  # noqa: E402
from tests.deploy.servers import hidden_fields  # noqa: E402

BIN = Path(sys.executable).parent
PASSWORD = "Ruyi#Demo2026"  # noqa: S105 - the demo accounts' (app/demo/cli.py)
STAFF = ("dispatcher", "supervisor", "lead", "handler")
FORM = {"firm_name": "昆山混合负载有限公司", "uscc": "91320583314159268J",
        "contact_name": "负载", "mobile": "13812345678", "email": "", "demand_type": "consult",
        "category": "", "description": "混合负载测试提交的诉求。", "consent": "y", "website": ""}
REFERENCE = re.compile(r'href="/tickets/(KS[0-9A-Z-]+)"')
RECEIVED = re.compile(r"/track/([^/]+)/received")
SHOWN_REFERENCE = re.compile(r"(KS\d{4}-\d{6})")


# -- set-up ------------------------------------------------------------------------------------


def environment(postgres_url: str, redis_port: int, folder: Path) -> dict:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("JOBS_", "RATELIMIT_", "TEST_DATABASE", "WEB_CONCURRENCY",
                                "GUNICORN_", "INSTANCE_PATH", "MAIL_", "DATABASE_"))}
    env.update(RUYI_ENV="production", FLASK_APP="wsgi.py", TZ="UTC",
               SECRET_KEY="mixed-load-" + uuid.uuid4().hex, DATABASE_URL=postgres_url,
               JOBS_URL=f"redis://127.0.0.1:{redis_port}/1",
               RATELIMIT_STORAGE_URI=f"redis://127.0.0.1:{redis_port}/0",
               JOBS_NAME="mixed", INSTANCE_PATH=str(folder / "instance"), TRUSTED_PROXIES="1",
               MAIL_BACKEND="console", LOG_LEVEL="WARNING",
               JOBS_SCHEDULES="sla.scan=* * * * *;audit.seal=* * * * *;audit.verify=off;"
                              "reports.send_weekly=off;sla.calendar_warning=off;"
                              "jobs.cleanup=off")
    return env


def flask(env: dict, *args: str) -> str:
    done = subprocess.run([sys.executable, "-m", "flask", *args], cwd=ROOT, env=env,  # noqa: S603
                          capture_output=True, text=True, timeout=3600)
    if done.returncode != 0:
        raise RuntimeError(f"flask {' '.join(args)}: {done.stdout}\n{done.stderr}")
    return done.stdout


def start(args: list[str], env: dict, log: Path) -> subprocess.Popen:
    with open(log, "wb") as handle:
        return subprocess.Popen(args, cwd=ROOT, env=env, stdout=handle,  # noqa: S603
                                stderr=subprocess.STDOUT, start_new_session=True)


def wait_for(port: int, seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            connection.request("GET", "/auth/login")
            if connection.getresponse().status == 200:
                return
        except OSError:
            pass
        time.sleep(0.5)
    raise RuntimeError("gunicorn did not answer")


# -- a client ----------------------------------------------------------------------------------


class Visitor:
    """Cookies by hand, one connection per request (a sync worker closes after each answer),
    every answer timed under its page's name."""

    def __init__(self, port: int, address: str, results: dict):
        self.port, self.address, self.results = port, address, results
        self.cookies: dict[str, str] = {}

    def request(self, page: str, method: str, path: str, form: dict | None = None,
                address: str | None = None) -> tuple[int, str, str]:
        headers = {"Host": "ruyi.example.test", "Accept-Language": "zh-CN",
                   "X-Forwarded-Proto": "https", "X-Forwarded-For": address or self.address,
                   "Referer": "https://ruyi.example.test/"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if form is not None:
            body = urllib.parse.urlencode(form).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        started = time.perf_counter()
        try:
            connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
            connection.request(method, path, body=body, headers=headers)
            answer = connection.getresponse()
            text = answer.read().decode("utf-8", errors="replace")
            status = answer.status
            for name, value in answer.getheaders():
                if name.lower() == "set-cookie":
                    key, _, rest = value.partition("=")
                    self.cookies[key.strip()] = rest.split(";", 1)[0]
            location = answer.getheader("Location") or ""
            connection.close()
        except (OSError, http.client.HTTPException):
            status, text, location = 0, "", ""
        elapsed = time.perf_counter() - started
        self.results["timings"][page].append(elapsed)
        self.results["statuses"][f"{page} {status}"] += 1
        return status, text, location


def firm_client(port: int, client: int, deadline: float, think: float, results: dict) -> None:
    rng = random.Random(client)
    n = 0
    while time.monotonic() < deadline:
        n += 1
        address = f"10.{client % 250}.{n // 250 % 250}.{n % 250 + 1}"
        visitor = Visitor(port, address, results)
        status, page, _ = visitor.request("portal form", "GET", "/request")
        if status != 200:
            continue
        title = f"混合负载 {client}-{n}"
        status, _, location = visitor.request(
            "portal submit", "POST", "/request", dict(FORM, title=title, **hidden_fields(page)))
        found = RECEIVED.search(location)
        if status != 302 or not found:
            continue
        token = found.group(1)
        results["receipts"].append((title, token))
        status, received, _ = visitor.request("portal received", "GET",
                                              f"/track/{token}/received")
        visitor.request("portal track", "GET", f"/track/{token}")
        shown = SHOWN_REFERENCE.search(received)
        status, lookup_page, _ = visitor.request("portal lookup form", "GET", "/track")
        if shown and status == 200:
            visitor.request("portal lookup", "POST", "/track",
                            {"reference": shown.group(1), "mobile": FORM["mobile"],
                             **hidden_fields(lookup_page)})
        time.sleep(rng.uniform(0, think))


def staff_client(port: int, client: int, deadline: float, think: float, results: dict) -> None:
    rng = random.Random(1000 + client)
    visitor = Visitor(port, f"172.16.{client // 250}.{client % 250 + 1}", results)
    status, page, _ = visitor.request("sign-in form", "GET", "/auth/login")
    username = STAFF[client % len(STAFF)]
    status, _, _ = visitor.request("sign in", "POST", "/auth/login",
                                   {"username": username, "password": PASSWORD,
                                    **hidden_fields(page)})
    if status != 302:
        results["errors"].append(f"{username} could not sign in: {status}")
        return
    references: list[str] = []
    while time.monotonic() < deadline:
        step = rng.random()
        if step < 0.15:
            visitor.request("staff home", "GET", "/home")
        elif step < 0.45:
            query = rng.choice(["", "?page=2", "?status=received", "?overdue=1",
                                "?sort=deadline", "?q=%E4%BC%81%E4%B8%9A"])
            status, page, _ = visitor.request("ticket queue", "GET", f"/tickets/{query}")
            references = REFERENCE.findall(page) or references
        elif step < 0.75 and references:
            visitor.request("ticket page", "GET", f"/tickets/{rng.choice(references)}")
        elif step < 0.87:
            visitor.request("firm list", "GET", rng.choice(["/firms/", "/firms/?page=3"]))
        elif references:
            reference = rng.choice(references)
            status, page, _ = visitor.request("ticket page", "GET", f"/tickets/{reference}")
            fields = hidden_fields(page)
            if status == 200 and "csrf_token" in fields:
                visitor.request("ticket comment", "POST", f"/tickets/{reference}/comment",
                                {"csrf_token": fields["csrf_token"],
                                 "body": f"负载测试备注 {client}", "visibility": "internal"})
        time.sleep(rng.uniform(0, think))


def _process(port: int, kind: str, first: int, count: int, deadline: float, think: float,
             queue) -> None:
    results = {"timings": defaultdict(list), "statuses": Counter(), "receipts": [],
               "errors": []}
    target = firm_client if kind == "firm" else staff_client
    threads = [threading.Thread(target=target, args=(port, first + i, deadline, think, results))
               for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    queue.put({"timings": dict(results["timings"]), "statuses": dict(results["statuses"]),
               "receipts": results["receipts"], "errors": results["errors"]})


def load(port: int, clients: int, seconds: float, think: float, per_process: int = 10) -> dict:
    firms = max(1, round(clients * 0.4))
    plan = []
    for kind, total in (("firm", firms), ("staff", clients - firms)):
        for first in range(0, total, per_process):
            plan.append((kind, first, min(per_process, total - first)))
    deadline = time.monotonic() + seconds
    queue = multiprocessing.Queue()
    processes = [multiprocessing.Process(target=_process, args=(port, kind, first, count,
                                                                deadline, think, queue))
                 for kind, first, count in plan]
    for process in processes:
        process.start()
    merged = {"timings": defaultdict(list), "statuses": Counter(), "receipts": [], "errors": []}
    for _ in processes:
        part = queue.get(timeout=seconds + 600)
        for page, values in part["timings"].items():
            merged["timings"][page].extend(values)
        merged["statuses"].update(part["statuses"])
        merged["receipts"] += part["receipts"]
        merged["errors"] += part["errors"]
    for process in processes:
        process.join()
    return merged


def loadavg() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else 0.0


def stored(url: str, receipts: list[tuple[str, str]]) -> tuple[int, int]:
    """Receipts not in the database, and titles stored more than once."""
    import sqlalchemy as sa

    engine = sa.create_engine(url)
    with engine.connect() as connection:
        rows = connection.execute(sa.text("SELECT title, access_token FROM tickets WHERE "
                                          "title LIKE '混合负载 %'")).all()
    engine.dispose()
    tokens = {row.access_token for row in rows}
    titles = Counter(row.title for row in rows)
    return (sum(1 for _, token in receipts if token not in tokens),
            sum(1 for count in titles.values() if count > 1))


def jobs_run(url: str) -> str:
    """How many scans and seals the consumer ran, by state."""
    import sqlalchemy as sa

    engine = sa.create_engine(url)
    with engine.connect() as connection:
        rows = connection.execute(sa.text(
            "SELECT kind, state, count(*) AS n FROM jobs WHERE kind IN ('sla.scan', "
            "'audit.seal') GROUP BY kind, state ORDER BY kind, state")).all()
    engine.dispose()
    return ", ".join(f"{row.kind} {row.state}: {row.n}" for row in rows) or "none"


def report(merged: dict, seconds: float, loads: list[str], lost: int, twice: int,
           verify: str) -> str:
    total = sum(merged["statuses"].values())
    errors = sum(c for k, c in merged["statuses"].items() if int(k.rsplit(" ", 1)[1]) >= 500)
    failed = sum(c for k, c in merged["statuses"].items() if k.endswith(" 0"))
    lines = [f"{total} requests in {seconds:.0f} s ({total / seconds:.1f}/s); "
             f"responses >= 500: {errors}; connection failures: {failed}; "
             f"submissions with a receipt: {len(merged['receipts'])}, lost: {lost}, "
             f"stored twice: {twice}",
             f"load average (1/5/15 min) during the run: {', '.join(loads)}",
             f"audit chain after the run: {verify.strip()}",
             "", "| page | requests | p50 ms | p95 ms | p99 ms | max ms |",
             "|---|---:|---:|---:|---:|---:|"]
    for page in sorted(merged["timings"]):
        values = merged["timings"][page]
        lines.append(f"| {page} | {len(values)} | {percentile(values, .5) * 1000:.0f} | "
                     f"{percentile(values, .95) * 1000:.0f} | "
                     f"{percentile(values, .99) * 1000:.0f} | {max(values) * 1000:.0f} |")
    lines += ["", "statuses: " + json.dumps(dict(sorted(merged["statuses"].items())),
                                            ensure_ascii=False)]
    if merged["errors"]:
        lines.append("client errors: " + "; ".join(merged["errors"][:5]))
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=600)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--think", type=float, default=2.0,
                        help="each client waits up to this many seconds between steps")
    parser.add_argument("--demo-tickets", type=int, default=300)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="ruyi-mixed-"))
    postgres = PrivatePostgres(durable=True)
    processes: list[subprocess.Popen] = []
    redis_server = None
    try:
        redis_server = PrivateRedis(folder)
        env = environment(postgres.url, redis_server.port, folder)
        started = time.monotonic()
        flask(env, "db", "upgrade")
        flask(env, "demo", "seed", "--tickets", str(args.demo_tickets))
        sealing = time.monotonic()
        sealed = flask(env, "audit", "seal").strip().splitlines()[-1]
        print(f"{sealed} in {time.monotonic() - sealing:.1f} s (the command, start-up included)")
        print(f"set up in {time.monotonic() - started:.0f} s; load average {loadavg()}",
              flush=True)
        port = _free_port()
        processes.append(start([str(BIN / "gunicorn"), "--config", str(ROOT / "gunicorn.conf.py"),
                                "--no-control-socket", "wsgi:app"],
                               dict(env, GUNICORN_BIND=f"127.0.0.1:{port}"), folder / "web.log"))
        processes.append(start([sys.executable, "-m", "flask", "jobs", "worker", "--workers", "2"],
                               env, folder / "consumer.log"))
        wait_for(port)
        loads = [loadavg()]
        sampler_stop = threading.Event()

        def sample() -> None:
            while not sampler_stop.wait(60):
                loads.append(loadavg())

        threading.Thread(target=sample, daemon=True).start()
        began = time.monotonic()
        merged = load(port, args.clients, args.seconds, args.think)
        elapsed = time.monotonic() - began
        sampler_stop.set()
        loads.append(loadavg())
        lost, twice = stored(postgres.url, merged["receipts"])
        verifying = time.monotonic()
        verify = flask(env, "audit", "verify").strip() + (
            f" (the command: {time.monotonic() - verifying:.1f} s, start-up included)")
        print(report(merged, elapsed, loads, lost, twice, verify), flush=True)
        print("periodic jobs during the run: " + jobs_run(postgres.url))
    finally:
        for process in processes:
            process.terminate()
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
        if redis_server is not None:
            redis_server.stop()
        postgres.remove()


def _free_port() -> int:
    from tests.deploy.servers import free_port

    return free_port()


if __name__ == "__main__":
    main()
