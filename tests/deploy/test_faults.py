"""Faults, on real processes: a web worker killed with SIGKILL in the middle of public
submissions, PostgreSQL restarted under load, Redis gone.

The test starts its own PostgreSQL (``initdb``/``pg_ctl`` in a temporary folder on a free
port) and its own ``redis-server``, so it may stop them; gunicorn runs with the production
settings (``gunicorn.conf.py``, two workers) and requests go straight to it with the headers
nginx sends. Each public submission comes from an address of its own (``X-Forwarded-For``), so
the per-address limits do not interfere; "a receipt" is the redirect to the request's
"received" page, whose tracking token is then looked up in the database.

What must hold: every submission that got a receipt is in the database, none twice, each with
its event and audit row (nothing half-written); while the database is down the site answers 503
with a page that says so, and it recovers by itself when the database is back (the pool's
pre-ping replaces the dead connections); with Redis down the rate limits fall back to each
worker's memory as documented and the site keeps serving.

Runs in the PostgreSQL pass (skipped on SQLite: production is PostgreSQL).
"""

from __future__ import annotations

import http.client
import itertools
import os
import re
import signal
import threading
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.deploy.private_servers import PrivatePostgres, PrivateRedis
from tests.deploy.servers import (
    FLASK,
    Browser,
    Process,
    free_port,
    gunicorn,
    hidden_fields,
    run,
    start,
    wait_until,
)

TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL", "")
pytestmark = pytest.mark.skipif(
    not TEST_DATABASE_URL.startswith("postgresql"),
    reason="the fault tests run on PostgreSQL: set TEST_DATABASE_URL (the PostgreSQL pass)")

FORM = {"firm_name": "昆山故障测试有限公司", "uscc": "91320583314159268J",
        "contact_name": "故障", "mobile": "13812345678", "email": "", "demand_type": "consult",
        "category": "", "description": "故障测试提交的诉求。", "consent": "y", "website": ""}
RECEIPT = re.compile(r"/track/([^/]+)/received")
_addresses = itertools.count(1)


@dataclass
class Stack:
    postgres: PrivatePostgres
    redis: PrivateRedis
    web: Process
    port: int
    env: dict
    database: sa.Engine
    folder: Path

    def worker_pids(self) -> list[int]:
        children = Path(f"/proc/{self.web.pid}/task/{self.web.pid}/children")
        return [int(pid) for pid in children.read_text().split()]


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    folder = tmp_path_factory.mktemp("faults")
    postgres = PrivatePostgres()
    redis_server = web = None
    database = sa.create_engine(postgres.url, poolclass=sa.pool.NullPool)
    try:
        redis_server = PrivateRedis(folder)
        env = _production_env(postgres.url, redis_server.port, folder)
        run([*FLASK, "db", "upgrade"], env)
        run([*FLASK, "calendar", "seed"], env)
        run([*FLASK, "sla", "seed-policies"], env)
        port = free_port()
        web = start("web", gunicorn(folder, "web"), dict(env, GUNICORN_BIND=f"127.0.0.1:{port}"),
                    folder)
        wait_until(lambda: _answers(port), 90, "gunicorn answers")
        yield Stack(postgres, redis_server, web, port, env, database, folder)
    except BaseException:
        if web is not None:
            print(web.output()[-8000:])
        print(postgres.log()[-3000:])
        raise
    finally:
        if web is not None:
            web.stop()
        if redis_server is not None:
            redis_server.stop()
        database.dispose()
        postgres.remove()


def _production_env(url: str, redis_port: int, folder: Path) -> dict:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("JOBS_", "RATELIMIT_", "TEST_DATABASE", "WEB_CONCURRENCY",
                                "GUNICORN_", "INSTANCE_PATH", "MAIL_", "DATABASE_"))}
    env.update(
        RUYI_ENV="production", FLASK_APP="wsgi.py", TZ="UTC",
        SECRET_KEY="faults-" + uuid.uuid4().hex, DATABASE_URL=url,
        JOBS_URL=f"redis://127.0.0.1:{redis_port}/1",
        RATELIMIT_STORAGE_URI=f"redis://127.0.0.1:{redis_port}/0",
        JOBS_NAME=f"faults{uuid.uuid4().hex[:8]}", INSTANCE_PATH=str(folder / "shared"),
        TRUSTED_PROXIES="1", WEB_CONCURRENCY="2", MAIL_BACKEND="console")
    return env


