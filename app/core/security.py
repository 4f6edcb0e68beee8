"""Deny-by-default routing, public endpoints, and HTTP security headers (DOMAIN §8)."""

from __future__ import annotations

from flask import Flask, current_app, request
from flask_login import current_user

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


def _require_sign_in():
    """Refuse anonymous access to anything not explicitly public."""
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
    app.before_request(_require_sign_in)
    app.after_request(_security_headers)
