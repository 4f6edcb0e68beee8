"""EXPLAIN ANALYZE of the staff queue with each filter, on a database seeded by
bench/reports_seed.py (PostgreSQL), as a unit handler and as the supervisor.

    export DATABASE_URL=postgresql+psycopg://USER@HOST/DB   # a throw-away bench database
    python bench/reports_seed.py --scale 0.5
    python bench/tickets_filters_explain.py --vary   # spread urgency, mode, demand type; 1 min
    python bench/tickets_filters_explain.py          # about 20 s
    python bench/tickets_filters_explain.py --search # searches common and rare (SEARCHES)

The seed gives every ticket the same urgency, service mode and demand type; ``--vary`` rewrites
them from the id (5 % urgent, 0.5 % critical, 10 % lifecycle, 20 % handle-now, 2 % complaints).
Units are also assigned from the id, so unit 1 then holds no urgent, lifecycle or complaint
ticket at all: those rows are the worst case, a filter that matches nothing, where the queue
walks its whole index. Each line is the page of 25 ids and the count (up to 500) in ms, the
database's own execution time (not distorted by the client).
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from datetime import date

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

VARY = """
UPDATE tickets SET
 urgency = CASE WHEN id % 200 = 0 THEN 'critical' WHEN id % 20 = 1 THEN 'urgent' ELSE 'normal' END,
 service_mode = CASE WHEN id % 10 = 3 THEN 'lifecycle' WHEN id % 5 = 2 THEN 'handle_now'
                ELSE 'standard' END,
 demand_type = CASE WHEN id % 50 = 7 THEN 'complaint' WHEN id % 3 = 0 THEN 'consult'
               ELSE 'help' END
"""


def cases(db, sa, queries) -> dict:
    filters = queries.QueueFilters
    category = db.session.scalar(sa.text("SELECT min(id) FROM ticket_categories"))
    unit = db.session.scalar(sa.text("SELECT min(id) + 1 FROM units"))
    firm = db.session.execute(sa.text("SELECT uscc, name FROM firms ORDER BY id "
                                      "LIMIT 1 OFFSET 5")).one()
    return {
        "none": filters(), "urgency=critical": filters(urgency="critical"),
        "urgency=urgent": filters(urgency="urgent"),
        "service_mode=lifecycle": filters(service_mode="lifecycle"),
        "demand_type=complaint": filters(demand_type="complaint"),
        "category": filters(category_id=category), "unit=2": filters(unit_id=unit),
        "firm=uscc": filters(firm=firm.uscc), "firm=name": filters(firm=firm.name[-8:]),
        "received 1 month": filters(received_from=date(2026, 10, 1),
                                    received_to=date(2026, 10, 31)),
        "received 1 day": filters(received_from=date(2026, 10, 8),
                                  received_to=date(2026, 10, 8)),
    }


#: (label, search text) on the seed's texts: every ticket's description is 企业反映的问题, its
#: title 诉求 <id>; only the long ticket's title holds 长时间线. Traditional spellings too.
SEARCHES = [
    ("1 char, every ticket (企)", "企"), ("1 char, one ticket (长)", "长"),
    ("2 chars, every ticket (企业)", "企业"), ("2 chars, one ticket (长时)", "长时"),
    ("2 chars Traditional, every ticket (企業)", "企業"),
    ("2 chars Traditional, one ticket (長時)", "長時"),
    ("4 chars, every ticket (企业反映)", "企业反映"),
    ("4 chars, one ticket (长时间线)", "长时间线"),
    ("title digits, 11 % (诉求 12)", "诉求 12"),
    ("title digits, 111 tickets (诉求 9999)", "诉求 9999"),
    ("reference, part (B0009999)", "B0009999"), ("no ticket (龙)", "龙"),
]


def execution_ms(db, sa, statement) -> float:
    sql = statement.compile(db.engine, compile_kwargs={"literal_binds": True})
    plan = db.session.execute(sa.text(f"EXPLAIN (ANALYZE, BUFFERS) {sql}")).scalars().all()
    return float(re.search(r"Execution Time: ([\d.]+)", plan[-1]).group(1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--vary", action="store_true", help="spread the enum columns first")
    parser.add_argument("--search", action="store_true", help="searches instead of filters")
    args = parser.parse_args()
    import sqlalchemy as sa

    from app import create_app
    from app.auth.models import User
    from app.core.clock import now_utc
    from app.extensions import db
    from app.tickets import queries

    app = create_app("development")
    with app.app_context():
        if args.vary:
            with db.engine.begin() as connection:
                connection.execute(sa.text(VARY))
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
                c.execute(sa.text("VACUUM ANALYZE tickets"))
            return
        users = {name: db.session.scalar(sa.select(User).where(User.username == username))
                 for name, username in (("handler", "bench_h1_1"),
                                        ("supervisor", "bench_supervisor"))}
        searches = {f"search {label}": queries.QueueFilters(q=text) for label, text in SEARCHES}
        for who, user in users.items():
            for name, filters in (searches if args.search else cases(db, sa, queries)).items():
                for queue in ("all", "in_progress"):
                    statement = queries.queue(user, queue, now_utc(), filters)
                    count = sa.select(sa.func.count()).select_from(
                        statement.order_by(None).limit(queries.QUEUE_COUNT_LIMIT + 1).subquery())
                    print(f"{who:10} {queue:12} {name:24} "
                          f"page {execution_ms(db, sa, statement.limit(25)):7.1f} ms  "
                          f"count {execution_ms(db, sa, count):7.1f} ms", flush=True)


if __name__ == "__main__":
    main()
