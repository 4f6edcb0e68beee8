"""Several machines, on one: two web servers and two job consumers over one PostgreSQL
database and one Redis, as README "Production deployment" sets them up.

The servers are real: two gunicorn instances in the production configuration (two workers
each) on loopback ports, two ``flask jobs worker`` consumers, a fresh PostgreSQL database made
for the run on ``TEST_DATABASE_URL``'s server (dropped afterwards), and a private
``redis-server`` started with ``deploy/redis/ruyi-jobs.conf`` in a temporary folder on a free
port. Requests go straight to gunicorn with the headers nginx sends (``X-Forwarded-For``,
``X-Forwarded-Proto``, the public host).

It shows that a session signed in through one web server works on the other; that the
sign-in rate limit counts across both; that the SLA scan runs once per period with both
schedulers alive; and that killing a consumer with SIGKILL in the middle of a job loses no
job: the other consumer's sweep queues it again and runs it to the end.

Waits are bounded polls on what the servers write (database rows, Redis, their logs); every
process is stopped by its own pid (or its own process group) when the module ends, whatever
happened. It runs in the PostgreSQL pass (on SQLite it is skipped: production is PostgreSQL).
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import pytest
import redis
import sqlalchemy as sa

from tests.deploy.servers import (
    FLASK,
    ROOT,
    Browser,
    Process,
    free_port,
    gunicorn,
    run,
    start,
    wait_until,
)

TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL", "")
pytestmark = pytest.mark.skipif(
    not TEST_DATABASE_URL.startswith("postgresql"),
    reason="the several-machine set-up runs on PostgreSQL: set TEST_DATABASE_URL "
           "(it runs in the PostgreSQL pass of `make test`)")

ADMIN, PASSWORD, NEW_PASSWORD = "admin", "Multi#Instance2026", "Changed#Instance2026"
#: A job whose consumer has been silent this long is taken as interrupted (production: 300).
STALE_SECONDS = 10
#: The sweep runs once a minute on each consumer: one sweep after the job went stale, and some.
RECOVERY_SECONDS = STALE_SECONDS + 60 + 60


@dataclass
class Cluster:
    web: list[int]
    consumers: list[Process]
    servers: list[Process]
    database: sa.Engine
    store: redis.Redis
    env: dict
    folder: Path

    def logs(self) -> str:
        return "\n".join(f"===== {p.name}\n{p.output()[-6000:]}" for p in self.servers)

    def job(self, job_id: int) -> dict:
        with self.database.connect() as connection:
            return dict(connection.execute(sa.text(
                "SELECT state, attempts, result, error FROM jobs WHERE id = :id"),
                {"id": job_id}).mappings().one())


def _redis_binary() -> str:
    binary = shutil.which("redis-server")
    if binary:
        return binary
    if os.environ.get("CI") == "true":
        pytest.fail("redis-server is needed by the several-machine test in CI")
    pytest.skip("redis-server is not installed")


@pytest.fixture(scope="module")
def postgres_database():
    """A fresh database on the test server, dropped at the end (its connections too)."""
    url = sa.make_url(TEST_DATABASE_URL)
    name = f"ruyi_multi_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(url, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
    with admin.connect() as connection:
        connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        yield url.set(database=name)
    finally:
        with admin.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


@pytest.fixture(scope="module")
def cluster(postgres_database, tmp_path_factory):
    folder = tmp_path_factory.mktemp("cluster")
    servers: list[Process] = []
    redis_port = free_port()
    (folder / "redis.conf").write_text(
        f"include {ROOT / 'deploy' / 'redis' / 'ruyi-jobs.conf'}\nport {redis_port}\n"
        f"bind 127.0.0.1\ndir {folder}\ndaemonize no\n")
    database = sa.create_engine(postgres_database, poolclass=sa.pool.NullPool)
    try:
        servers.append(start("redis", [_redis_binary(), str(folder / "redis.conf")],
                             dict(os.environ), folder))
        store = redis.Redis(port=redis_port, db=1, socket_connect_timeout=1)  # JOBS_URL's
        wait_until(lambda: _pings(store), 30, "the private redis-server answers")
        env = _production_env(postgres_database, redis_port, folder)
        started = time.monotonic()
        run([*FLASK, "db", "upgrade"], env)
        run([*FLASK, "users", "create-admin", "--username", ADMIN, "--password", PASSWORD],
            env)
        web = [free_port(), free_port()]
        for n, port in enumerate(web):
            servers.append(start(f"web-{'ab'[n]}", gunicorn(folder, f"web-{n}"),
                                 dict(env, GUNICORN_BIND=f"127.0.0.1:{port}"), folder))
        consumers = [start(f"consumer-{'ab'[n]}",
                           [*FLASK, "--app", "tests.deploy.cluster_jobs", "jobs", "worker",
                            "--workers", "2"], env, folder) for n in range(2)]
        servers += consumers
        ready = Cluster(web, consumers, servers, database, store, env, folder)
        for port in web:
            wait_until(lambda port=port: _answers(port), 90, f"gunicorn on {port} answers")
        for consumer in consumers:
            wait_until(lambda c=consumer: "Huey consumer started" in c.output(), 90,
                       f"{consumer.name} starts")
        print(f"\ncluster ready in {time.monotonic() - started:.1f} s")
        yield ready
        for process in servers:
            assert process.alive() or process in consumers, f"{process.name} stopped"
    except BaseException:
        print("\n".join(f"===== {p.name}\n{p.output()[-6000:]}" for p in servers))
        raise
    finally:
        for process in reversed(servers):
            process.stop(signal.SIGINT if process.name.startswith("consumer") else
                         signal.SIGTERM, timeout=20)
        database.dispose()


def _production_env(url: sa.URL, redis_port: int, folder: Path) -> dict:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("JOBS_", "RATELIMIT_", "TEST_DATABASE", "WEB_CONCURRENCY",
                                "GUNICORN_", "INSTANCE_PATH", "MAIL_"))}
    env.update(
        RUYI_ENV="production", FLASK_APP="wsgi.py", TZ="UTC",
        SECRET_KEY="several-machines-" + uuid.uuid4().hex,
        DATABASE_URL=url.render_as_string(hide_password=False),
        JOBS_URL=f"redis://127.0.0.1:{redis_port}/1",
        RATELIMIT_STORAGE_URI=f"redis://127.0.0.1:{redis_port}/0",
        JOBS_NAME=f"multi{uuid.uuid4().hex[:8]}", INSTANCE_PATH=str(folder / "shared"),
        TRUSTED_PROXIES="1", WEB_CONCURRENCY="2", MAIL_BACKEND="console",
        JOBS_STALE_SECONDS=str(STALE_SECONDS),
        JOBS_SCHEDULES="sla.scan=* * * * *;reports.send_weekly=off;"
                       "sla.calendar_warning=off;jobs.cleanup=off")
    return env


def _pings(store) -> bool:
    try:
        return store.ping()
    except redis.RedisError:
        return False


def _answers(port: int) -> bool:
    try:
        return Browser().get(port, "/auth/login").status == 200
    except OSError:
        return False


def _signed_in(response) -> bool:
    return response.status == 200 and 'action="/auth/logout"' in response.text


# -- (a) sessions ----------------------------------------------------------------------------

def test_a_session_signed_in_on_one_web_server_works_on_the_other(cluster):
    a, b = cluster.web
    browser = Browser(client_address="198.51.100.10")
    form = browser.get(a, "/auth/login")
    assert not _signed_in(browser.get(b, "/admin/jobs/"))
    signed = browser.post(b, "/auth/login", {"csrf_token": form.csrf_token(),
                                             "username": ADMIN, "password": PASSWORD})
    assert signed.status == 302, signed.text[:500]
    assert _signed_in(browser.get(a, "/admin/jobs/"))
    assert _signed_in(browser.get(b, "/admin/jobs/"))

    # A password change through one server ends the old session on every server: the
    # session names the user's token, kept in the shared database.
    old = dict(browser.cookies)
    page = browser.get(a, "/auth/password")
    changed = browser.post(a, "/auth/password", {
        "csrf_token": page.csrf_token(), "current_password": PASSWORD,
        "new_password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert changed.status == 302, changed.text[:500]
    assert _signed_in(browser.get(b, "/admin/jobs/"))
    stale = Browser(client_address="198.51.100.10", cookies=old)
    assert not _signed_in(stale.get(b, "/admin/jobs/"))


# -- (b) rate limits -------------------------------------------------------------------------

def test_the_sign_in_limit_counts_across_both_web_servers(cluster):
    """10 sign-in attempts a minute per client address (RATELIMIT_LOGIN): alternating between
    the servers (two workers each), the eleventh is refused on either; another address is
    not."""
    a, b = cluster.web
    browser = Browser(client_address="198.51.100.20")
    token = browser.get(a, "/auth/login").csrf_token()
    attempt = {"csrf_token": token, "username": "nobody", "password": "Wrong#Password1"}
    codes = [browser.post((a, b)[n % 2], "/auth/login", attempt).status for n in range(11)]
    assert codes == [200] * 10 + [429]
    assert browser.post(a, "/auth/login", attempt).status == 429
    other = Browser(client_address="198.51.100.21")
    other_token = other.get(b, "/auth/login").csrf_token()
    assert other.post(a, "/auth/login", dict(attempt, csrf_token=other_token)).status == 200


# -- (d) schedules ---------------------------------------------------------------------------

LOG_TIME = r"^(\d{4}-\d\d-\d\d \d\d:\d\d):\d\d,\d+ "


def _schedule_lines(text: str, pattern: str) -> list[re.Match]:
    return list(re.finditer(LOG_TIME + r".*" + pattern, text, re.M))


def _periods_asked_by_both(cluster: Cluster) -> dict[str, int]:
    """Periods (``sla.scan@…``) whose job one tick created and another tick found taken,
    both schedulers having asked in that minute, and whose job succeeded: key → job id."""
    logs = [c.output() for c in cluster.consumers]
    asked = [{m.group(1) for m in _schedule_lines(text, r"Enqueueing periodic task "
                                                        r"[^\n]*schedule\.sla\.scan")}
             for text in logs]
    both = asked[0] & asked[1]
    created = {m.group(2): int(m.group(1)) for text in logs for m in re.finditer(
        r"schedule sla\.scan: job (\d+) for (sla\.scan@\S+)", text)}
    taken = {m.group(1) for text in logs
             for m in re.finditer(r"schedule sla\.scan: (sla\.scan@\S+) already asked", text)}
    found = {}
    for key, job_id in created.items():
        minute = datetime.strptime(key.split("@")[1], "%Y-%m-%dT%H:%MZ")
        if key in taken and {f"{minute:%Y-%m-%d %H:%M}",
                             f"{minute - timedelta(minutes=1):%Y-%m-%d %H:%M}"} & both \
                and cluster.job(job_id)["state"] == "succeeded":
            found[key] = job_id
    return found


def test_the_scan_runs_once_per_period_with_two_schedulers_alive(cluster):
    """``sla.scan`` every minute (``JOBS_SCHEDULES``): each consumer's scheduler sends a tick
    in a period, the first tick creates the period's job, the other finds it taken."""
    found = wait_until(lambda: _periods_asked_by_both(cluster), 150,
                       "a period in which both schedulers asked for the scan")
    with cluster.database.connect() as connection:
        rows = connection.execute(sa.text(
            "SELECT period_key, count(*), min(state), max(attempts) FROM jobs "
            "WHERE kind = 'sla.scan' GROUP BY period_key")).all()
    assert rows and all(count == 1 for _key, count, _state, _attempts in rows)
    assert all(key is not None for key, *_ in rows)  # only the schedules asked for it
    for key, job_id in found.items():
        assert cluster.job(job_id)["attempts"] == 1, key


