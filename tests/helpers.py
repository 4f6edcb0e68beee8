"""Small HTTP helpers shared by view tests."""

from __future__ import annotations

import re

_TOKEN = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def csrf_token(client, path: str = "/auth/login") -> str:
    """A valid CSRF token for the client's session, read from a rendered page."""
    response = client.get(path, follow_redirects=True)
    match = _TOKEN.search(response.get_data(as_text=True))
    assert match, f"no CSRF token on {path}"
    return match.group(1)


def post_form(client, path: str, data: dict | None = None, token_from: str | None = None,
              **kwargs):
    """POST a form with a valid CSRF token (taken from ``token_from`` or the same path)."""
    payload = dict(data or {})
    payload["csrf_token"] = csrf_token(client, token_from or path)
    return client.post(path, data=payload, **kwargs)


def sign_in(client, username: str, password: str, **kwargs):
    """Go through the real sign-in form."""
    return post_form(client, "/auth/login", {"username": username, "password": password},
                     **kwargs)


class count_queries:  # a context manager named like the function it reads as
    """Count the SQL statements sent while the block runs (every connection of the engine).

    Savepoints are not counted: they come from the tests' rolled-back outer transaction, not
    from the code under test.

        with count_queries() as counted:
            client.get("/tickets/")
        assert counted.count <= 8
    """

    def __init__(self, engine=None):
        self.engine, self.count, self.statements = engine, 0, []

    def __enter__(self):
        from sqlalchemy import event

        from app.extensions import db

        self.engine = self.engine if self.engine is not None else db.engine
        event.listen(self.engine, "before_cursor_execute", self._count)
        return self

    def __exit__(self, *exc):
        from sqlalchemy import event

        event.remove(self.engine, "before_cursor_execute", self._count)

    def _count(self, _conn, _cursor, statement, *_args):
        if statement.lstrip().upper().startswith(("SAVEPOINT", "RELEASE SAVEPOINT",
                                                  "ROLLBACK TO SAVEPOINT")):
            return
        self.count += 1
        self.statements.append(statement)


def migration(revision: str):
    """The migration module of ``revision`` (its file names start with a date, so it cannot be
    imported by name), for tests of what a migration writes."""
    import importlib.util
    from pathlib import Path

    versions = Path(__file__).resolve().parents[1] / "migrations" / "versions"
    (path,) = versions.glob(f"*_{revision}_*.py")
    spec = importlib.util.spec_from_file_location(f"migration_{revision}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
