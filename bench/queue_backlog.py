"""A handler's queue with an intake backlog ahead: the cost of tickets the reader cannot see.

    # a copy of the bench database of bench/tickets_seed.py, then the backlog added to it
    cp ruyi-tickets.db ruyi-backlog.db
    DATABASE_URL=sqlite:////path/to/ruyi-backlog.db python bench/queue_backlog.py --add 100000
    # CPU per page in process, on each database (the least of five rounds)
    DATABASE_URL=sqlite:////path/to/ruyi-tickets.db python bench/queue_backlog.py
    DATABASE_URL=sqlite:////path/to/ruyi-backlog.db python bench/queue_backlog.py

``--add N`` inserts N submitted tickets that no unit leads yet (a campaign's requests waiting
for intake), their intake deadlines before every other deadline of the database, so they come
first in the queue order. Without ``--add`` it measures, as bench/tickets_pages_cpu.py does, the
handler ``bench_h1_1``'s queues (all, to acknowledge, in progress, due soon, overdue) and the
supervisor's (who sees the backlog: it is their work) in process CPU per request.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import sys
from datetime import UTC, datetime, timedelta

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
os.environ.setdefault("RATELIMIT_ENABLED", "false")
os.environ.setdefault("TEMPLATES_AUTO_RELOAD", "false")
os.environ.setdefault("LOG_LEVEL", "WARNING")

from bench.reports_seed import SUPERVISOR  # noqa: E402
from bench.tickets_bench import HANDLER  # noqa: E402
from bench.tickets_pages_cpu import measure, signed_in  # noqa: E402

#: The backlog's intake deadlines start here: before every deadline the seed writes.
FIRST_DUE = datetime(2024, 12, 1, tzinfo=UTC)
BATCH = 5_000

PAGES = [(HANDLER, "handler: all", "/tickets/?queue=all"),
         (HANDLER, "handler: to acknowledge", "/tickets/?queue=to_acknowledge"),
         (HANDLER, "handler: in progress", "/tickets/?queue=in_progress"),
         (HANDLER, "handler: due soon", "/tickets/?queue=due_soon"),
         (HANDLER, "handler: overdue", "/tickets/?queue=overdue"),
         (HANDLER, "handler: all, newest first", "/tickets/?queue=all&sort=newest"),
         (SUPERVISOR, "supervisor: all (sees the backlog)", "/tickets/?queue=all")]


def backlog_row(i: int) -> dict:
    from app.tickets.search import search_keys

    submitted = FIRST_DUE - timedelta(hours=4) + timedelta(seconds=i)
    reference = f"Q{i:09d}"
    return {"reference": reference,
            "access_token": hashlib.sha256(reference.encode()).hexdigest(),
            "requester_name": f"排队{i}", "requester_mobile": "13812345678", "channel": "web",
            "service_mode": "standard", "demand_type": "help", "urgency": "normal",
            "is_complex": False, "title": f"积压 {i}", "description": "活动期间的诉求",
            "status": "submitted", "intake_due_at": submitted + timedelta(hours=4),
            "due_at": submitted + timedelta(hours=4), "sla_status": "overdue",
            "submitted_at": submitted, "paused_seconds": 0, "returned_seconds": 0,
            "extension_count": 0, "extension_days": 0, "reopen_count": 0, "return_count": 0,
            "urge_count": 0, "is_supervised": False, "version": 1, "created_at": submitted,
            "updated_at": submitted} | search_keys(reference, f"积压 {i}", "活动期间的诉求",
                                                    None, f"排队{i}")


def add_backlog(n: int) -> None:
    from app import create_app
    from app.extensions import db
    from app.tickets.models import Ticket

    with create_app().app_context():
        for first in range(1, n + 1, BATCH):
            with db.engine.begin() as connection:
                connection.execute(Ticket.__table__.insert(), [
                    backlog_row(i) for i in range(first, min(first + BATCH, n + 1))])
        print(f"{n:,} submitted tickets without a unit added, due from {FIRST_DUE:%Y-%m-%d}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--add", type=int, metavar="N", help="add N backlog tickets and stop")
    parser.add_argument("--requests", type=int, default=50)
    args = parser.parse_args()
    if args.add:
        add_backlog(args.add)
        return
    from bench.reports_wsgi import app

    clients = {}
    print(f"load average before: {os.getloadavg()}")
    print("| page | CPU ms / request (least of 5) | Python calls / request |")
    print("|---|---:|---:|")
    for username, label, path in PAGES:
        client = clients.get(username) or clients.setdefault(username,
                                                             signed_in(app, username))
        cpu, calls = measure(client, path, args.requests)
        print(f"| {label} | {cpu:.2f} | {calls:,.0f} |", flush=True)
    print(f"load average after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
