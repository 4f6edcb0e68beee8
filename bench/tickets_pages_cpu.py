"""CPU time and Python calls per staff ticket page, in process (steadier than wall time on a
shared machine).

    # on the database of bench/tickets_seed.py (SQLite, 100,000 tickets)
    DATABASE_URL=sqlite:////path/to/ruyi-tickets.db python bench/tickets_pages_cpu.py
    DATABASE_URL=... python bench/tickets_pages_cpu.py --profile 30 queue   # cProfile, top 30

Creates the application as ``bench/tickets_bench.py``'s gunicorn workers do
(``bench/reports_wsgi.py``, development configuration with templates read once and rendered
fragments kept as in production, rate limits off), signs in the same users through the
sign-in form and requests each page through the WSGI test client: the same
middleware, views, queries and templates, without the HTTP server (gunicorn adds about
0.3 ms). For each page it reports the least process CPU time per request over five rounds of
``--requests`` requests (the least is the one a busy machine disturbed least) and the Python
function calls per request counted by cProfile, which do not depend on the load at all.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import re
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
os.environ.setdefault("RATELIMIT_ENABLED", "false")
# as production renders: templates read once, rendered fragments kept (app/core/caches.py)
os.environ.setdefault("TEMPLATES_AUTO_RELOAD", "false")
os.environ.setdefault("LOG_LEVEL", "WARNING")

from bench.reports_seed import PASSWORD, SUPERVISOR  # noqa: E402
from bench.tickets_bench import HANDLER  # noqa: E402
from bench.tickets_seed import LONG_REFERENCE  # noqa: E402

TOKEN = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')

#: name → (user, label, path); the pages of bench/tickets_bench.py without the searches.
PAGES = {
    "bare": (HANDLER, "bare Flask page (ceiling)", "/bench/bare"),
    "queue": (HANDLER, "queue: all I may see (unit)", "/tickets/?queue=all"),
    "filtered": (HANDLER, "queue: filter in progress + overdue",
                 "/tickets/?queue=all&status=in_progress&sla=overdue"),
    "supervisor": (SUPERVISOR, "queue: all tickets (supervisor)", "/tickets/?queue=all"),
    "long": (HANDLER, "ticket page, long timeline", f"/tickets/{LONG_REFERENCE}"),
    "long-supervisor": (SUPERVISOR, "ticket page, long timeline (supervisor)",
                        f"/tickets/{LONG_REFERENCE}"),
    "ordinary": (SUPERVISOR, "ticket page, ordinary ticket", "/tickets/B{ticket:09d}"),
}


def signed_in(app, username: str):
    client = app.test_client()
    token = TOKEN.search(client.get("/auth/login").get_data(as_text=True)).group(1)
    response = client.post("/auth/login", data={"username": username, "password": PASSWORD,
                                                "csrf_token": token})
    if response.status_code != 302:
        raise SystemExit(f"could not sign in {username}: HTTP {response.status_code}")
    return client


def measure(client, path: str, requests: int) -> tuple[float, float]:
    """(least CPU ms per request over five rounds, Python calls per request)."""
    headers = {"Accept-Language": "zh-CN"}
    for _ in range(3):
        if client.get(path, headers=headers).status_code != 200:
            raise SystemExit(f"{path}: not 200")
    rounds = []
    for _ in range(5):
        started = time.process_time()
        for _ in range(requests):
            client.get(path, headers=headers)
        rounds.append((time.process_time() - started) / requests * 1000)
    profile = cProfile.Profile()
    profile.enable()
    for _ in range(requests):
        client.get(path, headers=headers)
    profile.disable()
    return min(rounds), pstats.Stats(profile).total_calls / requests


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("pages", nargs="*", help=f"some of {', '.join(PAGES)} (default all)")
    parser.add_argument("--requests", type=int, default=20)
    parser.add_argument("--ticket", type=int, default=99_999,
                        help="id of the ordinary ticket opened (B + 9 digits)")
    parser.add_argument("--profile", type=int, metavar="N",
                        help="print the top N functions by own time for each page")
    args = parser.parse_args()
    unknown = set(args.pages) - set(PAGES)
    if unknown:
        parser.error(f"unknown pages: {', '.join(sorted(unknown))}")
    from bench.reports_wsgi import app

    clients = {}
    print(f"load average before: {os.getloadavg()}")
    print("| page | CPU ms / request (least of 5) | Python calls / request |")
    print("|---|---:|---:|")
    for name in args.pages or PAGES:
        username, label, path = PAGES[name]
        path = path.format(ticket=args.ticket)
        client = clients.get(username) or clients.setdefault(username,
                                                             signed_in(app, username))
        cpu, calls = measure(client, path, args.requests)
        print(f"| {label} | {cpu:.1f} | {calls:,.0f} |", flush=True)
        if args.profile:
            profile = cProfile.Profile()
            profile.enable()
            for _ in range(args.requests):
                client.get(path)
            profile.disable()
            pstats.Stats(profile).sort_stats("tottime").print_stats(args.profile)
    print(f"load average after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
