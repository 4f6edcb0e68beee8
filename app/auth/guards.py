"""Per-request account rules: loading the user, idle timeouts, forced password change."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from flask import Flask, current_app, flash, redirect, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, logout_user
from sqlalchemy.orm.util import identity_key

from app.auth import services
from app.auth.models import User
from app.core.clock import now_utc
from app.core.errors import render_error, wants_json
from app.core.security import STATIC_ENDPOINTS, is_token_request
from app.core.transactions import commit_or_explain
from app.extensions import db, login_manager

#: The last activity is recorded to the minute: rewriting the signed cookie on every request
#: (its JSON, compression and signature, and a Set-Cookie header) was a third of the CPU of a
#: signed-in request. A session may therefore end up to a minute before the idle limit.
SEEN_AT_RESOLUTION = 60

#: Endpoints a user who must change their password may still reach.
PASSWORD_CHANGE_ALLOWED = frozenset({"auth.change_password", "auth.logout", "auth.set_language"})


@login_manager.user_loader
def load_user(identity: str) -> User | None:
    """Resolve ``id:session_token``; a rotated token or a deactivated account signs out."""
    user_id, _sep, token = identity.partition(":")
    if not user_id.isdigit():
        return None
    user = _user(int(user_id))
    if user is None or not user.is_active or user.session_token != token:
        return None
    return user


def _user(user_id: int) -> User | None:
    """``db.session.get(User, user_id)`` through a statement built once: a request's session
    starts empty, so every request reads its user, and building the primary-key lookup (and
    its cache key) each time cost a quarter of it."""
    session = db.session()
    user = session.identity_map.get(identity_key(User, user_id))
    return user if user is not None else session.scalar(_USER_BY_ID, {"user_id": user_id})


_USER_BY_ID = sa.select(User).where(User.id == sa.bindparam("user_id"))


@login_manager.unauthorized_handler
def unauthorized():
    """401 JSON for APIs; otherwise send the visitor to sign in and come back."""
    if wants_json():
        return render_error(401)
    flash(_("Please sign in to continue."), "info")
    return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))


def idle_limit(user: User) -> timedelta:
    """DOMAIN §8: 30 minutes for staff, 15 for administrative roles (settings)."""
    key = "IDLE_TIMEOUT_ADMIN_MINUTES" if user.is_admin_role else "IDLE_TIMEOUT_STAFF_MINUTES"
    return timedelta(minutes=current_app.config[key])


def session_limit() -> timedelta:
    """The absolute life of a session from its sign-in, however busy it is (a copied cookie
    that keeps being used dies with it)."""
    return timedelta(hours=current_app.config["SESSION_ABSOLUTE_HOURS"])


def _session_expired(now: float) -> str | None:
    """``timeout`` (idle), ``expired`` (absolute limit, or a session from before the limit
    existed) or None. Both times are in the signed cookie; the end itself is on the server."""
    signed_in_at = session.get("signed_in_at")
    if signed_in_at is None or now - signed_in_at > session_limit().total_seconds():
        return "expired"
    last_seen = session.get("seen_at")
    if last_seen is not None and now - last_seen > idle_limit(current_user).total_seconds():
        return "timeout"
    return None


def _enforce_idle_timeout():
    if is_token_request():
        return None  # a token has no session: its expiry is its own
    if not current_user.is_authenticated or request.endpoint in STATIC_ENDPOINTS:
        return None
    now = now_utc().timestamp()
    reason = _session_expired(now)
    if reason is not None:
        commit_or_explain(lambda: services.sign_out(current_user, reason=reason))
        logout_user()
        session.pop("seen_at", None)
        session.pop("signed_in_at", None)
        if wants_json():
            return render_error(401)
        flash(_("You were signed out after a period of inactivity.") if reason == "timeout"
              else _("Your session has ended: please sign in again."), "warning")
        return redirect(url_for("auth.login"))
    last_seen = session.get("seen_at")
    if last_seen is None or now - last_seen >= SEEN_AT_RESOLUTION:
        session["seen_at"] = now
    return None


def _enforce_password_change():
    if (
        not is_token_request()
        and current_user.is_authenticated
        and current_user.must_change_password
        and request.endpoint not in PASSWORD_CHANGE_ALLOWED
        and request.endpoint not in STATIC_ENDPOINTS
    ):
        return redirect(url_for("auth.change_password"))
    return None


def register_guards(app: Flask) -> None:
    """Run after the sign-in gate (registered earlier by ``register_security``)."""
    app.before_request(_enforce_idle_timeout)
    app.before_request(_enforce_password_change)
