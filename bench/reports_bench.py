"""Measure the report pages against gunicorn on a seeded PostgreSQL database.

    DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/ruyi_bench \\
        python bench/reports_bench.py --month 2026-10 --requests 40

Starts gunicorn (2 workers, the app of ``bench/reports_wsgi.py``), signs in as the seeded
supervisor, then for each page sends sequential keep-alive requests and reports the median and
95th percentile latency — on localhost that is the server time — and the CPU time per request
of the gunicorn workers plus their PostgreSQL backends (read from ``/proc``; on a busy machine
the wall time grows, the CPU time does not). The bare page of the same server gives the
framework's ceiling. With ``wrk`` installed it also runs a 10-second load per
page (2 threads, 4 connections) for throughput. Finally it exports one drill-down of about
100,000 rows as XLSX and records the worker's peak resident memory (VmHWM).
"""

from __future__ import annotations

import argparse
import http.client
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import time
import urllib.parse

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from bench.reports_seed import PASSWORD, SUPERVISOR  # noqa: E402


class Client:
    """A keep-alive HTTP client with a cookie jar of one session."""

    def __init__(self, port: int):
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, body: dict | None = None):
        headers = {"Accept-Language": "zh-CN"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        data = None
        if body is not None:
            data = urllib.parse.urlencode(body)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        self.connection.request(method, path, body=data, headers=headers)
        response = self.connection.getresponse()
        payload = response.read()
        for header in response.headers.get_all("Set-Cookie") or []:
            name, _, rest = header.partition("=")
            self.cookies[name] = rest.split(";")[0]
        return response.status, payload, response.headers

    def sign_in(self, username: str = SUPERVISOR) -> Client:
        _status, page, _headers = self.request("GET", "/auth/login")
        token = re.search(rb'name="csrf_token"[^>]*value="([^"]+)"', page).group(1).decode()
        status, _page, _headers = self.request("POST", "/auth/login", {
            "csrf_token": token, "username": username, "password": PASSWORD})
        if status not in (302, 303):
            raise SystemExit(f"sign-in of {username} failed: HTTP {status}")
        return self


def cpu_seconds(pids) -> float:
    """User + system CPU time of some processes (what a request costs, whatever the load)."""
    total = 0.0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat", encoding="ascii") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def measure(client: Client, path: str, count: int, pids) -> dict:
    client.request("GET", path)  # warm the worker's caches
    times = []
    cpu_before = cpu_seconds(pids())
    for _ in range(count):
        started = time.perf_counter()
        status, _payload, _headers = client.request("GET", path)
        times.append((time.perf_counter() - started) * 1000)
        if status != 200:
            raise SystemExit(f"{path}: HTTP {status}")
    cpu = (cpu_seconds(pids()) - cpu_before) / count * 1000
    times.sort()
    return {"median": statistics.median(times), "p95": times[max(0, int(len(times) * .95) - 1)],
            "cpu": cpu}


def wrk(port: int, path: str, cookie: str) -> str | None:
    executable = shutil.which("wrk")
    if not executable:
        return None
    result = subprocess.run(  # noqa: S603 - fixed arguments, local server
        [executable, "-t2", "-c4", "-d10s", "-H", f"Cookie: {cookie}",
         f"http://127.0.0.1:{port}{path}"], capture_output=True, text=True, check=False)
    match = re.search(r"Requests/sec:\s+([\d.]+)", result.stdout)
    latency = re.search(r"Latency\s+(\S+)", result.stdout)
    return f"{match.group(1)} req/s, mean latency {latency.group(1)}" if match else None


def start_server(port: int) -> subprocess.Popen:
    """gunicorn with two workers on the bench app (rate limits off, quiet logs).

    gunicorn reads the production ``gunicorn.conf.py`` from the working directory; its
    worker recycling is turned off (``GUNICORN_MAX_REQUESTS=0``: gunicorn never restarts a
    worker for its request count): the CPU time per request is read from the processes
    found at the start, and a worker replaced mid-run would take its CPU time with it."""
    env = {**os.environ, "RUYI_ENV": "development", "RATELIMIT_ENABLED": "false",
           "LOG_LEVEL": "WARNING", "GUNICORN_MAX_REQUESTS": "0",
           # as production renders: templates read once, rendered fragments kept
           "TEMPLATES_AUTO_RELOAD": "false"}
    return subprocess.Popen(  # noqa: S603 - our own gunicorn
        [os.path.join(os.path.dirname(sys.executable), "gunicorn"), "-w", "2",
         "--no-control-socket", "--timeout", "600", "-b", f"127.0.0.1:{port}",
         "bench.reports_wsgi:app"], cwd=ROOT, env=env)


def worker_pids(master: int) -> list[int]:
    out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(master)],  # noqa: S603, S607
                         capture_output=True, text=True, check=False).stdout
    return [int(p) for p in out.split()]


