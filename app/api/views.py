"""The API's web pages: a person's own tokens, administrators' clients and tokens, and the
documentation page of the OpenAPI document (served here, without any outside script)."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from flask import abort, current_app, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.api import bp, services
from app.api.forms import ClientForm, ClientTokenForm, TokenForm
from app.api.models import CLIENT_CHANNEL_LABELS, ApiClient, ApiToken
from app.auth.models import Unit
from app.core.clock import now_utc
from app.core.forms import ConfirmForm, options
from app.core.permissions import Permission, require, require_permission
from app.core.security import public
from app.core.transactions import commit_or_explain
from app.extensions import db


def _scopes(value: str) -> list[str]:
    return ["read", "write"] if value == "write" else ["read"]


@bp.route("/account/api-tokens", methods=["GET", "POST"])
@require_permission(Permission.API_TOKEN_OWN)
def tokens():
    """My API tokens: create one (its secret is shown once, on this answer), revoke one."""
    form = TokenForm()
    secret = None
    if form.validate_on_submit():
        issued = commit_or_explain(lambda: services.issue_token(
            current_user, current_user, name=form.name.data, scopes=_scopes(form.scope.data),
            expires_at=now_utc() + timedelta(days=form.days.data)), form=form, field="name")
        if issued:
            secret = issued[1]
            form = TokenForm(formdata=None)
    rows = db.session.scalars(sa.select(ApiToken).where(
        ApiToken.user_id == current_user.id, ApiToken.client_id.is_(None))
        .order_by(ApiToken.id.desc())).all()
    return render_template("api/tokens.html", form=form, tokens=rows, secret=secret,
                           confirm=ConfirmForm(), now=now_utc(),
                           revoke_url=lambda t: url_for("api.revoke", token_id=t.id))


@bp.route("/account/api-tokens/<int:token_id>/revoke", methods=["POST"])
@require_permission(Permission.API_TOKEN_OWN)
def revoke(token_id: int):
    """Revoke one of my tokens."""
    return _revoke(token_id, "api.tokens")


def _revoke(token_id: int, back: str, **values):
    token = db.session.get(ApiToken, token_id)
    require(token is not None and token.can_manage(current_user))
    if ConfirmForm().validate_on_submit():
        commit_or_explain(lambda: services.revoke_token(current_user, token),
                          _("Token revoked."))
    return redirect(url_for(back, **values))


@bp.route("/admin/api-tokens")
@require_permission(Permission.API_CLIENT_MANAGE)
def all_tokens():
    """Every person's token (administrators revoke any of them)."""
    rows = db.session.scalars(sa.select(ApiToken).where(ApiToken.client_id.is_(None))
                              .order_by(ApiToken.id.desc()).limit(500)).all()
    return render_template("api/all_tokens.html", tokens=rows, confirm=ConfirmForm(),
                           now=now_utc(),
                           revoke_url=lambda t: url_for("api.admin_revoke", token_id=t.id))


@bp.route("/admin/api-tokens/<int:token_id>/revoke", methods=["POST"])
@require_permission(Permission.API_CLIENT_MANAGE)
def admin_revoke(token_id: int):
    """An administrator revokes a person's token."""
    return _revoke(token_id, "api.all_tokens")


@bp.route("/admin/api-clients", methods=["GET", "POST"])
@require_permission(Permission.API_CLIENT_MANAGE)
def clients():
    """The registered systems, and the form registering another."""
    form = ClientForm()
    form.unit_id.choices = options([(u.id, u.name) for u in db.session.scalars(
        sa.select(Unit).where(Unit.is_active.is_(True)).order_by(Unit.name))])
    if form.validate_on_submit():
        client = commit_or_explain(lambda: services.register_client(
            current_user, name=form.name.data, unit=db.session.get(Unit, form.unit_id.data),
            role=form.role.data, channel=form.channel.data,
            own_tickets_only=form.own_tickets_only.data),
            lambda c: _("Client %(name)s registered.", name=c.name), form=form, field="name")
        if client:
            return redirect(url_for("api.client", client_id=client.id))
    rows = db.session.scalars(sa.select(ApiClient).order_by(ApiClient.name)).all()
    return render_template("api/clients.html", form=form, clients=rows,
                           channel_labels=CLIENT_CHANNEL_LABELS)


