"""The main navigation, built from the signed-in user's permissions.

Each domain registers its entries when its blueprint is imported; the base template shows only
the entries the user's role allows, so nobody is offered a page that would answer 403.
"""

from __future__ import annotations

from dataclasses import dataclass

from app.core.permissions import Permission


@dataclass(frozen=True)
class NavItem:
    """One entry of the main menu."""

    endpoint: str
    label: object  # a lazy string, translated when rendered
    permission: Permission
    order: int = 100


_ITEMS: list[NavItem] = []


def register_nav(endpoint: str, label, permission: Permission, order: int = 100) -> None:
    """Add a menu entry (idempotent: re-registering an endpoint replaces it)."""
    _ITEMS[:] = [item for item in _ITEMS if item.endpoint != endpoint]
    _ITEMS.append(NavItem(endpoint, label, permission, order))
    _ITEMS.sort(key=lambda item: item.order)


def nav_for(user) -> list[NavItem]:
    """The entries this user may open."""
    if not getattr(user, "is_authenticated", False):
        return []
    return [item for item in _ITEMS if user.can(item.permission)]


def active_entry(endpoint: str | None) -> str | None:
    """The menu entry shown as the current page: ``endpoint`` if it has one, else ``None``."""
    if endpoint == "main.home" or any(item.endpoint == endpoint for item in _ITEMS):
        return endpoint
    return None
