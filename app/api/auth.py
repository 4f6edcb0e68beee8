"""Bearer tokens for the machine interface: who is asking, what they may, how often.

Requests under ``/api/`` and ``/open311/`` are authenticated by a token only: the session
cookie is never read there, so a browser's cookie cannot make an API call on someone's behalf
(and the API needs no CSRF token). The token's user becomes ``current_user`` for the request,
and every permission and predicate of the web applies to it unchanged.
"""

from __future__ import annotations

import time

from flask import current_app, g, request
from flask_babel import gettext as _
from flask_login import AnonymousUserMixin
from limits import parse

from app.api import services
from app.api.models import ApiToken, Scope
from app.core.clock import now_utc
from app.core.errors import problem
from app.core.security import is_public_endpoint
from app.core.transactions import begin_write, commit_or_raise
from app.extensions import limiter

READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def bearer_secret() -> str | None:
    """The token of ``Authorization: Bearer <token>``, if any."""
    kind, _sep, secret = request.headers.get("Authorization", "").partition(" ")
    return secret.strip() or None if kind.lower() == "bearer" else None


def authenticate_api():
    """The gate of ``/api/``: public endpoints (the spec, its page) answer anyone; the rest
    need a usable bearer token whose scopes allow the method."""
    return _authenticate(bearer_secret())


def authenticate_open311():
    """The gate of ``/open311/``: the GeoReport ``api_key`` parameter, or a bearer token."""
    request.get_data()  # kept: the form is parsed from it, and Idempotency-Key compares it
    secret = bearer_secret() or request.args.get("api_key") or (
        request.form.get("api_key") if request.mimetype != "application/json" else None)
    return _authenticate(secret)


def _authenticate(secret: str | None):
    g._login_user = AnonymousUserMixin()
    public = is_public_endpoint(current_app, request.endpoint)
    if secret is None:
        return None if public else _unauthorized(_("Send an API token: "
                                                   "Authorization: Bearer <token>."))
    token = services.find_token(secret)
    now = now_utc()
    if token is None or not token.is_usable(now):
        return _unauthorized(_("The API token is unknown, expired or revoked."))
    refused = _rate_limited(token)
    if refused is not None:
        return refused
    if request.method not in READ_METHODS and not token.allows(Scope.WRITE):
        return problem(403, _("Read-only token"),
                       _("This token may only read: ask for a token with the write scope."),
                       kind="insufficient-scope")
    user = token.user
    user.api_client = token.client
    user.api_token = token
    g._login_user = user
    g.api_token = token
    if services.use_is_due(token, now):
        begin_write()  # SQLite: the writers' turn, not a failure when another writes
        commit_or_raise(lambda: services.note_use(token.id, now))
    return None


def _unauthorized(detail: str):
    return problem(401, _("Not authenticated"), detail, kind="unauthenticated",
                   headers={"WWW-Authenticate": 'Bearer realm="ruyi"'})


def _rate_limited(token: ApiToken):
    """Each token's requests are counted in the limiter's store (``RATELIMIT_API``)."""
    if not current_app.config.get("RATELIMIT_ENABLED", True):
        return None
    for item in _limits(current_app.config["RATELIMIT_API"]):
        if not limiter.limiter.hit(item, "api-token", str(token.id)):
            reset, _remaining = limiter.limiter.get_window_stats(item, "api-token",
                                                                 str(token.id))
            wait = max(1, int(reset - time.time()))  # the store's windows are real time
            return problem(429, headers={"Retry-After": str(wait)}, kind="rate-limited")
    return None


def _limits(text: str) -> list:
    return [parse(part) for part in text.split(";") if part.strip()]


def current_token() -> ApiToken | None:
    """The token this request was authenticated with."""
    return g.get("api_token")
