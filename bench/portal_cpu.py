"""CPU time of one accepted public submission, in process (independent of the machine's load).

    python bench/portal_cpu.py --database sqlite:////tmp/ruyi-portal-cpu.db
    python bench/portal_cpu.py --database postgresql+psycopg://postgres@127.0.0.1:5432/<scratch>
    python bench/portal_cpu.py --database ... --profile 30     # cProfile, top 30 by own time

Builds a fresh database like ``bench/portal_load.py`` (it drops and recreates the schema of
the database given), creates the application with the load bench's settings (development
configuration, per-IP limits raised, the in-memory limiter) and posts complete requests
through the WSGI test client — the same view, forms, limiter, services and commit as under
gunicorn, without the HTTP server (gunicorn adds about 0.3 ms per request). It reports the
process CPU time per accepted submission, the SQL statements per submission, and on
PostgreSQL the CPU time of the server process that ran them (read from ``/proc``).
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
sys.path.insert(0, os.path.join(ROOT, "bench"))

from portal_load import _cpu_seconds, _env, prepare  # noqa: E402

TOKEN = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def _payload(token: str, n: int) -> dict:
    return {"csrf_token": token, "firm_name": "昆山压测有限公司", "uscc": "91320583314159268J",
            "contact_name": "压测", "mobile": "13812345678", "email": "",
            "demand_type": "consult", "category": "", "title": f"CPU {n}",
            "description": "负载测试提交的诉求。", "consent": "y", "website": ""}


def _backend_pid(db) -> int | None:
    if db.engine.dialect.name != "postgresql":
        return None
    pid = db.session.execute(db.text("SELECT pg_backend_pid()")).scalar_one()
    db.session.rollback()
    return pid


def run(args) -> None:
    os.environ.update(_env(args.database))
    from sqlalchemy import event

    from app import create_app
    from app.extensions import db

    app = create_app("development", {"TEMPLATES_AUTO_RELOAD": False})
    client = app.test_client()
    with app.app_context():
        backend = _backend_pid(db)
    token = TOKEN.search(client.get("/request").get_data(as_text=True)).group(1)
    statements = []
    for n in range(args.warmup):
        assert client.post("/request", data=_payload(token, -n - 1)).status_code == 302
    with app.app_context():
        event.listen(db.engine, "before_cursor_execute",
                     lambda *a: statements.append(a[2]))
    profiler = cProfile.Profile(time.process_time) if args.profile else None
    server_before = _cpu_seconds(backend) if backend else 0.0
    batches, started = [], time.perf_counter()
    if profiler:
        profiler.enable()
    for batch in range(args.batches):
        cpu = time.process_time()
        for n in range(args.submissions):
            response = client.post("/request", data=_payload(token, batch * 100000 + n))
            assert response.status_code == 302, response.status_code
        batches.append((time.process_time() - cpu) / args.submissions * 1000)
    if profiler:
        profiler.disable()
    wall = (time.perf_counter() - started) / args.submissions / args.batches * 1000
    count = args.submissions * args.batches
    server = (_cpu_seconds(backend) - server_before) if backend else None
    batches.sort()
    print(f"submissions: {args.batches} batches of {args.submissions}; CPU per submission: "
          f"best batch {batches[0]:.2f} ms, median {batches[len(batches) // 2]:.2f} ms "
          f"(wall {wall:.2f} ms); statements per submission {len(statements) / count:.1f}"
          + (f"; PostgreSQL server CPU per submission {server / count * 1000:.2f} ms"
             if server is not None else ""))
    if args.show_statements:
        for statement in statements[:len(statements) // count]:
            print("  ", " ".join(statement.split())[:160])
    if profiler:
        pstats.Stats(profiler).sort_stats(args.sort).print_stats(args.profile)
        if args.dump:
            profiler.dump_stats(args.dump)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", required=True)
    parser.add_argument("--submissions", type=int, default=200, help="per batch")
    parser.add_argument("--batches", type=int, default=10)
    parser.add_argument("--warmup", type=int, default=200)
    parser.add_argument("--profile", type=int, default=0, help="print the top N functions")
    parser.add_argument("--sort", default="tottime", help="cProfile sort key (tottime, cumtime)")
    parser.add_argument("--show-statements", action="store_true")
    parser.add_argument("--dump", help="write the cProfile data to this file")
    parser.add_argument("--skip-prepare", action="store_true")
    args = parser.parse_args()
    if not args.skip_prepare:
        prepare(args.database)
    run(args)


if __name__ == "__main__":
    main()
