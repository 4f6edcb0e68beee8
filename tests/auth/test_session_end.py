"""A session ends on the server (issue 15, finding 1): at sign-out, at the absolute limit and
when idle, every copy of its cookie is dead — GET and CSRF-protected POST alike. The state is the
session token on the user row, so it holds across processes and machines."""

from datetime import timedelta

import sqlalchemy as sa

from app.auth.models import User
from app.core.audit import AuditEvent
from tests.factories import PASSWORD
from tests.helpers import csrf_token, post_form, sign_in


def _copy(app, client):
    """A second browser holding a copy of ``client``'s session cookie."""
    other = app.test_client()
    other.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    other.set_cookie("session", client.get_cookie("session").value)
    return other


def _password_post(client, token):
    return client.post("/auth/password", data={
        "csrf_token": token, "current_password": PASSWORD,
        "new_password": "Brand#New2026", "confirm": "Brand#New2026"})


def test_a_copied_cookie_is_dead_after_sign_out(app, client, make, db):
    user = make.user()
    sign_in(client, user.username, PASSWORD)
    copy = _copy(app, client)
    assert copy.get("/tickets/").status_code == 200
    token = csrf_token(copy, "/auth/password")
    post_form(client, "/auth/logout", token_from="/home")
    assert copy.get("/home").status_code == 302
    assert copy.get("/tickets/").headers["Location"].startswith("/auth/login")
    response = _password_post(copy, token)
    assert response.status_code == 302 and "/auth/login" in response.headers["Location"]
    assert db.session.get(User, user.id).password_changed_at is None


def test_a_busy_session_ends_at_the_absolute_limit(app, client, make, db, frozen_clock):
    user = make.user()
    sign_in(client, user.username, PASSWORD)
    copy = _copy(app, client)
    for _ in range(12 * 3):  # used every 20 minutes: never idle
        assert client.get("/home").status_code == 200
        frozen_clock.advance(timedelta(minutes=20))
    frozen_clock.advance(timedelta(seconds=1))
    response = client.get("/home")
    assert response.headers["Location"].endswith("/auth/login")
    assert client.get("/home").status_code == 302
    assert copy.get("/home").status_code == 302
    reasons = db.session.scalars(sa.select(AuditEvent.details).where(
        AuditEvent.action == "auth.sign_out", AuditEvent.actor_id == user.id)).all()
    assert reasons == [{"reason": "expired"}]


def test_the_absolute_limit_is_a_setting(app, client, make, frozen_clock):
    app.config["SESSION_ABSOLUTE_HOURS"] = 1
    try:
        sign_in(client, make.user().username, PASSWORD)
        frozen_clock.advance(timedelta(minutes=29))
        assert client.get("/home").status_code == 200
        frozen_clock.advance(timedelta(minutes=29))
        assert client.get("/home").status_code == 200
        frozen_clock.advance(timedelta(minutes=3))
        assert client.get("/home").status_code == 302
    finally:
        app.config["SESSION_ABSOLUTE_HOURS"] = 12


def test_an_idle_timeout_ends_every_copy(app, client, make, frozen_clock):
    user = make.user()
    sign_in(client, user.username, PASSWORD)
    copy = _copy(app, client)
    frozen_clock.advance(timedelta(minutes=31))
    assert client.get("/home").status_code == 302  # the idle original is signed out …
    assert copy.get("/home").status_code == 302  # … and so is the copy


def test_a_session_without_its_sign_in_time_is_ended(app, make):
    """Cookies from before the limit existed carry no sign-in time: they are not trusted."""
    user = make.user()
    old = app.test_client()
    with old.session_transaction() as session:
        session["_user_id"] = user.get_id()
    assert old.get("/home").status_code == 302


def test_signing_in_again_after_sign_out_works(client, make):
    user = make.user()
    sign_in(client, user.username, PASSWORD)
    post_form(client, "/auth/logout", token_from="/home")
    assert sign_in(client, user.username, PASSWORD).headers["Location"].endswith("/home")
    assert client.get("/home").status_code == 200
