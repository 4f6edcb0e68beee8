"""While the database does not answer, a page is a 503 that says so, made without the
database, in the visitor's language; nothing is half-written (the fault tests restart a real
PostgreSQL under load: tests/deploy/test_faults.py)."""

from __future__ import annotations

from contextlib import contextmanager

import sqlalchemy as sa
from sqlalchemy import event

from app.core.permissions import Role


@contextmanager
def database_gone(db):
    """Every statement fails as it does when the server has stopped."""
    connection = db.session.connection()

    def refuse(*_args, **_kwargs):
        raise sa.exc.OperationalError("SELECT 1", {}, ConnectionRefusedError(
            "connection to server at 127.0.0.1, port 5432 failed: Connection refused"))

    event.listen(connection, "before_cursor_execute", refuse)
    try:
        yield
    finally:
        event.remove(connection, "before_cursor_execute", refuse)


def test_a_signed_in_page_is_a_503_without_the_database(client, login_as, make, db):
    login_as(make.user(Role.HANDLER))
    with database_gone(db):
        response = client.get("/tickets/")
    page = response.get_data(as_text=True)
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "15"
    assert "Service temporarily unavailable" in page and "Nothing was saved" in page
    assert "Traceback" not in page and "5432" not in page
    assert client.get("/tickets/").status_code == 200  # back by itself


def test_the_503_page_speaks_the_visitors_language(client, login_as, make, db):
    login_as(make.user(Role.DISPATCHER))
    for language, words in (("zh-CN", "服务暂时不可用"), ("zh-TW", "服務暫時無法使用"),
                            ("en", "Service temporarily unavailable")):
        with database_gone(db):
            response = client.get("/home", headers={"Accept-Language": language})
        assert response.status_code == 503
        assert words in response.get_data(as_text=True)
