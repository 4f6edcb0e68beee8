"""Command-line account and demo tools."""

import sqlalchemy as sa

from app.auth.models import User
from app.core.permissions import Role


def test_create_admin_makes_an_admin_who_can_sign_in(app, db):
    result = app.test_cli_runner().invoke(args=[
        "users", "create-admin", "--username", "Root.Admin", "--password", "Strong#Admin26"])
    assert result.exit_code == 0, result.output
    user = db.session.scalar(sa.select(User).where(User.username == "root.admin"))
    assert user.role == Role.ADMIN and not user.must_change_password


def test_create_admin_refuses_a_weak_password_and_writes_nothing(app, db):
    result = app.test_cli_runner().invoke(args=[
        "users", "create-admin", "--username", "weak", "--password", "password"])
    assert result.exit_code != 0
    assert "须至少包含大写字母、小写字母、数字、符号中的三类" in result.output  # CLI speaks Chinese
    assert db.session.scalar(sa.select(User).where(User.username == "weak")) is None


def test_create_admin_refuses_an_existing_username(app, make):
    existing = make.user(Role.ADMIN)
    result = app.test_cli_runner().invoke(args=[
        "users", "create-admin", "--username", existing.username, "--password", "Strong#Admin26"])
    assert result.exit_code != 0 and "already exists" in result.output


def test_demo_seed_is_idempotent(app, db):
    runner = app.test_cli_runner()
    assert runner.invoke(args=["demo", "seed"]).exit_code == 0
    count = db.session.scalar(sa.select(sa.func.count(User.id)))
    assert runner.invoke(args=["demo", "seed"]).exit_code == 0
    assert db.session.scalar(sa.select(sa.func.count(User.id))) == count
    roles = set(db.session.scalars(sa.select(User.role)))
    assert roles == set(Role)
