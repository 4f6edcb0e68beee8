"""Panels that domains add to another domain's page, so the page's owner never imports them.

The firm's 360° page shows the firm's tickets, ratings, visits and projects; the ticket page
shows the visit a ticket came from and the project it serves, and its 马上办 answer dialog the
portal's answer snippets. The firms and tickets packages
sit below those domains (ARCHITECTURE.md), so they cannot call them: instead each upper domain
registers its panel when its blueprint is imported — a template and a function giving the
template's values — as navigation entries are registered (:mod:`app.core.navigation`). The
page's view merges :func:`panel_values` into its template's context and includes the
templates of :func:`panels_for` in order.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

#: The firm's 360° page (``firms.detail``): values functions get ``(firm, user)``.
FIRM_PAGE = "firm"
#: The staff ticket page (``tickets.detail``): values functions get ``(ticket, user)``.
TICKET_PAGE = "ticket"
#: The 马上办 answer dialog of the ticket page (its panels take no values from the view).
ANSWER_DIALOG = "ticket.answer"


@dataclass(frozen=True)
class Panel:
    """One panel of a page: its template and the function giving the template's values."""

    name: str
    template: str
    values: Callable[[Any, Any], dict] | None = None
    order: int = 100


_PANELS: dict[str, list[Panel]] = {}


def register_panel(page: str, name: str, template: str,
                   values: Callable[[Any, Any], dict] | None = None, order: int = 100) -> None:
    """Add a panel to a page (idempotent: re-registering a name replaces it)."""
    panels = [panel for panel in _PANELS.get(page, []) if panel.name != name]
    panels.append(Panel(name, template, values, order))
    panels.sort(key=lambda panel: panel.order)
    _PANELS[page] = panels


def panels_for(page: str) -> list[Panel]:
    """The page's panels, in the order they are shown."""
    return list(_PANELS.get(page, ()))


def panel_values(page: str, obj, user) -> dict:
    """Every panel's template values for ``obj`` as seen by ``user``, in one mapping."""
    values: dict = {}
    for panel in _PANELS.get(page, ()):
        if panel.values is not None:
            values.update(panel.values(obj, user))
    return values
