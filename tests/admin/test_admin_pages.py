"""User and unit administration: who may open it, and what each change does."""

import pytest
import sqlalchemy as sa

from app.auth.models import Unit, User
from app.core.audit import AuditEvent
from app.core.permissions import Role
from tests.helpers import post_form

ADMIN_PAGES = ["/admin/users", "/admin/users/new", "/admin/units", "/admin/units/new"]


@pytest.mark.parametrize("role", list(Role))
@pytest.mark.parametrize("path", ADMIN_PAGES)
def test_only_admins_open_admin_pages(client, make, login_as, role, path):
    login_as(make.user(role))
    expected = 200 if role == Role.ADMIN else 403
    assert client.get(path).status_code == expected


@pytest.mark.parametrize("role", [r for r in Role if r != Role.ADMIN])
def test_non_admins_cannot_post_admin_changes(client, make, login_as, role):
    target = make.user()
    login_as(make.user(role))
    response = post_form(client, f"/admin/users/{target.id}/deactivate", token_from="/home")
    assert response.status_code == 403


def _latest_audit(db, action):
    return db.session.scalars(
        sa.select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id.desc())
    ).first()


def test_admin_creates_user_who_must_change_password(client, make, login_as, db):
    admin = make.user(Role.ADMIN)
    unit = make.unit(name="商务局测试")
    login_as(admin)
    response = post_form(client, "/admin/users/new", {
        "username": "New.Handler", "display_name": "新承办人", "role": "handler",
        "unit_id": unit.id, "mobile": "138 1234 5678", "email": "",
        "preferred_language": "", "password": "Initial#Pass1",
    })
    assert response.status_code == 302
    user = db.session.scalar(sa.select(User).where(User.username == "new.handler"))
    assert user.must_change_password and user.unit_id == unit.id
    event = _latest_audit(db, "user.create")
    assert event.actor_id == admin.id and event.object_id == str(user.id)


@pytest.mark.parametrize("field,value,message", [
    ("unit_id", 0, "belongs to a unit"),
    ("password", "short", "at least 8 characters"),
    ("mobile", "12345", "11-digit mainland mobile"),
    ("username", "bad name!", "letters, digits"),
])
def test_invalid_user_is_refused_with_message_and_nothing_written(
        client, make, login_as, db, field, value, message):
    login_as(make.user(Role.ADMIN))
    unit = make.unit()
    before = db.session.scalar(sa.select(sa.func.count(User.id)))
    data = {"username": "someone", "display_name": "某人", "role": "handler",
            "unit_id": unit.id, "password": "Initial#Pass1", "preferred_language": ""}
    data[field] = value
    response = post_form(client, "/admin/users/new", data)
    assert response.status_code == 200
    assert message in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count(User.id))) == before
    assert 'value="someone"' in response.get_data(as_text=True) or field == "username"


def test_duplicate_username_is_refused(client, make, login_as):
    login_as(make.user(Role.ADMIN))
    existing = make.user(Role.AUDITOR)
    response = post_form(client, "/admin/users/new", {
        "username": existing.username.upper(), "display_name": "x", "role": "auditor",
        "unit_id": 0, "password": "Initial#Pass1", "preferred_language": ""})
    assert "already taken" in response.get_data(as_text=True)


def test_role_change_is_audited_and_ends_the_users_sessions(app, client, make, login_as, db):
    admin = make.user(Role.ADMIN)
    target = make.user(Role.HANDLER)
    old_identity = target.get_id()
    login_as(admin)
    response = post_form(client, f"/admin/users/{target.id}/edit", {
        "username": target.username, "display_name": target.display_name,
        "role": "unit_lead", "unit_id": target.unit_id, "preferred_language": ""})
    assert response.status_code == 302
    changed = db.session.get(User, target.id)
    assert changed.role == Role.UNIT_LEAD
    assert changed.get_id() != old_identity
    assert _latest_audit(db, "user.update").details["changes"]["role"] == ["handler", "unit_lead"]


def test_deactivated_user_is_signed_out(app, client, make, login_as, db):
    admin = make.user(Role.ADMIN)
    target = make.user(Role.HANDLER)
    other = app.test_client()
    with other.session_transaction() as session:
        session["_user_id"] = target.get_id()
    login_as(admin)
    post_form(client, f"/admin/users/{target.id}/deactivate", token_from="/admin/users")
    assert db.session.get(User, target.id).is_active is False
    assert other.get("/home").status_code == 302
    assert _latest_audit(db, "user.deactivate").object_id == str(target.id)


def test_admin_cannot_deactivate_self(client, make, login_as, db):
    admin = make.user(Role.ADMIN)
    login_as(admin)
    response = post_form(client, f"/admin/users/{admin.id}/deactivate",
                         token_from="/admin/users", follow_redirects=True)
    assert "cannot deactivate your own account" in response.get_data(as_text=True)
    assert db.session.get(User, admin.id).is_active


def test_password_reset_shows_a_temporary_password_once_and_unlocks(client, make, login_as, db,
                                                                     frozen_clock):
    from datetime import timedelta

    target = make.user(Role.HANDLER, locked_until=frozen_clock.now_utc() + timedelta(minutes=10))
    login_as(make.user(Role.ADMIN))
    response = post_form(client, f"/admin/users/{target.id}/reset-password",
                         token_from="/admin/users")
    assert response.status_code == 200
    assert 'data-testid="temporary-password"' in response.get_data(as_text=True)
    reset = db.session.get(User, target.id)
    assert reset.must_change_password and reset.locked_until is None


def test_user_list_search_and_filters(client, make, login_as):
    login_as(make.user(Role.ADMIN))
    make.user(Role.DISPATCHER, username="li.shouli", display_name="李受理")
    make.user(Role.HANDLER, username="zhang.chengban", display_name="张承办")
    text = client.get("/admin/users?q=受理").get_data(as_text=True)
    assert "li.shouli" in text and "zhang.chengban" not in text
    text = client.get("/admin/users?role=handler").get_data(as_text=True)
    assert "zhang.chengban" in text and "li.shouli" not in text
    text = client.get("/admin/users?q=nobody-like-this").get_data(as_text=True)
    assert "No users match these filters." in text


def test_search_treats_wildcards_literally(client, make, login_as):
    login_as(make.user(Role.ADMIN))
    make.user(Role.HANDLER, username="plain.user")
    text = client.get("/admin/users?q=%25").get_data(as_text=True)
    assert "plain.user" not in text


def test_unit_create_edit_and_duplicate_code(client, make, login_as, db):
    login_as(make.user(Role.ADMIN))
    post_form(client, "/admin/units/new", {"name": "测试局", "code": "csj", "kind": "department"})
    unit = db.session.scalar(sa.select(Unit).where(Unit.code == "CSJ"))
    assert unit is not None and unit.name == "测试局"
    response = post_form(client, "/admin/units/new",
                         {"name": "另一个局", "code": "CSJ", "kind": "department"})
    assert "code already exists" in response.get_data(as_text=True)
    post_form(client, f"/admin/units/{unit.id}/edit",
              {"name": "测试局（新）", "code": "CSJ", "kind": "department"})
    assert db.session.get(Unit, unit.id).name == "测试局（新）"
    assert _latest_audit(db, "unit.update").details["changes"]["name"] == ["测试局", "测试局（新）"]


def test_staff_user_without_unit_is_refused_by_the_database(make, db):
    with pytest.raises(sa.exc.IntegrityError):
        make.user(Role.HANDLER, unit=None)
