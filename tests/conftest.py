"""Test fixtures: one migrated database per run, a rolled-back transaction per test.

The schema is built by running the real migrations (not ``create_all``), so every test also
proves that the migrations produce a working database. Each test runs inside a transaction on
one connection; the application's commits become savepoint releases and everything is rolled
back afterwards. Set ``TEST_DATABASE_URL`` to run the same suite on PostgreSQL.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from flask import g
from flask.testing import FlaskClient
from flask_migrate import upgrade
from sqlalchemy.orm import scoped_session, sessionmaker

from app import create_app
from app.core import clock
from app.extensions import db as _db
from app.extensions import limiter
from tests import factories


def reset_database(engine: sa.Engine) -> None:
    """Start from an empty database (PostgreSQL keeps state between runs)."""
    if engine.dialect.name == "postgresql":
        with engine.begin() as connection:
            connection.exec_driver_sql("DROP SCHEMA public CASCADE")
            connection.exec_driver_sql("CREATE SCHEMA public")


@pytest.fixture(scope="session")
def app():
    """The application under test, with a freshly migrated database."""
    application = create_app("testing")
    with application.app_context():
        reset_database(_db.engine)
        upgrade()
        seed_reference_data()
    return application


def seed_reference_data() -> None:
    """What every deadline needs, committed once: the official calendar and default policies.

    Only the package's official years: the years after them are covered by provisional days
    in memory (as of each test's frozen clock), whatever the real date of the run.
    """
    from app.sla import services as sla

    sla.seed_calendar(provisional=False)
    sla.seed_policies()
    _db.session.commit()


@pytest.fixture(autouse=True)
def db(request, app):
    """The database, inside a transaction rolled back after the test."""
    if request.node.get_closest_marker("e2e"):
        yield _db
        return
    context = app.app_context()
    context.push()
    _jobs_on(app)
    connection = _db.engine.connect()
    transaction = connection.begin()
    original = _db.session
    _db.session = scoped_session(
        sessionmaker(bind=connection, join_transaction_mode="create_savepoint",
                     expire_on_commit=False),
        scopefunc=lambda: 0,
    )
    try:
        yield _db
    finally:
        _db.session.remove()
        _db.session = original
        transaction.rollback()
        connection.close()
        context.pop()
        clock.unfreeze()
        limiter.reset()


def _jobs_on(app) -> None:
    """The job engine is one per process: point it back at this application (immediate mode,
    in-memory store) if a test built another application meanwhile."""
    from app.jobs import engine

    if engine._app[:1] != [app] or not engine.huey.immediate:
        engine.init_app(app)


class Client(FlaskClient):
    """A test client that starts every request with an empty ``g``.

    The test's application context is shared by its requests, so per-context caches (the
    signed-in user, the CSRF token, the locale) must be dropped as a real server would.
    """

    def open(self, *args, **kwargs):
        for name in list(g):
            g.pop(name)
        return super().open(*args, **kwargs)


@pytest.fixture
def client(app):
    """An HTTP client for the application.

    It asks for English unless a test sends its own Accept-Language, so assertions can use the
    source strings; the language tests check the Chinese defaults explicitly.
    """
    app.test_client_class = Client
    test_client = app.test_client()
    test_client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    return test_client


@pytest.fixture
def login_as(client):
    """Sign a user in without going through the password form (tested separately)."""

    def sign_in(user):
        with client.session_transaction() as session:
            session["_user_id"] = user.get_id()
            session["_fresh"] = True
            session["signed_in_at"] = session["seen_at"] = clock.now_utc().timestamp()
        return client

    return sign_in


@pytest.fixture
def frozen_clock():
    """Freeze ``now_utc()`` at 2026-03-02 10:00 Beijing time (a Monday); tests may advance it."""
    clock.freeze(datetime(2026, 3, 2, 2, 0, tzinfo=UTC))
    yield clock
    clock.unfreeze()


@pytest.fixture
def keep_rendered(app):
    """Rendered fragments kept as a production worker keeps them (the tests run with
    ``RENDER_CACHE`` off: these tests of the kept fragments switch it on), every cache empty
    before and after."""
    from app.core import caches

    caches.clear_all()
    app.config["RENDER_CACHE"] = True
    yield caches
    app.config["RENDER_CACHE"] = False
    caches.clear_all()


@pytest.fixture
def make(db):
    """Factories bound to the test database: ``make.user(role=...)``, ``make.unit()``."""
    return factories


def pytest_collection_modifyitems(config, items):
    """Tests under tests/e2e are browser tests."""
    for item in items:
        if "/e2e/" in str(item.fspath):
            item.add_marker(pytest.mark.e2e)
