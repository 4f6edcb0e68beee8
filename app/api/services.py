"""Verbs of the machine interface: tokens, integration clients, tickets created by clients.

Like every service these flush and never commit; the view or command that calls them commits.
"""

from __future__ import annotations

import logging
import re
import secrets
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask_babel import gettext as _

from app.api.models import ApiClient, ApiToken, ClientChannel, Scope, TicketLink, hash_token
from app.auth.models import Unit, User
from app.core import audit
from app.core.clock import now_utc
from app.core.errors import DomainError, PermissionDenied, ValidationFailed
from app.core.permissions import UNIT_ROLES, Permission, Role
from app.extensions import db

logger = logging.getLogger("ruyi.api")

#: Every token starts so: a leaked one is recognisable in logs and by secret scanners.
TOKEN_PREFIX = "ruyi_"  # noqa: S105 - a marker, not a secret
#: Longest lifetime of a person's token, in days; clients' tokens may be unlimited.
MAX_TOKEN_DAYS = 366
#: A service account's password hash: no password ever matches it (not an Argon2 hash).
NO_PASSWORD = "!api-client"  # noqa: S105 - the absence of a password

#: Roles an integration client's service account may take (staff roles with a unit).
CLIENT_ROLES = (Role.HANDLER, Role.UNIT_LEAD, Role.DISPATCHER)


def _scopes(scopes) -> str:
    chosen = {Scope(s) for s in scopes}
    if not chosen:
        raise ValidationFailed(_("Choose at least one scope."))
    return "read write" if Scope.WRITE in chosen else "read"


def issue_token(actor: User, owner: User, *, name: str, scopes, expires_at: datetime | None,
                client: ApiClient | None = None) -> tuple[ApiToken, str]:
    """Create a token for ``owner`` (a person, or a client's service account) and return it
    with its secret, which is shown once and never stored."""
    own = client is None and actor.id == owner.id and actor.can(Permission.API_TOKEN_OWN)
    if not own and not actor.can(Permission.API_CLIENT_MANAGE):
        raise PermissionDenied(_("You may not create API tokens."))
    if client is None and not owner.can(Permission.API_TOKEN_OWN):
        raise ValidationFailed(_("This account may not hold API tokens."))
    name = (name or "").strip()
    if not name:
        raise ValidationFailed(_("Give the token a name."))
    now = now_utc()
    if expires_at is not None and expires_at <= now:
        raise ValidationFailed(_("The expiry must be in the future."))
    if client is None and (expires_at is None
                           or expires_at > now + timedelta(days=MAX_TOKEN_DAYS)):
        raise ValidationFailed(_("A personal token expires within %(days)d days.",
                                 days=MAX_TOKEN_DAYS))
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(user_id=owner.id, client_id=client.id if client else None, name=name[:100],
                     prefix=secret[:12], token_hash=hash_token(secret), scopes=_scopes(scopes),
                     created_at=now, created_by_id=actor.id, expires_at=expires_at)
    db.session.add(token)
    db.session.flush()
    audit.record("api.token_create", actor=actor, obj=token,
                 details={"owner": owner.username, "name": token.name, "scopes": token.scopes,
                          "client": client.name if client else None})
    logger.info("API token %s issued to %s by %s", token.prefix, owner.username, actor.username)
    return token, secret


def revoke_token(actor: User, token: ApiToken) -> ApiToken:
    """End a token at once; its owner or an administrator may."""
    if not token.can_manage(actor):
        raise PermissionDenied(_("You may not revoke this token."))
    if token.revoked_at is None:
        token.revoked_at = max(now_utc(), token.created_at)
        db.session.flush()
        audit.record("api.token_revoke", actor=actor, obj=token,
                     details={"owner": token.user.username, "name": token.name})
    return token


def find_token(secret: str) -> ApiToken | None:
    """The token with this secret (usable or not), or ``None``; one indexed statement."""
    if not secret.startswith(TOKEN_PREFIX) or len(secret) > 100:
        return None
    return db.session.execute(_BY_HASH, {"token_hash": hash_token(secret)}).unique() \
        .scalar_one_or_none()


_BY_HASH = sa.select(ApiToken).where(ApiToken.token_hash == sa.bindparam("token_hash"))


def use_is_due(token: ApiToken, now: datetime) -> bool:
    """Whether to record the token's use now: at most every five minutes (a write per
    request would cost more than the request)."""
    return token.last_used_at is None or now - token.last_used_at >= timedelta(minutes=5)


