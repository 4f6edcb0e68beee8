"""The web pages of the API: a person's tokens, administrators' clients, the documentation."""

from __future__ import annotations

import re

import sqlalchemy as sa

from app.api.models import ApiClient, ApiToken
from app.core.audit import AuditEvent
from app.extensions import db
from tests.helpers import post_form

SECRET = re.compile(r"(ruyi_[A-Za-z0-9_-]{40,})")


def test_a_person_creates_a_token_sees_it_once_and_revokes_it(api, cast, login_as):
    client = login_as(cast.handler)
    page = post_form(client, "/account/api-tokens",
                     {"name": "报表脚本", "scope": "read", "days": "30"})
    assert page.status_code == 200
    secret = SECRET.search(page.get_data(as_text=True)).group(1)
    assert SECRET.search(client.get("/account/api-tokens").get_data(as_text=True)) is None
    headers = {"Authorization": f"Bearer {secret}"}
    assert api.get("/api/v1/me", headers=headers).json["username"] == cast.handler.username
    token = db.session.scalar(sa.select(ApiToken).where(ApiToken.user_id == cast.handler.id))
    post_form(client, f"/account/api-tokens/{token.id}/revoke", token_from="/account/api-tokens")
    assert api.get("/api/v1/me", headers=headers).status_code == 401
    assert db.session.scalar(sa.select(AuditEvent.id).where(
        AuditEvent.action == "api.token_revoke"))


def test_nobody_revokes_someone_elses_token_but_an_administrator(api, cast, login_as,
                                                                 token_for, admin):
    token_for(cast.handler)
    token = db.session.scalar(sa.select(ApiToken).where(ApiToken.user_id == cast.handler.id))
    other = login_as(cast.lead)
    assert post_form(other, f"/account/api-tokens/{token.id}/revoke",
                     token_from="/account/api-tokens").status_code == 404
    assert token.revoked_at is None
    admin_client = login_as(admin)
    assert cast.handler.username in admin_client.get("/admin/api-tokens").get_data(as_text=True)
    post_form(admin_client, f"/admin/api-tokens/{token.id}/revoke",
              token_from="/admin/api-tokens")
    db.session.refresh(token)
    assert token.revoked_at is not None


def test_an_administrator_registers_a_client_and_issues_its_token(api, cast, login_as, admin):
    client = login_as(admin)
    response = post_form(client, "/admin/api-clients", {
        "name": "12345平台", "unit_id": str(cast.unit.id), "role": "dispatcher",
        "channel": "hotline_12345", "own_tickets_only": "y"})
    row = db.session.scalar(sa.select(ApiClient).where(ApiClient.name == "12345平台"))
    assert response.status_code == 302 and row.user.role == "dispatcher"
    page = post_form(client, f"/admin/api-clients/{row.id}",
                     {"name": "生产", "scope": "write", "days": ""})
    secret = SECRET.search(page.get_data(as_text=True)).group(1)
    me = api.get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"}).json
    assert me["client"] == "12345平台" and me["scopes"] == ["read", "write"]


def test_the_pages_are_for_their_roles(cast, login_as):
    assert login_as(cast.auditor).get("/account/api-tokens").status_code == 403
    assert login_as(cast.dispatcher).get("/admin/api-clients").status_code == 403


def test_the_documentation_page_and_the_spec_are_served_here(api):
    spec = api.get("/api/openapi.json")
    assert spec.status_code == 200 and spec.json["openapi"] == "3.1.0"
    assert "/api/v1/tickets" in spec.json["paths"]
    page = api.get("/api/docs")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "/api/v1/tickets/{reference}/actions/{action}" in html
    assert "http" not in re.sub(r'href="/[^"]*"', "", " ".join(re.findall(
        r'<(?:script|link)[^>]*>', html)))  # nothing from elsewhere
    assert "script-src 'self'" in page.headers["Content-Security-Policy"]
