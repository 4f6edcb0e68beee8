"""Sign-in, lockout, forced password change, idle timeout (DOMAIN §8)."""

from datetime import timedelta

import pytest
import sqlalchemy as sa

from app.auth.models import User
from app.core.audit import AuditEvent
from tests.factories import PASSWORD
from tests.helpers import post_form, sign_in

GENERIC_FAILURE = "Wrong username or password, or the account is temporarily locked"


def audit_actions(db, **filters):
    stmt = sa.select(AuditEvent.action, AuditEvent.success).filter_by(**filters)
    return db.session.execute(stmt.order_by(AuditEvent.id)).all()


def test_sign_in_with_right_password_lands_on_home_and_is_audited(client, make, db):
    user = make.user()
    response = sign_in(client, user.username, PASSWORD)
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/home")
    assert client.get("/home").status_code == 200
    assert ("auth.sign_in", True) in audit_actions(db, actor_id=user.id)
    assert db.session.get(User, user.id).last_login_at is not None


def test_username_is_case_insensitive(client, make):
    make.user(username="wang.ming")
    assert sign_in(client, "  Wang.Ming ", PASSWORD).headers["Location"].endswith("/home")


@pytest.mark.parametrize("username,password", [("nobody", PASSWORD), ("__user__", "wrong")])
def test_unknown_user_and_wrong_password_get_the_same_message(client, make, username, password):
    user = make.user()
    username = user.username if username == "__user__" else username
    response = sign_in(client, username, password)
    assert response.status_code == 200
    assert GENERIC_FAILURE in response.get_data(as_text=True)


def test_unknown_username_is_audited_as_failure(client, db):
    sign_in(client, "ghost", "whatever")
    rows = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.actor_name == "ghost")).all()
    assert [(r.action, r.success, r.details["reason"]) for r in rows] == [
        ("auth.sign_in", False, "unknown_user")
    ]


def test_five_failures_lock_the_account_for_thirty_minutes(client, make, db, frozen_clock):
    user = make.user()
    for _ in range(5):
        sign_in(client, user.username, "Wrong#Pass1")
    locked = db.session.get(User, user.id)
    assert locked.locked_until == frozen_clock.now_utc() + timedelta(minutes=30)
    assert ("auth.lockout", True) in audit_actions(db, actor_id=user.id)
    # Even the right password is refused while locked, with the same message.
    response = sign_in(client, user.username, PASSWORD)
    assert GENERIC_FAILURE in response.get_data(as_text=True)
    frozen_clock.advance(timedelta(minutes=29, seconds=59))
    assert sign_in(client, user.username, PASSWORD).status_code == 200
    frozen_clock.advance(timedelta(seconds=2))
    assert sign_in(client, user.username, PASSWORD).status_code == 302


def test_four_failures_then_success_resets_the_counter(client, make, db):
    user = make.user()
    for _ in range(4):
        sign_in(client, user.username, "Wrong#Pass1")
    sign_in(client, user.username, PASSWORD)
    refreshed = db.session.get(User, user.id)
    assert refreshed.failed_login_count == 0
    assert refreshed.locked_until is None


def test_inactive_user_cannot_sign_in(client, make):
    user = make.user(is_active=False)
    response = sign_in(client, user.username, PASSWORD)
    assert GENERIC_FAILURE in response.get_data(as_text=True)


def test_user_with_temporary_password_must_change_it_before_anything_else(client, make):
    user = make.user(must_change_password=True)
    response = sign_in(client, user.username, PASSWORD)
    assert response.headers["Location"].endswith("/auth/password")
    assert client.get("/home").headers["Location"].endswith("/auth/password")
    response = post_form(client, "/auth/password", {
        "current_password": PASSWORD, "new_password": "Brand#New2026", "confirm": "Brand#New2026",
    })
    assert response.headers["Location"].endswith("/home")
    assert client.get("/home").status_code == 200


def test_password_change_enforces_the_policy(client, make, login_as, db):
    user = make.user(username="lihua")
    login_as(user)
    response = post_form(client, "/auth/password", {
        "current_password": PASSWORD, "new_password": "lihua#2026X", "confirm": "lihua#2026X",
    })
    assert "must not contain the username" in response.get_data(as_text=True)
    assert db.session.get(User, user.id).password_changed_at is None


def test_password_change_signs_out_other_sessions(app, client, make, login_as):
    user = make.user()
    login_as(user)
    other = app.test_client()
    with other.session_transaction() as session:
        session["_user_id"] = user.get_id()
    post_form(client, "/auth/password", {
        "current_password": PASSWORD, "new_password": "Brand#New2026", "confirm": "Brand#New2026",
    })
    assert client.get("/home").status_code == 200
    assert other.get("/home").status_code == 302


@pytest.mark.parametrize("role,limit", [("handler", 30), ("dispatcher", 30), ("admin", 15),
                                        ("auditor", 15)])
def test_idle_session_times_out(client, make, login_as, frozen_clock, db, role, limit):
    user = make.user(role)
    login_as(user)
    frozen_clock.advance(timedelta(minutes=limit - 1))
    assert client.get("/home").status_code == 200
    frozen_clock.advance(timedelta(minutes=limit, seconds=1))
    response = client.get("/home")
    assert response.headers["Location"].endswith("/auth/login")
    assert client.get("/home").status_code == 302
    assert ("auth.sign_out", True) in audit_actions(db, actor_id=user.id)


def test_sign_out_is_a_post_and_is_audited(client, make, login_as, db):
    user = make.user()
    login_as(user)
    assert client.get("/auth/logout").status_code == 405
    post_form(client, "/auth/logout", token_from="/home")
    assert client.get("/home").status_code == 302
    assert ("auth.sign_out", True) in audit_actions(db, actor_id=user.id)


@pytest.mark.parametrize("target,expected", [
    ("/admin/users", "/admin/users"),
    ("https://evil.example/", "/home"),
    ("//evil.example/", "/home"),
    ("/\\evil.example", "/home"),
])
def test_sign_in_follows_only_local_next_links(client, make, target, expected):
    user = make.user("admin")
    response = post_form(client, "/auth/login", {
        "username": user.username, "password": PASSWORD, "next": target})
    assert response.headers["Location"] == expected


def test_sign_in_is_rate_limited_per_address(client, make):
    user = make.user()
    codes = [sign_in(client, user.username, "Wrong#Pass1").status_code for _ in range(11)]
    assert codes[-1] == 429


def test_activity_is_recorded_to_the_minute_without_rewriting_the_cookie(client, make, login_as,
                                                                          frozen_clock):
    """Within a minute of the recorded activity a request sends no new session cookie (the
    signed cookie is not rewritten on every request); a minute later the activity moves, and
    the idle limit counts from there."""
    login_as(make.user("handler"))
    client.get("/home")
    frozen_clock.advance(timedelta(seconds=30))
    assert "Set-Cookie" not in client.get("/home").headers
    frozen_clock.advance(timedelta(seconds=31))
    assert "session=" in client.get("/home").headers.get("Set-Cookie", "")
    frozen_clock.advance(timedelta(minutes=29, seconds=59))
    assert client.get("/home").status_code == 200
