"""Stored messages, rendered per reader: a message key and its parameters, not a text.

A notification (in-app or outgoing) stores ``key`` and ``params``; its text is made when it
is read — on the page in the reader's language, at delivery in the recipient's — from the
catalogue entry registered for the key. A row without a key (written before keys existed, or
a free text) shows its stored text as it is.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask_babel import force_locale


@dataclass(frozen=True)
class MessageKind:
    """How one key becomes a subject and a body: ``render(params) -> (subject, body)``, called
    in the reader's locale (so ``gettext`` inside it translates into that language)."""

    key: str
    render: Callable[[dict[str, Any]], tuple[str, str]]


_kinds: dict[str, MessageKind] = {}


def message(key: str):
    """Register the renderer of ``key`` (a function of the params returning subject and body)."""

    def decorator(func: Callable[[dict[str, Any]], tuple[str, str]]):
        _kinds[key] = MessageKind(key, func)
        return func

    return decorator


def render(key: str | None, params: dict[str, Any] | None, locale: str | None,
           subject: str = "", body: str = "") -> tuple[str, str]:
    """The subject and body of a stored message in ``locale`` (the stored texts without a
    key, or for a key no longer known)."""
    kind = _kinds.get(key) if key else None
    if kind is None:
        return subject, body
    if not locale:
        return kind.render(dict(params or {}))
    with force_locale(locale):
        return kind.render(dict(params or {}))


def render_row(row) -> tuple[str, str]:
    """:func:`render` for a stored row with ``key``, ``params``, ``locale``, ``subject``,
    ``body`` (an outbox row; a notification reads ``text`` as its body)."""
    return render(row.key, row.params, row.locale, row.subject or "",
                  getattr(row, "body", None) or getattr(row, "text", "") or "")