@bp.route("/admin/api-clients/<int:client_id>", methods=["GET", "POST"])
@require_permission(Permission.API_CLIENT_MANAGE)
def client(client_id: int):
    """One client: its tokens (a new one's secret is shown once), switching it off or on."""
    row = db.session.get(ApiClient, client_id) or abort(404)
    form = ClientTokenForm()
    secret = None
    if form.validate_on_submit():
        expires = now_utc() + timedelta(days=form.days.data) if form.days.data else None
        issued = commit_or_explain(lambda: services.issue_token(
            current_user, row.user, name=form.name.data, scopes=_scopes(form.scope.data),
            expires_at=expires, client=row), form=form, field="name")
        if issued:
            secret = issued[1]
            form = ClientTokenForm(formdata=None)
    rows = db.session.scalars(sa.select(ApiToken).where(ApiToken.client_id == row.id)
                              .order_by(ApiToken.id.desc())).all()
    return render_template("api/client.html", client=row, form=form, tokens=rows,
                           secret=secret, confirm=ConfirmForm(), now=now_utc(),
                           channel_labels=CLIENT_CHANNEL_LABELS,
                           revoke_url=lambda t: url_for("api.client_revoke", client_id=row.id,
                                                        token_id=t.id),
                           **_client_panels(row))


#: Sections other parts of the API add to a client's page (webhooks): (template, values).
CLIENT_PANELS: list = []


def _client_panels(row: ApiClient) -> dict:
    """``client_panels`` (templates included on the page) and the values they show."""
    values: dict = {"client_panels": []}
    for template, panel_values in CLIENT_PANELS:
        values["client_panels"].append(template)
        values.update(panel_values(row))
    return values


@bp.route("/admin/api-clients/<int:client_id>/tokens/<int:token_id>/revoke", methods=["POST"])
@require_permission(Permission.API_CLIENT_MANAGE)
def client_revoke(client_id: int, token_id: int):
    """Revoke a client's token."""
    return _revoke(token_id, "api.client", client_id=client_id)


@bp.route("/admin/api-clients/<int:client_id>/<any(activate, deactivate):action>",
          methods=["POST"])
@require_permission(Permission.API_CLIENT_MANAGE)
def client_set_active(client_id: int, action: str):
    """Switch a client off (its tokens stop at once) or on again."""
    row = db.session.get(ApiClient, client_id) or abort(404)
    if ConfirmForm().validate_on_submit():
        commit_or_explain(lambda: services.set_client_active(current_user, row,
                                                             action == "activate"),
                          _("Client updated."))
    return redirect(url_for("api.client", client_id=client_id))


@bp.route("/api/docs")
@public
def docs():
    """The API's documentation page, rendered here from the OpenAPI document."""
    spec = current_app.extensions["ruyi-api"].spec.to_dict()
    return render_template("api/docs.html", spec=spec, operations=_operations(spec))


def _operations(spec: dict) -> dict[str, list[dict]]:
    grouped: dict[str, list[dict]] = {}
    for path, methods in spec.get("paths", {}).items():
        for method, operation in methods.items():
            if method == "parameters":
                continue
            tag = (operation.get("tags") or ["api"])[0]
            grouped.setdefault(tag, []).append({
                "method": method.upper(), "path": path,
                "summary": operation.get("summary", ""),
                "description": operation.get("description", ""),
                "parameters": operation.get("parameters", []) + methods.get("parameters", []),
                "body": _body_schema(operation),
                "responses": sorted(operation.get("responses", {}).items())})
    return grouped


def _body_schema(operation: dict) -> str | None:
    content = operation.get("requestBody", {}).get("content", {})
    for media in content.values():
        ref = media.get("schema", {}).get("$ref", "")
        return ref.rsplit("/", 1)[-1] or None
    return None
