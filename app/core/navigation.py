"""The main navigation, built from the signed-in user's permissions.

Each domain registers its entries when its blueprint is imported; the base template shows only
the entries the user's role allows, so nobody is offered a page that would answer 403.

Entries sit in four groups — work, firms & visits, reports, administration — shown as menus,
so that the bar holds one row at 1200 px in all three languages whatever the role (a group
with a single entry for the role is shown as that entry's link).
"""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l

from app.core.permissions import Permission

#: The menus of the bar, in order: group → its label.
GROUPS = {
    "work": _l("Work"),
    "firms": _l("Firms & visits"),
    "reports": _l("Reports"),
    "admin": _l("Administration"),
}


@dataclass(frozen=True)
class NavItem:
    """One entry of the main menu."""

    endpoint: str
    label: object  # a lazy string, translated when rendered
    permission: Permission
    order: int = 100
    group: str = "work"


@dataclass(frozen=True)
class NavGroup:
    """One menu of the bar with the entries the user may open."""

    name: str
    label: object
    items: tuple[NavItem, ...]

    @property
    def endpoints(self) -> tuple[str, ...]:
        return tuple(item.endpoint for item in self.items)


_ITEMS: list[NavItem] = []


def register_nav(endpoint: str, label, permission: Permission, order: int = 100,
                 group: str = "work") -> None:
    """Add a menu entry to a group of :data:`GROUPS` (idempotent: re-registering an
    endpoint replaces it)."""
    if group not in GROUPS:
        raise KeyError(f"navigation group {group!r} is not one of {sorted(GROUPS)}")
    _ITEMS[:] = [item for item in _ITEMS if item.endpoint != endpoint]
    _ITEMS.append(NavItem(endpoint, label, permission, order, group))
    _ITEMS.sort(key=lambda item: item.order)


def nav_for(user) -> list[NavItem]:
    """The entries this user may open."""
    if not getattr(user, "is_authenticated", False):
        return []
    return [item for item in _ITEMS if user.can(item.permission)]


def nav_groups(user) -> list[NavGroup]:
    """The user's entries by group, in the groups' order, leaving out empty groups."""
    items = nav_for(user)
    groups = (NavGroup(name, label, tuple(i for i in items if i.group == name))
              for name, label in GROUPS.items())
    return [group for group in groups if group.items]


def active_entry(endpoint: str | None) -> str | None:
    """The menu entry shown as the current page: ``endpoint`` if it has one, else ``None``."""
    if endpoint == "main.home" or any(item.endpoint == endpoint for item in _ITEMS):
        return endpoint
    return None
