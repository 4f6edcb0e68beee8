"""Accounts: units, users, sign-in and sign-out, passwords, lockout and idle timeouts."""

from flask import Blueprint

bp = Blueprint("auth", __name__, url_prefix="/auth")

from app.auth import cli, views  # noqa: E402,F401
