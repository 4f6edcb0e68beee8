"""Seed a large firm registry quickly (default 100,000 firms) for the firm benchmarks.

Run from the repository root, against a database you can throw away:

    DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/<db> \
        .venv/bin/python -m bench.firms_seed --n 100000 [--reset]

``--reset`` drops and recreates the schema first (PostgreSQL only). The demo units and users are
seeded, then firms, contacts and tags go in with multi-row INSERTs in batches (no ORM objects),
and the tables are ANALYZEd so the planner sees the real sizes.
"""

from __future__ import annotations

import argparse
import random
import time
from datetime import date, timedelta

import sqlalchemy as sa
from flask_migrate import upgrade

from app import create_app
from app.auth.models import User
from app.core.clock import now_utc
from app.demo.cli import seed_units, seed_users
from app.extensions import db
from app.firms.demo import BRAND_CHARS, DEMO_CLASSES, GIVEN, ORIGINS, SURNAMES, _seed_classes
from app.firms.models import Area, Contact, Firm, FirmTag, TagKind, TagLevel
from app.firms.search import search_key
from app.firms.uscc import complete

BATCH = 5000


def uscc_for(n: int, prefix: str = "MA") -> str:
    """A valid, unique synthetic code: registration code 320583, a serial in the body."""
    return complete(f"91320583{prefix}{n:07d}")


def firm_rows(start: int, count: int, areas: list[int], commissioners: list[int],
              rng: random.Random) -> tuple[list[dict], list[tuple[str, str]]]:
    """``count`` firms as plain dicts, and (uscc, contact name) pairs for their contacts."""
    now = now_utc()
    rows, people = [], []
    for n in range(start, start + count):
        code, _name, word = rng.choice(DEMO_CLASSES)
        brand = "".join(rng.sample(BRAND_CHARS, 3))
        name = f"昆山{brand}{word}有限公司"
        person = rng.choice(SURNAMES) + rng.choice(GIVEN) + rng.choice(GIVEN)
        uscc = uscc_for(n)
        is_key = rng.random() < 0.15
        rows.append({
            "uscc": uscc, "name": name, "english_name": None,
            "search_key": search_key(name, uscc, None, [person]),
            "area_id": rng.choice(areas), "industry_code": code, "industry_section": code[0],
            "legal_form": "limited_liability", "capital_origin": rng.choice(ORIGINS).value,
            "address": f"昆山市前进东路{n % 999 + 1}号", "employees": rng.randint(1, 5000),
            "is_key_firm": is_key,
            "commissioner_id": rng.choice(commissioners) if is_key else None,
            "created_at": now - timedelta(seconds=n), "updated_at": now,
        })
        people.append((uscc, person))
    return rows, people


def seed(n: int, seed_value: int = 4754) -> float:
    """Insert ``n`` firms (1 contact each, a tag on every fifth); returns the seconds taken."""
    rng = random.Random(seed_value)
    seed_users(seed_units())
    _seed_classes()
    db.session.commit()
    areas = list(db.session.scalars(sa.select(Area.id)))
    commissioners = list(db.session.scalars(
        sa.select(User.id).where(User.username.in_(["handler", "lead"]))))
    already = db.session.scalar(sa.select(sa.func.count(Firm.id)))
    started = time.perf_counter()
    for offset in range(already, already + n, BATCH):
        count = min(BATCH, already + n - offset)
        rows, people = firm_rows(offset + 1, count, areas, commissioners, rng)
        ids = dict(db.session.execute(sa.insert(Firm.__table__).returning(
            Firm.__table__.c.uscc, Firm.__table__.c.id), rows).all())
        db.session.execute(sa.insert(Contact.__table__), [
            {"firm_id": ids[uscc], "name": person, "title": "总经理", "is_primary": True,
             "is_legal_representative": False,
             "mobile": f"138{rng.randint(10000000, 99999999)}", "email": None}
            for uscc, person in people])
        today = date(2026, 11, 1)
        db.session.execute(sa.insert(FirmTag.__table__), [
            {"firm_id": ids[uscc], "kind": rng.choice(list(TagKind)).value,
             "level": rng.choice(list(TagLevel)).value, "certified_on": today - timedelta(days=900),
             "valid_until": today + timedelta(days=rng.randint(-400, 400)),
             "certificate_no": f"GR2024{rng.randint(100000, 999999)}", "exchange": None,
             "ticker": None}
            for uscc, _person in people[::5]])
        db.session.commit()
        print(f"  {offset + count - already:>7} firms", flush=True)
    elapsed = time.perf_counter() - started
    if db.engine.dialect.name == "postgresql":
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM ANALYZE firms, contacts, firm_tags")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--reset", action="store_true", help="drop the schema first (PostgreSQL)")
    args = parser.parse_args()
    app = create_app("development")
    with app.app_context():
        if args.reset and db.engine.dialect.name == "postgresql":
            with db.engine.begin() as conn:
                conn.exec_driver_sql("DROP SCHEMA public CASCADE")
                conn.exec_driver_sql("CREATE SCHEMA public")
        upgrade()
        elapsed = seed(args.n)
        total = db.session.scalar(sa.select(sa.func.count(Firm.id)))
    print(f"Seeded {args.n} firms in {elapsed:.1f} s ({args.n / elapsed:,.0f}/s); "
          f"{total} firms in the database.")


if __name__ == "__main__":
    main()
