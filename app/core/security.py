"""Deny-by-default routing, public endpoints, and HTTP security headers (DOMAIN §8)."""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask, current_app, g, request
from flask_login import current_user

from app.core.text import refuse_control_characters_in_path
from app.extensions import login_manager

#: Endpoints of installed packages that serve static files.
STATIC_ENDPOINTS = frozenset({"static", "bootstrap.static"})

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; "
    "frame-ancestors 'none'"
)


def public(view):
    """Mark a view as reachable without signing in. Every other view requires a user."""
    view.is_public = True
    return view


def is_public_endpoint(app: Flask, endpoint: str | None) -> bool:
    """Whether the endpoint may be served to anonymous users."""
    if endpoint is None or endpoint in STATIC_ENDPOINTS:
        return True
    view = app.view_functions.get(endpoint)
    return bool(getattr(view, "is_public", False))


#: Path prefixes whose requests authenticate by token, never by the session cookie (the
#: machine interface): prefix → a function that authenticates the request (setting the user)
#: and returns a refusal, or ``None``. Registered by the package serving those paths.
TOKEN_AUTHENTICATORS: dict[str, Callable[[], object]] = {}


def register_token_authenticator(url_prefix: str, authenticate: Callable[[], object]) -> None:
    """Requests under ``url_prefix`` are authenticated by ``authenticate`` instead of the session
    cookie: a cookie never reaches them, so they need no CSRF token."""
    TOKEN_AUTHENTICATORS[url_prefix] = authenticate


def token_prefix(path: str) -> str | None:
    """The registered token-authenticated prefix ``path`` falls under, if any."""
    return next((prefix for prefix in TOKEN_AUTHENTICATORS if path.startswith(prefix)), None)


def is_token_request() -> bool:
    """Whether this request is authenticated by a token (no session, no cookie)."""
    return bool(g.get("token_request"))


def _require_sign_in():
    """Refuse anonymous access to anything not explicitly public."""
    prefix = token_prefix(request.path)
    if prefix is not None:
        g.token_request = True
        return TOKEN_AUTHENTICATORS[prefix]()
    if current_user.is_authenticated or is_public_endpoint(current_app, request.endpoint):
        return None
    return login_manager.unauthorized()


def _security_headers(response):
    headers = response.headers
    headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
    headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
    if current_app.config.get("PREFER_HSTS"):
        headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
    if current_user and current_user.is_authenticated:
        headers.setdefault("Cache-Control", "no-store")
    return response


def register_security(app: Flask) -> None:
    """Install the sign-in gate and the response headers."""
    app.url_value_preprocessor(refuse_control_characters_in_path)
    app.before_request(_require_sign_in)
    app.after_request(_security_headers)
