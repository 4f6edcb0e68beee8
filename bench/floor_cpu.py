"""CPU time of the per-request floor: a signed-in user's bare page, in process.

    DATABASE_URL=sqlite:////path/to/ruyi-tickets.db python bench/floor_cpu.py
    DATABASE_URL=... python bench/floor_cpu.py --profile 30     # cProfile, top 30
    # load-independent: instructions per request (valgrind's callgrind, about 50× slower)
    DATABASE_URL=... valgrind --tool=callgrind --callgrind-out-file=/dev/null \\
        python bench/floor_cpu.py --requests 0 ;  … --requests 2000   # the difference / 2000

The page is ``/bench/bare`` of ``bench/reports_wsgi.py`` requested by a signed-in handler:
it renders nothing and reads nothing itself, so what it costs is the work every signed-in
request does — the session cookie, the user, the idle timeout, the permission map, CSRF, the
locale, the security headers. The WSGI application is called directly with a prepared
environ (no HTTP server, no test client, whose own cookie handling and environ building cost
about as much as the page): CPU time over ``--requests`` requests, the least of five rounds
(the one a busy machine disturbed least).
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
os.environ.setdefault("RATELIMIT_ENABLED", "false")
os.environ.setdefault("TEMPLATES_AUTO_RELOAD", "false")
os.environ.setdefault("LOG_LEVEL", "WARNING")

from bench.tickets_bench import HANDLER  # noqa: E402
from bench.tickets_pages_cpu import signed_in  # noqa: E402


def environ_for(client, path: str) -> dict:
    """The WSGI environ of a browser's GET of ``path`` with the client's cookies."""
    from werkzeug.test import EnvironBuilder

    cookie = "; ".join(f"{c.key}={c.value}" for c in client._cookies.values())
    builder = EnvironBuilder(path=path, headers={
        "Cookie": cookie, "Accept-Language": "zh-CN,zh;q=0.9", "User-Agent": "floor-bench/1",
        "Accept": "text/html"})
    try:
        return builder.get_environ()
    finally:
        builder.close()


def call(app, environ: dict) -> int:
    """One request: the application called as gunicorn calls it, its body read."""
    status = []
    body = app(dict(environ, **{"wsgi.input": io.BytesIO()}),
               lambda s, _h, _e=None: status.append(s))
    for _chunk in body:
        pass
    if hasattr(body, "close"):
        body.close()
    return int(status[0].split()[0])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--path", default="/bench/bare")
    parser.add_argument("--profile", type=int, metavar="N",
                        help="print the top N functions by own time")
    args = parser.parse_args()
    from bench.reports_wsgi import app

    environ = environ_for(signed_in(app, HANDLER), args.path)
    for _ in range(20):
        if call(app, environ) != 200:
            raise SystemExit(f"{args.path}: not 200 for a signed-in user")
    if args.requests == 0:
        return
    rounds = []
    for _ in range(5):
        started = time.process_time()
        for _ in range(args.requests):
            call(app, environ)
        rounds.append((time.process_time() - started) / args.requests * 1000)
    print(f"load average {os.getloadavg()[0]:.1f}; {args.path} signed in: "
          f"{min(rounds):.3f} ms CPU per request (least of 5 × {args.requests}; "
          f"all: {', '.join(f'{r:.3f}' for r in rounds)})")
    if args.profile:
        profile = cProfile.Profile()
        profile.enable()
        for _ in range(args.requests):
            call(app, environ)
        profile.disable()
        stats = pstats.Stats(profile)
        print(f"Python calls per request: {stats.total_calls / args.requests:,.0f}")
        stats.sort_stats("tottime").print_stats(args.profile)


if __name__ == "__main__":
    main()