def peak_rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status", encoding="ascii") as handle:
        for line in handle:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return 0.0


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=5107)
    parser.add_argument("--month", default="2026-10")
    parser.add_argument("--requests", type=int, default=40)
    parser.add_argument("--quick", action="store_true",
                        help="latency only: no wrk load and no export")
    parser.add_argument("--export-start", default="2026-09-01",
                        help="first day of the custom period whose received tickets are exported")
    parser.add_argument("--export-days", type=int, default=69,
                        help="custom period length (69 days from 09-01: about 100,000 tickets)")
    args = parser.parse_args()
    server = start_server(args.port)
    try:
        time.sleep(4)
        client = Client(args.port)
        client.sign_in()
        month = f"period=month&start={args.month}-01"
        import sqlalchemy as sa

        engine = sa.create_engine(os.environ["DATABASE_URL"])
        with engine.connect() as conn:
            unit = conn.scalar(sa.text("SELECT min(id) FROM units WHERE code LIKE 'BU%'"))
        drill = "/reports/tickets?"
        pages = {
            "bare Flask page (ceiling)": "/bench/bare",
            "month dashboard (by unit)": f"/reports/?{month}",
            "month dashboard (by handler)": f"/reports/?by=handler&{month}",
            "drill: overdue now, one unit": f"{drill}fact=open&subset=a&by=unit&key={unit}",
            "drill: handled late, one unit":
                f"{drill}fact=handling&subset=not_a&by=unit&key={unit}&{month}",
            "drill: handled on time, all": f"{drill}fact=handling&subset=a&{month}",
            "drill: acknowledged late, all": f"{drill}fact=acknowledge&subset=not_a&{month}",
            "drill: received, all": f"{drill}fact=intake&subset=all&{month}",
            "drill: received, all, page 1000":
                f"{drill}fact=intake&subset=all&{month}&page=1000",
            "drill: return requests, all": f"{drill}fact=return&subset=all&{month}",
            "drill: extensions, all": f"{drill}fact=extension&subset=all&{month}",
            "drill: bad ratings, all": f"{drill}fact=rating&subset=b&{month}",
        }
        cookie = "; ".join(f"{k}={v}" for k, v in client.cookies.items())
        print("load average before: {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
        def pids():
            """The gunicorn workers and the database backends (other than this script's)."""
            with engine.connect() as conn:
                backends = conn.scalars(sa.text(
                    "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                    "AND pid <> pg_backend_pid()")).all()
            return [*worker_pids(server.pid), *backends]

        print("| page | median ms | p95 ms | CPU ms / request | wrk (2 threads, 4 connections, "
              "10 s) |")
        print("|---|---:|---:|---:|---|")
        for name, path in pages.items():
            result = measure(client, path, args.requests, pids)
            load = "–" if args.quick else (wrk(args.port, path, cookie) or "–")
            print(f"| {name} | {result['median']:.1f} | {result['p95']:.1f} | "
                  f"{result['cpu']:.1f} | {load} |", flush=True)
        print("load average after the pages: {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
        if args.quick:
            return
        start = args.export_start
        from datetime import date, timedelta

        end = (date.fromisoformat(start) + timedelta(days=args.export_days - 1)).isoformat()
        path = (f"/reports/export/tickets.xlsx?fact=intake&subset=all&period=custom"
                f"&start={start}&end={end}")
        before = {pid: peak_rss_mb(pid) for pid in worker_pids(server.pid)}
        started = time.perf_counter()
        status, payload, headers = client.request("GET", path)
        seconds = time.perf_counter() - started
        after = {pid: peak_rss_mb(pid) for pid in worker_pids(server.pid)}
        print(f"\nXLSX export: HTTP {status}, {headers.get('X-Row-Count')} rows, "
              f"{len(payload) / 1e6:.1f} MB in {seconds:.1f} s; worker peak RSS before "
              f"{max(before.values()):.0f} MB, after {max(after.values()):.0f} MB; load average "
              "{:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)


if __name__ == "__main__":
    main()