def _answers(port: int) -> bool:
    try:
        return Browser().get(port, "/auth/login").status == 200
    except OSError:
        return False


# -- a client that submits ---------------------------------------------------------------------


@dataclass
class Outcome:
    title: str
    status: int | None = None
    token: str | None = None
    error: str | None = None


@dataclass
class Tally:
    """Every answer of a run, kept by the client threads."""

    outcomes: list[Outcome] = field(default_factory=list)
    statuses: Counter = field(default_factory=Counter)
    unavailable_pages: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, outcome: Outcome, body: str = "") -> None:
        with self.lock:
            self.outcomes.append(outcome)
            self.statuses[outcome.status or "connection error"] += 1
            if outcome.status == 503 and len(self.unavailable_pages) < 3:
                self.unavailable_pages.append(body)

    def receipts(self) -> dict[str, str]:
        with self.lock:
            return {o.title: o.token for o in self.outcomes if o.token}


def submit(port: int, title: str) -> tuple[Outcome, str]:
    """One public submission as a browser makes it: the form, then the POST."""
    browser = Browser(client_address=f"10.{(n := next(_addresses)) // 65536 % 256}."
                                     f"{n // 256 % 256}.{n % 256}")
    outcome = Outcome(title)
    try:
        page = browser.get(port, "/request")
        if page.status != 200:
            outcome.status = page.status
            return outcome, page.text
        fields = dict(FORM, title=title, **hidden_fields(page.text))
        answer = browser.post(port, "/request", fields)
    except (OSError, http.client.HTTPException) as error:
        outcome.error = repr(error)
        return outcome, ""
    outcome.status = answer.status
    found = RECEIPT.search(answer.header("Location") or "")
    if answer.status == 302 and found:
        outcome.token = found.group(1)
    return outcome, answer.text


def _clients(port: int, tally: Tally, count: int, stop: threading.Event,
             per_client: int | None = None) -> list[threading.Thread]:
    run_id = uuid.uuid4().hex[:6]

    def loop(client: int) -> None:
        for n in itertools.count():
            if stop.is_set() or (per_client is not None and n >= per_client):
                return
            outcome, body = submit(port, f"故障 {run_id}-{client}-{n}")
            tally.add(outcome, body)

    threads = [threading.Thread(target=loop, args=(c,), daemon=True) for c in range(count)]
    for thread in threads:
        thread.start()
    return threads


def _stored(stack: Stack, titles: list[str]) -> dict[str, list[tuple]]:
    """The tickets of these titles with their access token, event and audit counts."""
    with stack.database.connect() as connection:
        rows = connection.execute(sa.text(
            "SELECT t.title, t.access_token, "
            " (SELECT count(*) FROM ticket_events e WHERE e.ticket_id = t.id) AS events, "
            " (SELECT count(*) FROM audit_events a WHERE a.object_type = 'tickets' "
            "   AND a.object_id = CAST(t.id AS varchar)) AS audits "
            "FROM tickets t WHERE t.title = ANY(:titles)"), {"titles": titles}).all()
    found: dict[str, list[tuple]] = {}
    for row in rows:
        found.setdefault(row.title, []).append((row.access_token, row.events, row.audits))
    return found


def _check_nothing_lost_nothing_twice(stack: Stack, tally: Tally) -> dict[str, list[tuple]]:
    titles = [o.title for o in tally.outcomes]
    stored = _stored(stack, titles)
    for title, token in tally.receipts().items():
        assert [s[0] for s in stored.get(title, [])] == [token], f"{title}: {stored.get(title)}"
    for title, tickets in stored.items():
        assert len(tickets) == 1, f"{title} stored {len(tickets)} times"
        _, events, audits = tickets[0]
        assert events >= 1 and audits >= 1, f"{title} half-written: {tickets[0]}"
    return stored


