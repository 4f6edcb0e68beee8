"""The layout every page shares (``base.html``): its navigation bar and the parts around
it, kept rendered (``rendered`` caches of :mod:`app.core.caches`: never while templates
auto-reload).

The bar is the same for everyone who reads the same language, has the same role (the menu
entries and the role's name), is on the same menu entry and has unread notifications or not;
what is the signed-in user's own — the CSRF token, the page's path (where the language switch
comes back to), the name and the unread count — goes into slots, filled in for each request.
Rendering it took a sixth of a queue page: twenty translations, a dozen URLs and a permission
check per menu entry.
"""

from __future__ import annotations

import re

from flask import render_template, request
from flask_wtf.csrf import generate_csrf
from jinja2 import pass_context
from markupsafe import Markup, escape

from app.core.caches import Store
from app.core.navigation import active_entry, nav_groups
from app.core.rendering import fragment

_navbars = Store("layout.navbar", limit=256)
_parts = Store("layout.parts", limit=64)

#: Never part of a rendered page (nor of anything a user can type into one: escaping keeps
#: NUL, and a name holding a slot's text would be filled in once, not twice).
SLOTS = {name: f"\x00{name}\x00" for name in ("csrf", "next", "who", "unread")}
_SLOT = re.compile("\x00(csrf|next|who|unread)\x00")


@pass_context
def navbar(context) -> Markup:
    """The navigation bar of the page being rendered (``{{ navbar() }}`` in ``base.html``)."""
    user = context["current_user"]
    signed_in = user.is_authenticated
    unread = context["unread_notifications"]() if signed_in else 0
    role = user.role if signed_in else None
    active = active_entry(request.endpoint)
    kept = fragment(_navbars, (role, active, bool(unread)),
                    lambda: render_template("_layout/navbar.html", signed_in=signed_in,
                                            role=role, active=active, unread=unread,
                                            nav_groups=nav_groups(user), slots=SLOTS))
    values = {"csrf": escape(generate_csrf()), "next": escape(request.full_path.rstrip("?")),
              "who": escape(user.display_name) if signed_in else "", "unread": str(unread)}
    return Markup(_SLOT.sub(lambda match: values[match.group(1)], kept))  # noqa: S704 - escaped


def layout_part(name: str) -> Markup:
    """A part of ``base.html`` that is the same on every page in a language, kept rendered:
    ``_layout/<name>.html`` (the stylesheets and the skip link, the footer and scripts)."""
    return fragment(_parts, name, lambda: render_template(f"_layout/{name}.html"))
