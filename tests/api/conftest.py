"""API fixtures: the ticket fixtures (calendar, policies, a cast of users, tickets in any
state) and tokens for any user or integration client."""

from __future__ import annotations

from datetime import timedelta

import pytest

from app.api import services
from app.api.models import ClientChannel
from app.core.clock import now_utc
from app.core.permissions import Role
from app.extensions import db
from tests.tickets.conftest import cast, sla_ready, ticket_in  # noqa: F401 - fixtures


@pytest.fixture
def admin(make):
    return make.user(Role.ADMIN)


@pytest.fixture
def token_for(admin):
    """``token_for(user, scopes=("read", "write"))`` → the headers of a fresh personal token."""

    def issue(user, scopes=("read", "write"), days=30):
        _token, secret = services.issue_token(user, user, name="test", scopes=scopes,
                                              expires_at=now_utc() + timedelta(days=days))
        db.session.commit()
        return {"Authorization": f"Bearer {secret}"}

    return issue


@pytest.fixture
def client_token(admin):
    """``client_token(unit, role=..., own_tickets_only=..., channel=...)`` → (client, headers)."""

    def register(unit, role=Role.HANDLER, own_tickets_only=False, scopes=("read", "write"),
                 channel=ClientChannel.API, name=None):
        client = services.register_client(admin, name=name or f"系统{unit.code}", unit=unit,
                                          role=role, channel=channel,
                                          own_tickets_only=own_tickets_only)
        _token, secret = services.issue_token(admin, client.user, name="bridge",
                                              scopes=scopes, expires_at=None, client=client)
        db.session.commit()
        return client, {"Authorization": f"Bearer {secret}"}

    return register


@pytest.fixture
def api(client):
    """The test client, for calls that carry a token (no session cookie is ever needed)."""
    return client
