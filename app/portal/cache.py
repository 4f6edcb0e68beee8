"""What a worker keeps for the public request form, the busiest anonymous page.

Two things on that page are costly and almost never change: the list of active categories (a
query) and the page itself (about a hundred Jinja macro and WTForms widget calls). Both are
caches of :mod:`app.core.caches`:

* **Category choices** (``portal.category_choices``) — emptied when a category is written in
  this worker (the change signal ``categories``) and read again at the latest
  ``PORTAL_CHOICES_TTL`` seconds after they were read, so the other workers see an admin's
  edit within that time. The choices only decide what the form *offers*: the public
  submission's INSERT checks the chosen category is still active (:mod:`app.tickets.submission`;
  a firm account's through :func:`app.portal.services._category`), so a stale list can never
  store a retired category.
* **The blank form page** (``portal.blank_form``) for anonymous visitors — rendered with the
  real template (``portal/request_form.html``) once per language, path and category list, then
  served with the visitor's own CSRF token put in place of the one it was rendered with. Only
  a plain GET with no query string, no signed-in user and no pending flash message is served
  from it; everything else renders. Like every rendered cache it keeps nothing while
  templates auto-reload.
"""

from __future__ import annotations

import sqlalchemy as sa
from flask import request, session
from flask_login import current_user
from flask_wtf.csrf import generate_csrf

from app.core.caches import Store
from app.core.i18n import locale_name
from app.extensions import db
from app.tickets.models import Category

#: Stands for the CSRF token in a kept page (never a valid token: it has no signature).
TOKEN_SLOT = "\x00csrf-token\x00"  # noqa: S105 - a placeholder, not a secret

_choices = Store("portal.category_choices", limit=1)
_pages = Store("portal.blank_form", limit=64)

_ACTIVE = (sa.select(Category.id, Category.name).where(Category.is_active.is_(True))
           .order_by(Category.sort_order, Category.name))


def category_choices() -> tuple[tuple[str, str], ...]:
    """Active categories as ``(id, name)`` pairs, in form order (kept, see module doc)."""
    return _choices.get("active", lambda: tuple(
        (str(i), name) for i, name in db.session.execute(_ACTIVE)))


def blank_page_allowed() -> bool:
    """Whether this request may get the shared blank form page."""
    return (request.method == "GET" and not request.query_string
            and not current_user.is_authenticated and "_flashes" not in session)


def blank_page(render) -> str:
    """The blank form page for this request, kept per language, path and category list;
    ``render()`` renders it when missing. The visitor's CSRF token is put in its place."""
    token = generate_csrf()
    page = _pages.get((locale_name(), request.script_root, request.path, category_choices()),
                      lambda: render().replace(token, TOKEN_SLOT))
    return page.replace(TOKEN_SLOT, token)
