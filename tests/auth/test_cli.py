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


def test_demo_accounts_seed_is_idempotent_and_covers_every_role(db):
    from app.demo.cli import seed_units, seed_users
    from app.firms.demo import seed_firms

    seed_users(seed_units())
    seed_firms(count=3)  # the demo firm account needs a registry firm
    seed_users(seed_units())
    count = db.session.scalar(sa.select(sa.func.count(User.id)))
    assert seed_users(seed_units()) == []
    assert db.session.scalar(sa.select(sa.func.count(User.id))) == count
    assert set(db.session.scalars(sa.select(User.role))) == set(Role)


def test_demo_seed_if_empty_leaves_an_existing_database_alone(app, make):
    make.user(Role.ADMIN)
    result = app.test_cli_runner().invoke(args=["demo", "seed", "--if-empty"])
    assert result.exit_code == 0 and "skipped" in result.output