def note_use(token_id: int, now: datetime) -> None:
    """Record when a token was last used (one UPDATE; the caller starts the write)."""
    db.session.execute(sa.update(ApiToken).where(ApiToken.id == token_id)
                       .values(last_used_at=now))


def register_client(actor: User, *, name: str, unit: Unit, role: Role | str,
                    channel: ClientChannel | str = ClientChannel.API,
                    own_tickets_only: bool = True) -> ApiClient:
    """Register another system: its service account (no password: it cannot sign in on the
    web) takes ``role`` in ``unit``; its tokens are issued with :func:`issue_token`."""
    if not actor.can(Permission.API_CLIENT_MANAGE):
        raise PermissionDenied(_("You may not register API clients."))
    name = (name or "").strip()
    if not name:
        raise ValidationFailed(_("Give the client a name."))
    role = Role(role)
    if role not in CLIENT_ROLES or role not in UNIT_ROLES:
        raise ValidationFailed(_("Choose a handling role for the client."))
    if db.session.scalar(sa.select(ApiClient.id).where(ApiClient.name == name)):
        raise ValidationFailed(_("A client with this name exists already."))
    account = User(username=_service_username(name), display_name=name[:64], role=role,
                   unit_id=unit.id, password_hash=NO_PASSWORD, must_change_password=False,
                   is_active=True)
    db.session.add(account)
    db.session.flush()
    client = ApiClient(name=name, unit_id=unit.id, user_id=account.id,
                       channel=ClientChannel(channel), own_tickets_only=bool(own_tickets_only))
    db.session.add(client)
    db.session.flush()
    audit.record("api.client_register", actor=actor, obj=client,
                 details={"name": name, "unit": unit.code, "role": str(role),
                          "channel": str(client.channel)})
    return client


def set_client_active(actor: User, client: ApiClient, active: bool) -> ApiClient:
    """Switch a client off (its tokens stop working at once) or on again."""
    if not actor.can(Permission.API_CLIENT_MANAGE):
        raise PermissionDenied(_("You may not change API clients."))
    client.is_active = bool(active)
    client.user.is_active = bool(active)
    db.session.flush()
    audit.record("api.client_activate" if active else "api.client_deactivate", actor=actor,
                 obj=client, details={"name": client.name})
    return client


def _service_username(name: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:20] or "client"
    base = f"api-{slug}"
    taken = set(db.session.scalars(sa.select(User.username)
                                   .where(User.username.like(f"{base}%"))))
    candidate, n = base, 1
    while candidate in taken:
        n += 1
        candidate = f"{base}-{n}"
    return candidate


class ExternalRefTaken(DomainError):
    """The client already has a ticket under this reference (a conflict, not bad data)."""

    field = "external_ref"


def client_of(user) -> ApiClient | None:
    """The integration client acting through ``user`` (its service account), if any."""
    return getattr(user, "api_client", None)


def link_ticket(ticket, client: ApiClient, external_ref: str | None,
                open311_token: str | None = None) -> TicketLink:
    """Record that ``client`` created ``ticket``, under the client's own reference (and, for
    an Open311 request, the token it was answered with)."""
    external_ref = (external_ref or "").strip() or None
    if external_ref is not None and find_by_external_ref(client, external_ref) is not None:
        raise ExternalRefTaken(_("This external reference is already used by another ticket."))
    link = TicketLink(ticket_id=ticket.id, client_id=client.id, external_ref=external_ref,
                      open311_token=open311_token)
    db.session.add(link)
    db.session.flush()
    return link


def find_by_external_ref(client: ApiClient, external_ref: str) -> int | None:
    """The id of the client's ticket with this reference."""
    return db.session.scalar(sa.select(TicketLink.ticket_id).where(
        TicketLink.client_id == client.id, TicketLink.external_ref == external_ref))


def external_refs(ticket_ids, client: ApiClient | None) -> dict[int, str | None]:
    """Ticket id → the client's reference, for the tickets the client created."""
    if client is None or not ticket_ids:
        return {}
    rows = db.session.execute(sa.select(TicketLink.ticket_id, TicketLink.external_ref).where(
        TicketLink.client_id == client.id, TicketLink.ticket_id.in_(list(ticket_ids))))
    return dict(rows.all())
