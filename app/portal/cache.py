"""Process caches for the public request form, the busiest anonymous page.

Two things on that page are costly and almost never change: the list of active categories (a
query) and the page itself (about a hundred Jinja macro and WTForms widget calls). Both are
kept per worker process:

* **Category choices** — rebuilt when a category is inserted or changed in this process
  (mapper events) and at the latest ``PORTAL_CHOICES_TTL`` seconds after they were read, so
  the other workers see an admin's edit within that time. The choices only decide what the
  form *offers*: the submission service checks the chosen category against the database
  (:func:`app.portal.services._category`), so a stale list can never store a retired category.
* **The blank form page** for anonymous visitors — rendered once per language, path and
  choices version with the real template, then served with the visitor's own CSRF token put
  in place of the one it was rendered with. Only a plain GET with no query string, no
  signed-in user and no pending flash message is served from it; everything else renders.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from threading import Lock

import sqlalchemy as sa
from flask import current_app, request, session
from flask_login import current_user
from flask_wtf.csrf import generate_csrf

from app.core.i18n import locale_name
from app.extensions import db
from app.tickets.models import Category

#: Stands for the CSRF token in a cached page (never a valid token: it has no signature).
TOKEN_SLOT = "\x00csrf-token\x00"  # noqa: S105 - a placeholder, not a secret


@dataclass(frozen=True)
class Choices:
    """The active categories as ``(value, label)`` pairs, with a version for the page cache."""

    version: int
    pairs: tuple[tuple[str, str], ...]
    read_at: float


_lock = Lock()
#: Bumped whenever a category is written in this process; every app's cache then starts over.
_generation = [0]


def _state() -> dict:
    """This application's cache (kept on the app, so test apps never share pages)."""
    state = current_app.extensions.get("portal_cache")
    if state is None or state["generation"] != _generation[0]:
        with _lock:
            state = {"choices": None, "version": 0, "pages": {}, "generation": _generation[0]}
            current_app.extensions["portal_cache"] = state
    return state


def forget() -> None:
    """Make every cached choice list and page stale (called when a category changes)."""
    _generation[0] += 1


def category_choices() -> tuple[tuple[str, str], ...]:
    """Active categories as ``(id, name)`` pairs, in form order (cached, see module doc)."""
    return _current_choices().pairs


def _current_choices() -> Choices:
    state = _state()
    ttl = current_app.config.get("PORTAL_CHOICES_TTL", 10)
    cached = state["choices"]
    now = time.monotonic()
    if cached is not None and now - cached.read_at < ttl:
        return cached
    pairs = tuple((str(i), name) for i, name in db.session.execute(
        sa.select(Category.id, Category.name).where(Category.is_active.is_(True))
        .order_by(Category.sort_order, Category.name)))
    with _lock:
        if cached is not None and cached.pairs == pairs:
            fresh = Choices(cached.version, pairs, now)  # unchanged: keep the pages
        else:
            state["version"] += 1
            fresh = Choices(state["version"], pairs, now)
            state["pages"] = {}
        state["choices"] = fresh
    return fresh


def blank_page_allowed() -> bool:
    """Whether this request may get the shared blank form page."""
    return (request.method == "GET" and not request.query_string
            and not current_user.is_authenticated and "_flashes" not in session)


def blank_page(render) -> str:
    """The blank form page for this request: cached per language, path and choices version;
    ``render()`` renders it when missing. The visitor's CSRF token is put in its place."""
    token = generate_csrf()
    key = (locale_name(), request.path, _current_choices().version)
    pages = _state()["pages"]
    page = pages.get(key)
    if page is None:
        html = render()
        if token not in html:  # pragma: no cover - the template always carries the token
            return html
        page = html.replace(token, TOKEN_SLOT)
        pages[key] = page
    return page.replace(TOKEN_SLOT, token)


def _category_changed(_mapper, _connection, _target) -> None:
    forget()


for _event in ("after_insert", "after_update", "after_delete"):
    sa.event.listen(Category, _event, _category_changed)