# -- (e) a consumer killed mid-job -----------------------------------------------------------

def test_killing_a_consumer_mid_job_loses_no_job(cluster):
    gate = f"gate-{uuid.uuid4().hex[:8]}"
    consumer_env = dict(cluster.env, FLASK_APP="tests.deploy.cluster_jobs")
    asked = run([*FLASK, "jobs", "enqueue", "tests.hold", "-p", f"gate={gate}"], consumer_env)
    job_id = int(re.search(r"Job (\d+)", asked.stdout).group(1))

    first = wait_until(lambda: cluster.store.lrange(f"{gate}.started", 0, -1), 60,
                       "a consumer starts the held job")
    attempt, pid = first[0].decode().split(":")
    victim = next(c for c in cluster.consumers if c.pid == int(pid))
    survivor = next(c for c in cluster.consumers if c is not victim)
    killed_at = time.monotonic()
    victim.popen.send_signal(signal.SIGKILL)
    assert victim.popen.wait(timeout=30) == -signal.SIGKILL
    assert cluster.job(job_id)["state"] == "running"  # as the dead consumer left it
    cluster.store.rpush(f"{gate}.open", b"go")

    done = wait_until(lambda: cluster.job(job_id)["state"] in ("succeeded", "failed")
                      and cluster.job(job_id), RECOVERY_SECONDS,
                      "the other consumer's sweep queues the job again and runs it")
    print(f"\njob {job_id} finished {time.monotonic() - killed_at:.1f} s after the kill")
    assert attempt == "1"
    assert done["state"] == "succeeded", done
    assert done["attempts"] == 2
    assert done["result"] == {"ran": f"2:{survivor.pid}"}
    assert [w.decode() for w in cluster.store.lrange(f"{gate}.started", 0, -1)] == [
        f"1:{victim.pid}", f"2:{survivor.pid}"]
    assert re.search(r"job sweep: \{[^}]*'requeued': 1", survivor.output())
