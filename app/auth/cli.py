"""``flask users …`` commands."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from app.auth import services
from app.auth.models import User
from app.core import audit
from app.core.permissions import Role
from app.core.transactions import commit_or_stop
from app.extensions import db

users_cli = AppGroup("users", help="Manage user accounts.")


@users_cli.command("create-admin")
@click.option("--username", prompt=True, help="Sign-in name of the new administrator.")
@click.option("--display-name", default="系统管理员", show_default=True)
@click.password_option(help="Initial password (must meet the password policy).")
def create_admin(username: str, display_name: str, password: str) -> None:
    """Create a system administrator (the first account on a new installation)."""
    username = services.normalise_username(username)
    if services.find_user(username) is not None:
        raise click.ClickException(f"User {username!r} already exists.")
    commit_or_stop(lambda: _add_admin(username, display_name, password))
    click.echo(f"Administrator {username!r} created.")


def _add_admin(username: str, display_name: str, password: str) -> User:
    services.check_password_policy(password, username)
    user = User(username=username, display_name=display_name, role=Role.ADMIN, is_active=True)
    services.set_password(user, password, temporary=False)
    db.session.add(user)
    db.session.flush()
    audit.record("user.create", obj=user, details={"username": username, "via": "cli"})
    return user
