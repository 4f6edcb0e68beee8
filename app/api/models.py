"""The machine interface's own rows: API tokens, integration clients, the external references
their tickets carry and the idempotency keys of their writes.

A token never grants more than its user may do on the screens: every request authenticated by
a token runs as that token's user (a person, or the service account of an integration
client), through the same permissions and predicates as the web.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.auth.models import Unit, User
from app.core.clock import now_utc
from app.db import TimestampMixin, UTCDateTime, enum_type
from app.extensions import db


class Scope(StrEnum):
    """What a token may do: ``read`` answers GET only; ``write`` also changes things."""

    READ = "read"
    WRITE = "write"


SCOPE_LABELS = {Scope.READ: _l("Read only"), Scope.WRITE: _l("Read and write")}


class ClientChannel(StrEnum):
    """The channel the tickets of an integration client are recorded with (DOMAIN §3)."""

    API = "api"
    HOTLINE_12345 = "hotline_12345"


CLIENT_CHANNEL_LABELS = {ClientChannel.API: _l("Other system (API)"),
                         ClientChannel.HOTLINE_12345: _l("12345 hotline platform")}


def hash_token(secret: str) -> str:
    """The stored form of a token: SHA-256 of a 256-bit random secret (a slow hash adds
    nothing to a secret nobody can guess, and this one is looked up by its unique index)."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


class ApiClient(TimestampMixin, db.Model):
    """Another system (the 12345 platform, a city app, a department's system) registered by an
    administrator. It acts through its own service account, a user with a staff role and the
    client's unit: what that role may do and see is what the client may."""

    __tablename__ = "api_clients"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(100), unique=True, nullable=False)
    unit_id: Mapped[int] = mapped_column(sa.ForeignKey("units.id"), nullable=False)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), unique=True, nullable=False)
    channel: Mapped[ClientChannel] = mapped_column(enum_type(ClientChannel, "client_channel"),
                                                   nullable=False, default=ClientChannel.API)
    #: Sees only the tickets it created itself (a narrower rule than its role's, never wider).
    own_tickets_only: Mapped[bool] = mapped_column(sa.Boolean, nullable=False, default=True)
    is_active: Mapped[bool] = mapped_column(sa.Boolean, nullable=False, default=True)

    unit: Mapped[Unit] = relationship()
    user: Mapped[User] = relationship()

    def __repr__(self) -> str:
        return f"<ApiClient {self.id} {self.name}>"


class ApiToken(db.Model):
    """A bearer token: shown once, stored hashed, with scopes and an expiry. A person's own
    token (``client_id`` empty) or an integration client's."""

    __tablename__ = "api_tokens"
    __table_args__ = (
        sa.CheckConstraint("scopes IN ('read', 'read write')", name="scopes_known"),
        sa.CheckConstraint("revoked_at IS NULL OR revoked_at >= created_at",
                           name="revoked_after_created"),
        sa.Index("ix_api_tokens_user_id", "user_id"),
        sa.Index("ix_api_tokens_client_id", "client_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), nullable=False)
    client_id: Mapped[int | None] = mapped_column(sa.ForeignKey("api_clients.id"))
    name: Mapped[str] = mapped_column(sa.String(100), nullable=False)
    #: The token's first characters, shown in lists so a person can tell tokens apart.
    prefix: Mapped[str] = mapped_column(sa.String(16), nullable=False)
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True, nullable=False)
    scopes: Mapped[str] = mapped_column(sa.String(16), nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=now_utc)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship(foreign_keys=[user_id], lazy="joined",
                                      innerjoin=True)
    client: Mapped[ApiClient | None] = relationship(lazy="joined")

    def __repr__(self) -> str:
        return f"<ApiToken {self.id} {self.prefix}>"

    def allows(self, scope: Scope) -> bool:
        """Whether the token carries ``scope``."""
        return str(scope) in self.scopes.split()

    def is_usable(self, now: datetime) -> bool:
        """Not revoked, not expired, its user (and client) active."""
        return (self.revoked_at is None and (self.expires_at is None or self.expires_at > now)
                and self.user.is_active and (self.client is None or self.client.is_active))

    def can_manage(self, user) -> bool:
        """Its owner or an administrator may revoke it (a client's tokens: administrators)."""
        from app.core.permissions import Permission

        if user.can(Permission.API_CLIENT_MANAGE):
            return True
        return self.client_id is None and self.user_id == user.id


class TicketLink(db.Model):
    """A ticket created by an integration client: which client, and the client's own
    reference for it (unique per client: a 12345 work order number maps to one ticket)."""

    __tablename__ = "api_ticket_links"
    __table_args__ = (
        sa.UniqueConstraint("client_id", "external_ref", name="uq_api_ticket_links_client_ref"),
        sa.Index("ix_api_ticket_links_client_id_ticket_id", "client_id", "ticket_id"),
    )

    ticket_id: Mapped[int] = mapped_column(sa.ForeignKey("tickets.id"), primary_key=True)
    client_id: Mapped[int] = mapped_column(sa.ForeignKey("api_clients.id"), nullable=False)
    external_ref: Mapped[str | None] = mapped_column(sa.String(64))
    #: The Open311 ``token`` of a request created through GeoReport v2 (``GET tokens/{token}``
    #: gives its ``service_request_id``); random, unique.
    open311_token: Mapped[str | None] = mapped_column(sa.String(43), unique=True)


class IdempotencyKey(db.Model):
    """The first answer to a POST carrying an ``Idempotency-Key``: a retry with the same key
    gets it again instead of doing the work twice. The row is written in the same transaction
    as the work, and the unique key makes a concurrent duplicate wait for the first and then
    find its answer."""

    __tablename__ = "api_idempotency_keys"
    __table_args__ = (
        sa.UniqueConstraint("user_id", "key", name="uq_api_idempotency_keys_user_key"),
        sa.Index("ix_api_idempotency_keys_created_at", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), nullable=False)
    key: Mapped[str] = mapped_column(sa.String(255), nullable=False)
    #: Method, path and a hash of the body: the same key with another request is refused.
    fingerprint: Mapped[str] = mapped_column(sa.String(64), nullable=False)
    #: The first answer: status, body and the headers that name what it made (Location, ETag).
    status_code: Mapped[int] = mapped_column(sa.Integer, nullable=False)
    body: Mapped[str] = mapped_column(sa.Text, nullable=False)
    headers: Mapped[dict] = mapped_column(sa.JSON, nullable=False, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=now_utc)
