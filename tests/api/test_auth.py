"""Tokens: bearer only (never the session cookie), hashed, scoped, expiring, revocable,
rate-limited; every refusal a problem document."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from app.api import services
from app.api.models import ApiToken, hash_token
from app.core.audit import AuditEvent
from app.core.clock import now_utc
from app.core.permissions import Role
from app.extensions import db


def test_anonymous_call_is_a_401_problem_with_a_bearer_challenge(api):
    response = api.get("/api/v1/tickets")
    assert response.status_code == 401
    assert response.mimetype == "application/problem+json"
    assert response.json["status"] == 401 and response.json["type"].endswith("unauthenticated")
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_a_signed_in_browser_session_does_not_reach_the_api(api, cast, login_as):
    """Tokens only: a cookie never authenticates an API call, so no CSRF is needed there."""
    login_as(cast.dispatcher)
    assert api.get("/api/v1/tickets").status_code == 401
    assert api.post("/api/v1/tickets", json={}).status_code == 401


def test_token_is_stored_hashed_and_shown_once(cast, token_for):
    headers = token_for(cast.dispatcher)
    secret = headers["Authorization"].split()[1]
    row = db.session.scalar(sa.select(ApiToken).where(ApiToken.user_id == cast.dispatcher.id))
    assert row.token_hash == hash_token(secret) and secret not in (row.prefix, row.token_hash)
    assert secret.startswith(row.prefix)
    audit = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "api.token_create"))
    assert secret not in str(audit.details)


def test_a_token_acts_as_its_user(api, cast, token_for):
    response = api.get("/api/v1/me", headers=token_for(cast.handler, scopes=("read",)))
    assert response.status_code == 200
    assert response.json["username"] == cast.handler.username
    assert response.json["role"] == "handler" and response.json["scopes"] == ["read"]


def test_unknown_revoked_and_expired_tokens_are_refused(api, cast, token_for, frozen_clock):
    assert api.get("/api/v1/me", headers={"Authorization": "Bearer ruyi_nope"}).status_code \
        == 401
    headers = token_for(cast.handler, days=1)
    assert api.get("/api/v1/me", headers=headers).status_code == 200
    frozen_clock.freeze(now_utc() + timedelta(days=1, seconds=1))
    assert api.get("/api/v1/me", headers=headers).status_code == 401
    fresh = token_for(cast.handler)
    token = services.find_token(fresh["Authorization"].split()[1])
    services.revoke_token(cast.handler, token)
    db.session.commit()
    assert api.get("/api/v1/me", headers=fresh).status_code == 401


def test_a_deactivated_user_or_client_stops_at_once(api, make, cast, token_for,
                                                    client_token, admin):
    headers = token_for(cast.handler)
    cast.handler.is_active = False
    db.session.commit()
    assert api.get("/api/v1/me", headers=headers).status_code == 401
    client, client_headers = client_token(cast.unit)
    assert api.get("/api/v1/me", headers=client_headers).status_code == 200
    services.set_client_active(admin, client, False)
    db.session.commit()
    assert api.get("/api/v1/me", headers=client_headers).status_code == 401


def test_a_read_scope_cannot_write(api, cast, token_for):
    headers = token_for(cast.dispatcher, scopes=("read",))
    response = api.post("/api/v1/tickets", headers=headers,
                        json={"title": "t", "description": "d", "demand_type": "help"})
    assert response.status_code == 403
    assert response.json["type"].endswith("insufficient-scope")


def test_only_the_owner_or_an_administrator_revokes_a_token(cast, token_for, admin):
    import pytest

    from app.core.errors import PermissionDenied

    token = services.find_token(token_for(cast.handler)["Authorization"].split()[1])
    with pytest.raises(PermissionDenied):
        services.revoke_token(cast.lead, token)
    assert services.revoke_token(admin, token).revoked_at is not None


def test_admins_and_auditors_hold_no_personal_token(cast):
    import pytest

    from app.core.errors import DomainError

    for user in (cast.auditor, cast.admin):
        with pytest.raises(DomainError):
            services.issue_token(user, user, name="x", scopes=("read",),
                                 expires_at=now_utc() + timedelta(days=1))


def test_tokens_are_rate_limited_per_token(app, api, cast, token_for):
    app.config["RATELIMIT_API"] = "3 per minute"
    try:
        first, second = token_for(cast.handler), token_for(cast.handler)
        assert [api.get("/api/v1/me", headers=first).status_code for _ in range(4)] == \
            [200, 200, 200, 429]
        limited = api.get("/api/v1/me", headers=first)
        assert limited.mimetype == "application/problem+json"
        assert int(limited.headers["Retry-After"]) >= 1
        assert api.get("/api/v1/me", headers=second).status_code == 200  # its own count
    finally:
        app.config["RATELIMIT_API"] = "600 per minute"


def test_client_service_account_cannot_sign_in_on_the_web(client, cast, client_token):
    from app.auth.passwords import verify_password

    api_client, _headers = client_token(cast.unit)
    assert not verify_password(api_client.user.password_hash, "!api-client")
    assert api_client.user.role == Role.HANDLER and api_client.user.unit_id == cast.unit.id
