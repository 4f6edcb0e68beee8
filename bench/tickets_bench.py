"""Measure the staff ticket pages against gunicorn, and the SLA scan, on a seeded database.

    # PostgreSQL, 1,000,000 tickets (bench/reports_seed.py, then tickets_seed.py --extras-only)
    DATABASE_URL=postgresql+psycopg://USER@HOST/DB python bench/tickets_bench.py --requests 30
    # SQLite, 100,000 tickets (bench/tickets_seed.py --n 100000)
    DATABASE_URL=sqlite:////path/to/ruyi-tickets.db python bench/tickets_bench.py --wrk
    # the scan: a first run and a second one that finds nothing to do
    DATABASE_URL=... python bench/tickets_bench.py --scan-only

Starts gunicorn (2 sync workers, ``bench/reports_wsgi.py``: the application plus a bare page),
signs in as a handler of the long ticket's unit, the dispatcher and the supervisor, and for
each page sends sequential keep-alive requests: median and 95th percentile latency (on
localhost, the server time) and the workers' CPU time per request (from /proc, so it does not
count the time a loaded machine makes them wait). ``--wrk`` adds a 10-second wrk load per page
(2 threads, 8 connections) for requests per second; wrk runs on the same cores as the server.
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import shutil
import signal
import subprocess
import sys
import time
from urllib.parse import quote

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from bench.reports_bench import Client, measure, start_server, worker_pids  # noqa: E402
from bench.reports_seed import SUPERVISOR  # noqa: E402
from bench.tickets_seed import DISPATCHER, LONG_REFERENCE  # noqa: E402

HANDLER = "bench_h1_1"
#: (label, text): the seed's description 企业反映的问题 is in every ticket; only the long
#: ticket's title holds 长时间线.
SEARCHES = [("1 char, every ticket (企)", "企"), ("1 char, one ticket (长)", "长"),
            ("2 chars, every ticket (企业)", "企业"), ("2 chars, one ticket (长时)", "长时"),
            ("Traditional, every ticket (企業)", "企業"),
            ("Traditional, one ticket (長時)", "長時"),
            ("4 chars, every ticket (企业反映)", "企业反映"),
            ("4 chars, one ticket (长时间线)", "长时间线")]


def wrk(port: int, path: str, cookie: str) -> str:
    executable = shutil.which("wrk")
    if not executable:
        return "wrk not installed"
    result = subprocess.run(  # noqa: S603 - fixed arguments, local server
        [executable, "-t2", "-c8", "-d10s", "-H", f"Cookie: {cookie}",
         f"http://127.0.0.1:{port}{path}"], capture_output=True, text=True, check=False)
    rate = re.search(r"Requests/sec:\s+([\d.]+)", result.stdout)
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", result.stdout)
    if not rate:
        return "wrk failed"
    return f"{float(rate.group(1)):.0f} req/s" + (f" ({errors.group(1)} non-2xx)"
                                                   if errors else "")


def pages() -> list[tuple[str, str, str]]:
    """(who, label, path) of every measured page."""
    return [
        ("supervisor", "bare Flask page (ceiling)", "/bench/bare"),
        ("handler", "queue: all I may see (unit)", "/tickets/?queue=all"),
        ("handler", "queue: to acknowledge", "/tickets/?queue=to_acknowledge"),
        ("handler", "queue: in progress", "/tickets/?queue=in_progress"),
        ("handler", "queue: due soon", "/tickets/?queue=due_soon"),
        ("handler", "queue: overdue", "/tickets/?queue=overdue"),
        ("handler", "queue: all, page 20", "/tickets/?queue=all&page=20"),
        ("handler", "queue: filter in progress + overdue",
         "/tickets/?queue=all&status=in_progress&sla=overdue"),
        ("handler", "queue: search reference", f"/tickets/?queue=all&q={LONG_REFERENCE}"),
        *(("handler", f"queue: search {label}", f"/tickets/?queue=all&q={quote(text)}")
          for label, text in SEARCHES),
        ("dispatcher", "dispatcher intake", "/tickets/?queue=intake"),
        ("supervisor", "queue: all tickets (supervisor)", "/tickets/?queue=all"),
        ("supervisor", "queue: overdue (supervisor)", "/tickets/?queue=overdue"),
        ("handler", "ticket page, long timeline (500 entries)", f"/tickets/{LONG_REFERENCE}"),
        ("supervisor", "ticket page, long timeline (supervisor)", f"/tickets/{LONG_REFERENCE}"),
        ("supervisor", "ticket page, ordinary ticket", "/tickets/B000999999"),
    ]


def run_pages(args) -> None:
    server = start_server(args.port)
    try:
        time.sleep(5)
        workers = worker_pids(server.pid)
        clients = {who: Client(args.port).sign_in(username) for who, username in
                   (("handler", HANDLER), ("dispatcher", DISPATCHER), ("supervisor", SUPERVISOR))}
        print(f"load average before: {os.getloadavg()}")
        print("| page | median ms | p95 ms | worker CPU ms/request |"
              + (" wrk 2 threads, 8 connections, 10 s |" if args.wrk else ""))
        print("|---|---:|---:|---:|" + ("---:|" if args.wrk else ""))
        for who, label, path in pages():
            if path.endswith("B000999999"):
                path = path.replace("B000999999", f"B{args.ticket:09d}")
            client = clients[who]
            result = measure(client, path, args.requests, lambda: workers)
            row = (f"| {label} | {result['median']:.1f} | {result['p95']:.1f} | "
                   f"{result['cpu']:.1f} |")
            if args.wrk:
                cookie = "; ".join(f"{k}={v}" for k, v in client.cookies.items())
                row += f" {wrk(args.port, path, cookie)} |"
            print(row, flush=True)
        print(f"load average after: {os.getloadavg()}")
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)


def run_scan(label: str) -> None:
    env = {**os.environ, "FLASK_APP": "wsgi.py", "RUYI_ENV": "development",
           "LOG_LEVEL": "WARNING"}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    load = os.getloadavg()
    started = time.perf_counter()
    result = subprocess.run(  # noqa: S603 - our own command
        [sys.executable, "-m", "flask", "sla", "scan"], cwd=ROOT, env=env,
        capture_output=True, text=True, check=True)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    print(f"scan ({label}): {wall:.1f} s wall, {cpu:.1f} s CPU of the scan process, "
          f"load {load[0]:.1f}: {result.stdout.strip()}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, default=5117)
    parser.add_argument("--requests", type=int, default=30)
    parser.add_argument("--ticket", type=int, default=999_999,
                        help="id of the ordinary ticket opened (B + 9 digits)")
    parser.add_argument("--wrk", action="store_true", help="add a wrk load per page")
    parser.add_argument("--scan", action="store_true", help="also time two scans")
    parser.add_argument("--scan-only", action="store_true", help="only time two scans")
    args = parser.parse_args()
    if not args.scan_only:
        run_pages(args)
    if args.scan or args.scan_only:
        run_scan("first run")
        run_scan("second run, nothing to do")


if __name__ == "__main__":
    main()
