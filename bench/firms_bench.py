"""Firm registry at scale: list/search page server time, and a 100,000-row XLSX import.

Run from the repository root after ``bench.firms_seed`` filled the same database:

    DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/<db> \
        .venv/bin/python -m bench.firms_bench [--repeats 30] [--rows 100000] [--skip-import]

List pages are requested in-process through the WSGI stack (routing, sign-in check, queries,
template rendering), signed in as the demo dispatcher; the figure is the median server time
per page, and the SQL statements per page are counted. The import runs ``flask firms import``
in a child process on a generated XLSX file and reports wall time and the child's peak RSS,
for a small and a large file, so that memory growth with file size is visible.
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile

import sqlalchemy as sa
from openpyxl import Workbook
from sqlalchemy import event

from app import create_app
from app.auth.models import User
from app.core import clock
from app.extensions import db
from app.firms.demo import BRAND_CHARS, DEMO_CLASSES
from app.firms.importer import COLUMNS
from bench.firms_seed import uscc_for

PAGES = [
    ("list, default order", "/firms/"),
    ("list, page 2000", "/firms/?page=2000"),
    ("sort by employees", "/firms/?sort=-employees"),
    ("sort by employees, page 2000", "/firms/?sort=-employees&page=2000"),
    ("search, Traditional 2 chars", "/firms/?q=電子"),
    ("search, Traditional name part", "/firms/?q=鼎鑫電子"),
    ("search, rare name part", "/firms/?q=瑞泰铭"),
    ("search, USCC fragment", "/firms/?q=MA00123"),
    ("search, contact name", "/firms/?q=王伟"),
    ("filters: area+section+Taiwan", "/firms/?area=1&section=C&origin=taiwan"),
    ("filters: key firms+tag", "/firms/?key=yes&tag=high_tech"),
    ("filter: Taiwan-invested", "/firms/?origin=taiwan"),
    ("filter: high-tech tag", "/firms/?tag=high_tech"),
    ("filters: Taiwan, page 200", "/firms/?origin=taiwan&page=200"),
    ("search 電子 + Taiwan", "/firms/?q=電子&origin=taiwan"),
]


class Counter:
    """Counts statements and the wall time spent waiting for them."""

    def __init__(self):
        self.count, self.seconds, self._started = 0, 0.0, 0.0

    def before(self, *args, **kwargs):
        self.count += 1
        self._started = time.perf_counter()

    def after(self, *args, **kwargs):
        self.seconds += time.perf_counter() - self._started


def time_pages(app, repeats: int) -> list[tuple]:
    """(label, median ms, p90 ms, median CPU ms, median SQL ms, queries) per page.

    CPU is this process's own CPU time for the request (rendering, ORM, forms): on a shared,
    busy machine it shows what the page costs apart from waiting for a CPU.
    """
    results = []
    with app.app_context():
        user = db.session.scalar(sa.select(User).where(User.username == "dispatcher"))
        client = app.test_client()
        with client.session_transaction() as session:
            session["_user_id"] = user.get_id()
            session["_fresh"] = True
        counter = Counter()
        event.listen(db.engine, "before_cursor_execute", counter.before)
        event.listen(db.engine, "after_cursor_execute", counter.after)
        for label, path in PAGES:
            times, cpu, sql = [], [], []
            for attempt in range(repeats + 2):
                with client.session_transaction() as session:
                    session["signed_in_at"] = session["seen_at"] = clock.now_utc().timestamp()
                counter.count, counter.seconds = 0, 0.0
                started, cpu_started = time.perf_counter(), time.process_time()
                response = client.get(path)
                elapsed = (time.perf_counter() - started) * 1000
                assert response.status_code == 200, (path, response.status_code)
                if attempt >= 2:  # the first two warm caches
                    times.append(elapsed)
                    cpu.append((time.process_time() - cpu_started) * 1000)
                    sql.append(counter.seconds * 1000)
            times.sort()
            results.append((label, statistics.median(times), times[int(len(times) * 0.9) - 1],
                            statistics.median(cpu), statistics.median(sql), counter.count))
        event.remove(db.engine, "before_cursor_execute", counter.before)
        event.remove(db.engine, "after_cursor_execute", counter.after)
    return results


def explain_pages(app) -> list[tuple[str, float, float]]:
    """(label, sum of PostgreSQL execution times in ms, slowest statement ms) per page.

    Each statement a page sends is run again under ``EXPLAIN (ANALYZE)``: the server's own
    execution time, without the time spent waiting for a CPU or for the network.
    """
    statements: list[tuple[str, object]] = []

    def capture(_conn, _cursor, statement, parameters, _context, _many):
        if statement.lstrip().upper().startswith("SELECT"):
            statements.append((statement, parameters))

    results = []
    with app.app_context():
        user = db.session.scalar(sa.select(User).where(User.username == "dispatcher"))
        client = app.test_client()
        with client.session_transaction() as session:
            session["_user_id"] = user.get_id()
            session["_fresh"] = True
        for label, path in PAGES:
            with client.session_transaction() as session:
                session["signed_in_at"] = session["seen_at"] = clock.now_utc().timestamp()
            statements.clear()
            event.listen(db.engine, "before_cursor_execute", capture)
            client.get(path)
            event.remove(db.engine, "before_cursor_execute", capture)
            times = []
            with db.engine.connect() as conn:
                cursor = conn.connection.driver_connection.cursor()
                for statement, parameters in statements:
                    for _ in range(3):  # two warm-up runs, then the measured one
                        cursor.execute("EXPLAIN (ANALYZE, FORMAT JSON) " + statement, parameters)
                    plan = cursor.fetchone()[0][0]
                    times.append(plan["Execution Time"] + plan["Planning Time"])
            results.append((label, sum(times), max(times)))
    return results


def write_import_file(path: str, rows: int, serial_start: int) -> float:
    """An XLSX file of ``rows`` new firms (write-only mode); returns its size in MB."""
    rng = random.Random(rows)
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("企业")
    sheet.append([c.header for c in COLUMNS])
    areas = ["昆山开发区", "昆山高新区", "花桥经济开发区", "张浦镇", "周市镇", "周庄镇"]
    for n in range(serial_start, serial_start + rows):
        code, _name, word = rng.choice(DEMO_CLASSES)
        brand = "".join(rng.sample(BRAND_CHARS, 3))
        sheet.append([uscc_for(n, "MB"), f"昆山{brand}{word}{n}有限公司",
                      "", rng.choice(areas), code, "有限责任公司",
                      rng.choice(["内资", "台资", "外资"]), f"昆山市章基路{n % 900 + 1}号",
                      rng.randint(1, 3000), "否", "", f"联系人{n % 977}", "经理",
                      f"139{n % 100000000:08d}", ""])
    workbook.save(path)
    _add_dimension(path, f"A1:{chr(ord('A') + len(COLUMNS) - 1)}{rows + 1}")
    return os.path.getsize(path) / 1024 / 1024


def _add_dimension(path: str, ref: str) -> None:
    """Record the sheet's size as Excel does (write-only openpyxl leaves it out), so that the
    reader is not made to scan the whole sheet once just to learn it."""
    with zipfile.ZipFile(path) as source:
        entries = [(info, source.read(info)) for info in source.infolist()]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as target:
        for info, data in entries:
            if info.filename == "xl/worksheets/sheet1.xml" and b"<dimension" not in data:
                # The schema puts <dimension> right before these elements.
                at = min(i for tag in (b"<sheetViews", b"<sheetFormatPr", b"<cols", b"<sheetData")
                         if (i := data.find(tag)) >= 0)
                data = data[:at] + f'<dimension ref="{ref}"/>'.encode() + data[at:]
            target.writestr(info, data)


def run_import(path: str, extra: list[str]) -> tuple[float, float, float, str]:
    """Wall seconds, the child's CPU seconds and peak RSS in MB, and its summary line.

    The peak is the child's own high-water mark (``VmHWM``): ``ru_maxrss`` would also count
    this parent's memory, which the child inherits across fork and exec on Linux.
    """
    env = dict(os.environ, FLASK_APP="wsgi.py", LOG_LEVEL="WARNING",
               FIRM_IMPORT_MAX_BYTES=str(200 * 1024 * 1024))
    code = ("import resource, sys; from flask.cli import main; sys.argv=['flask', 'firms', "
            f"'import', {path!r}, *{extra!r}]\n"
            "try:\n    main()\nfinally:\n"
            "    usage = resource.getrusage(resource.RUSAGE_SELF)\n"
            "    peak = next(line.split()[1] for line in open('/proc/self/status')\n"
            "                if line.startswith('VmHWM'))\n"
            "    print('PEAK_RSS_KB', peak, usage.ru_utime + usage.ru_stime)")
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", code], env=env,  # noqa: S603 - our own code
                          capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    lines = [line for line in done.stdout.splitlines() if line.strip()]
    usage = next(line.split() for line in lines if line.startswith("PEAK_RSS_KB"))
    summary = next((line for line in lines if "rows:" in line), done.stderr[-300:])
    return elapsed, float(usage[2]), int(usage[1]) / 1024, summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=30)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--skip-import", action="store_true")
    parser.add_argument("--skip-pages", action="store_true",
                        help="only the imports (the database needs no seeded firms or users)")
    parser.add_argument("--explain", action="store_true",
                        help="also report PostgreSQL's own execution time per page")
    args = parser.parse_args()
    app = create_app("development", {"RATELIMIT_ENABLED": False,
                                     "TEMPLATES_AUTO_RELOAD": False})
    with app.app_context():
        firms = db.session.execute(sa.text("SELECT count(*) FROM firms")).scalar()
        print(f"Database: {db.engine.url.render_as_string(hide_password=True)}; {firms} firms")
    print(f"load average before: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    if not args.skip_pages:
        print_pages(app, args)
    if args.skip_import:
        return
    print_imports(args)


def print_pages(app, args) -> None:
    print(f"{'page':<32} {'median ms':>10} {'p90 ms':>8} {'CPU ms':>7} {'SQL ms':>7} "
          f"{'queries':>8}")
    for label, median, p90, cpu, sql, queries in time_pages(app, args.repeats):
        print(f"{label:<32} {median:>10.1f} {p90:>8.1f} {cpu:>7.1f} {sql:>7.1f} {queries:>8}")
    print(f"load average after: {os.getloadavg()[0]:.1f}")
    if args.explain:
        print(f"{'page':<32} {'server ms (sum)':>16} {'slowest':>8}")
        for label, total, slowest in explain_pages(app):
            print(f"{label:<32} {total:>16.1f} {slowest:>8.1f}")


def print_imports(args) -> None:
    with tempfile.TemporaryDirectory() as folder:
        small, large = os.path.join(folder, "small.xlsx"), os.path.join(folder, "large.xlsx")
        sizes = (write_import_file(small, args.rows // 10, 1),
                 write_import_file(large, args.rows, 1_000_000))
        for label, path, size, extra in (
                (f"import {args.rows // 10} rows", small, sizes[0], []),
                (f"import {args.rows} rows", large, sizes[1], []),
                (f"re-import {args.rows} rows (unchanged)", large, sizes[1], []),
                (f"dry run {args.rows} rows", large, sizes[1], ["--dry-run"])):
            elapsed, cpu, peak, summary = run_import(path, extra)
            print(f"{label:<36} {size:5.1f} MB file  {elapsed:6.1f} s wall  {cpu:6.1f} s CPU"
                  f"  peak RSS {peak:6.0f} MB  | {summary}", flush=True)
    own_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
    print(f"(bench process peak RSS {own_peak} MB)")


if __name__ == "__main__":
    main()
