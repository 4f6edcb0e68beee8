"""Browser tests: Debian's Chromium driven by Playwright against a real server.

The server runs in a thread on 127.0.0.1 (a free port) with its own SQLite file, migrated and
seeded with the demo units and users. Without Chromium the tests skip with the reason — except
under CI=true, where a skipped browser test fails the run.
"""

from __future__ import annotations

import os
import shutil
import threading

import pytest
from flask_migrate import upgrade
from werkzeug.serving import make_server

from app import create_app
from app.extensions import db

#: Demo tickets for the browser tests: enough for one of every story and held state.
E2E_DEMO_TICKETS = 61

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


def _chromium_missing() -> str | None:
    if not (os.path.exists(CHROMIUM) or shutil.which("chromium")):
        return f"Chromium not found at {CHROMIUM} (apt-get install chromium)"
    try:
        import playwright  # noqa: F401
    except ImportError:
        return "playwright is not installed (pip install -r requirements-dev.txt)"
    return None


@pytest.fixture(autouse=True)
def _require_chromium():
    reason = _chromium_missing()
    if reason:
        if os.environ.get("CI") == "true":
            pytest.fail(f"browser tests must run in CI: {reason}")
        pytest.skip(reason)


class LiveServer:
    """A threaded WSGI server for one test session."""

    def __init__(self, app):
        self.app = app
        self.server = make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def start(self):
        self.thread.start()
        return self

    def stop(self):
        self.server.shutdown()
        self.thread.join(timeout=5)


@pytest.fixture(scope="session")
def live_app(tmp_path_factory):
    """The application behind the browser, on a fresh SQLite file with demo data."""
    if _chromium_missing():
        pytest.skip("no browser")
    path = tmp_path_factory.mktemp("e2e") / "ruyi-e2e.db"
    application = create_app("testing", {
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}",
        # Limits stay on (the limiter is process-wide: switching it off here would switch it
        # off for every later test) but are raised: all journeys come from one address.
        "RATELIMIT_LOGIN": "1000 per minute",
        "PORTAL_SUBMIT_LIMIT": "1000 per minute",
        "PORTAL_LOOKUP_LIMIT": "1000 per minute",
        "PORTAL_LOOKUP_REFERENCE_LIMIT": "1000 per minute",
    })
    with application.app_context():
        upgrade()
        from app.demo.cli import seed_demo

        # The full demo (2,000 tickets with six months of history) takes well over 15 s;
        # the journeys need every state, not the volume.
        seed_demo(ticket_count=E2E_DEMO_TICKETS)
        db.session.commit()
        db.session.remove()
    return application


@pytest.fixture(scope="session")
def live_server(live_app):
    """The running server; ``live_server.url`` is its base URL."""
    server = LiveServer(live_app).start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def base_url(live_server):
    """pytest-playwright resolves ``page.goto("/path")`` against this."""
    return live_server.url


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    """Debian's Chromium, headless, with no calls to the outside world."""
    executable = CHROMIUM if os.path.exists(CHROMIUM) else shutil.which("chromium")
    return {**browser_type_launch_args, "executable_path": executable, "args": CHROMIUM_ARGS}


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    """Simplified Chinese by default, like the office's own browsers."""
    return {**browser_context_args, "locale": "zh-CN"}
