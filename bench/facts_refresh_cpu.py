"""CPU time of rewriting one ticket's stored report facts, in process.

    python bench/facts_refresh_cpu.py --database <a database prepared by bench/portal_cpu.py>

Times ``app.reports.facts.refresh`` of one replied and one not-yet-replied ticket, 200 times
each, inside one transaction that is rolled back (the database is left as it was).
"""

from __future__ import annotations

import argparse
import os
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.join(ROOT, "bench"))

from portal_load import _env  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database", required=True)
    parser.add_argument("--times", type=int, default=200)
    args = parser.parse_args()
    os.environ.update(_env(args.database))
    import sqlalchemy as sa

    from app import create_app
    from app.extensions import db
    from app.reports import facts
    from app.tickets.models import Ticket

    with create_app("development").app_context():
        replied = db.session.scalar(sa.select(Ticket.id).where(
            Ticket.replied_at.is_not(None), Ticket.dispatched_at.is_not(None)).limit(1))
        waiting = db.session.scalar(sa.select(Ticket.id).where(Ticket.replied_at.is_(None))
                                    .order_by(Ticket.id.desc()).limit(1))
        for name, ticket_id in (("replied", replied), ("not replied", waiting)):
            if ticket_id is None:
                print(f"{name}: no such ticket")
                continue
            facts.refresh(db.session(), [ticket_id])
            cpu = time.process_time()
            for _ in range(args.times):
                facts.refresh(db.session(), [ticket_id])
            spent = (time.process_time() - cpu) / args.times * 1000
            print(f"{name} ticket {ticket_id}: {spent:.2f} ms CPU per refresh")
        db.session.rollback()


if __name__ == "__main__":
    main()
