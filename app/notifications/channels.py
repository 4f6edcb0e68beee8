"""Delivery channels: a small registry, channel name → how to deliver one message.

The outbox (:mod:`app.notifications.outbox`) stores what to send; a channel only sends. A
package adds a channel without touching this one::

    from app.notifications.channels import Delivery, PermanentFailure, register_channel

    def deliver_webhook(delivery: Delivery, connection) -> None:
        # delivery.address: where (here a webhook subscription's id); delivery.subject,
        # delivery.body: the text in the recipient's language; delivery.params, .tags, .link
        response = connection.post(url_of(delivery.address), json=..., timeout=10)
        if response.status_code in (400, 404, 410):
            raise PermanentFailure(f"HTTP {response.status_code}")  # no retries
        response.raise_for_status()  # anything else raised: retried with backoff

    register_channel("webhook", deliver_webhook, connect=requests.Session)

``deliver`` returns normally when the message is delivered; any exception is a failure,
retried with backoff, and :class:`PermanentFailure` one that is not worth retrying. It must not
touch the database (it runs between the claim and the record of the outcome). ``connect``,
when given, opens one connection for a batch of messages of the channel (a context manager,
or a plain object), passed to every ``deliver`` of that batch; without it ``connection`` is
``None``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


class PermanentFailure(Exception):
    """A failure that retrying cannot fix (a malformed address, a refused recipient)."""


class UnknownChannel(LookupError):
    """No channel of that name is registered."""


@dataclass(frozen=True)
class Delivery:
    """What a channel sends: one message to one address, its texts already rendered."""

    id: int
    channel: str
    address: str
    subject: str
    body: str
    link: str | None = None
    locale: str | None = None
    params: dict[str, Any] = field(default_factory=dict)
    tags: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Channel:
    """A registered channel: ``deliver(delivery, connection)`` and an optional ``connect()``."""

    name: str
    deliver: Callable[[Delivery, Any], None]
    connect: Callable[[], Any] | None = None


_channels: dict[str, Channel] = {}


def register_channel(name: str, deliver: Callable[[Delivery, Any], None], *,
                     connect: Callable[[], Any] | None = None) -> Channel:
    """Add (or replace) the channel ``name``; call it at import time of the channel's module."""
    channel = Channel(name, deliver, connect)
    _channels[name] = channel
    return channel


def channel_of(name: str) -> Channel:
    """The channel registered as ``name``."""
    try:
        return _channels[name]
    except KeyError:
        raise UnknownChannel(name) from None


def channel_names() -> list[str]:
    """Every registered channel, by name."""
    return sorted(_channels)
