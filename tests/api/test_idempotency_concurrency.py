"""Concurrent duplicates: a bridge that times out and retries at once sends the same create
twice in parallel. Both get the one ticket: the key's unique row makes the second wait for the
first (PostgreSQL: on the unique index; SQLite: on the write lock) and replay its answer.

These tests need real concurrent connections on committed data, so they run on a database of
their own: a SQLite file, or a PostgreSQL database beside the suite's, dropped afterwards."""

from __future__ import annotations

import os
import threading
import uuid
from datetime import timedelta

import pytest
import sqlalchemy as sa
from flask_migrate import upgrade

from app import create_app
from app.extensions import db as _db

WORKERS = 6


@pytest.fixture
def live_app(tmp_path, app):
    url = os.environ.get("TEST_DATABASE_URL") or f"sqlite:///{tmp_path / 'live.db'}"
    server = sa.make_url(url) if url.startswith("postgresql") else None
    if server is not None:
        name = f"{server.database}_live_{uuid.uuid4().hex[:8]}"
        _server_command(server, f'CREATE DATABASE "{name}"')
        url = server.set(database=name).render_as_string(hide_password=False)
    overrides = {"SQLALCHEMY_DATABASE_URI": url}
    tested_session = _db.session
    _db.session = _db._make_scoped_session({})  # this app's own sessions, not the test's
    live = create_app("testing", overrides)
    try:
        with live.app_context():
            upgrade()
            _seed()
        yield live
    finally:
        with live.app_context():
            _db.session.remove()
            _db.engine.dispose()
        _db.session = tested_session
        if server is not None:
            _server_command(server, f'DROP DATABASE "{name}"')
        from app.jobs import engine

        engine.init_app(app)  # the job engine back to the suite's application


def _server_command(server: sa.URL, command: str) -> None:
    """Run a command outside any transaction (CREATE / DROP DATABASE)."""
    engine = sa.create_engine(server, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            connection.exec_driver_sql(command)
    finally:
        engine.dispose()


def _seed():
    from app.api import services
    from app.core.clock import now_utc
    from app.core.permissions import Role
    from app.sla import services as sla
    from tests import factories

    sla.seed_calendar([2026])
    sla.seed_policies()
    dispatcher = factories.user(Role.DISPATCHER)
    _token, secret = services.issue_token(dispatcher, dispatcher, name="bridge",
                                          scopes=("read", "write"),
                                          expires_at=now_utc() + timedelta(days=1))
    _db.session.commit()
    os.environ["RUYI_TEST_LIVE_TOKEN"] = secret


def test_concurrent_duplicates_create_one_ticket(live_app):
    headers = {"Authorization": f"Bearer {os.environ.pop('RUYI_TEST_LIVE_TOKEN')}",
               "Idempotency-Key": "12345-GD-0001"}
    body = {"title": "用工招聘困难", "description": "希望协调专场招聘会。", "demand_type": "help",
            "requester": {"name": "王先生", "mobile": "13812345678"}}
    barrier = threading.Barrier(WORKERS)
    answers, lock = [], threading.Lock()

    def post():
        client = live_app.test_client()
        barrier.wait()
        response = client.post("/api/v1/tickets", json=body, headers=headers)
        with lock:
            answers.append((response.status_code, response.get_json()))

    threads = [threading.Thread(target=post) for _ in range(WORKERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [status for status, _json in answers] == [201] * WORKERS, answers
    assert len({json["reference"] for _status, json in answers}) == 1
    with live_app.app_context():
        from app.tickets.models import Ticket

        assert _db.session.scalar(sa.select(sa.func.count()).select_from(Ticket)) == 1
        _db.session.remove()