# -- (a) a worker killed in the middle of submissions ----------------------------------------


def test_a_worker_killed_mid_submission_loses_no_receipted_request(stack):
    tally, stop = Tally(), threading.Event()
    threads = _clients(stack.port, tally, count=6, stop=stop, per_client=14)
    killed = []
    for threshold in (15, 45):
        wait_until(lambda t=threshold: len(tally.outcomes) >= t, 120,
                   f"{threshold} submissions answered", every=0.02)
        victim = stack.worker_pids()[0]
        os.kill(victim, signal.SIGKILL)
        killed.append(victim)
    for thread in threads:
        thread.join(timeout=180)
    assert not any(t.is_alive() for t in threads)
    stored = _check_nothing_lost_nothing_twice(stack, tally)
    print(f"\nworkers killed {killed}; answers {dict(tally.statuses)}; "
          f"{len(tally.receipts())} receipts, {len(stored)} stored")
    assert len(tally.outcomes) == 6 * 14
    assert len(tally.receipts()) >= 6 * 14 - 12
    assert set(tally.statuses) <= {302, "connection error"}, tally.statuses
    wait_until(lambda: len(stack.worker_pids()) == 2, 60, "gunicorn replaced its workers")


# -- (b) PostgreSQL restarted under load -----------------------------------------------------


def test_postgresql_restarted_under_load_gives_503_then_recovers_by_itself(stack):
    tally, stop = Tally(), threading.Event()
    threads = _clients(stack.port, tally, count=4, stop=stop)
    try:
        wait_until(lambda: len(tally.receipts()) >= 8, 120, "submissions before the restart")
        stack.postgres.stop("fast")
        wait_until(lambda: tally.statuses[503] >= 4, 60, "503 answers while it is down",
                   every=0.05)
        down_answers = len(tally.outcomes)
        stack.postgres.start()
        before = len(tally.receipts())
        wait_until(lambda: len(tally.receipts()) >= before + 8, 120,
                   "submissions accepted again, without restarting the web server")
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=60)
    print(f"\nanswers {dict(tally.statuses)}; {down_answers} answered by the time it was "
          f"back; {len(tally.receipts())} receipts")
    assert set(tally.statuses) <= {302, 503}, tally.statuses
    page = tally.unavailable_pages[0]
    assert "temporarily unavailable" in page and "Nothing was saved" in page
    assert "Traceback" not in page
    _check_nothing_lost_nothing_twice(stack, tally)
    assert stack.web.alive()


# -- (c) Redis gone ----------------------------------------------------------------------------


def test_with_redis_down_the_site_keeps_serving_and_the_limits_fail_as_documented(stack):
    """README "Roles and security": while their store does not answer, the limits fall back to
    each worker's memory (looser by the number of workers, never a 500) and say so in the log;
    the site keeps serving — submissions too (their mail is queued for later, see below)."""
    stack.redis.stop()
    try:
        outcomes = [submit(stack.port, f"故障 redis-{uuid.uuid4().hex[:6]}-{n}")[0]
                    for n in range(4)]
        assert all(o.token for o in outcomes), outcomes
        assert Browser().get(stack.port, "/auth/login").status == 200
        same = Browser(client_address="198.51.100.77")
        statuses = []
        for _ in range(30):
            form = same.get(stack.port, "/auth/login")
            answer = same.post(stack.port, "/auth/login", {
                "csrf_token": form.csrf_token(), "username": "nobody", "password": "wrong"})
            statuses.append(answer.status)
        assert 500 not in statuses and all(s < 500 for s in statuses), statuses
        assert 429 in statuses, f"the sign-in limit still counts (per worker): {statuses}"
        assert "falling back to in-memory storage" in stack.web.output()
        _check_nothing_lost_nothing_twice(stack, _tally_of(outcomes))
    finally:
        stack.redis.start()


def _tally_of(outcomes: list[Outcome]) -> Tally:
    tally = Tally()
    for outcome in outcomes:
        tally.add(outcome)
    return tally
