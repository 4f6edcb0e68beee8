"""Every process cache of the application, named here with the rule that empties it.

Speed comes first from SQL, then from what the tools do well, and only last from keeping
things in memory (shared/STYLE.md). What a worker keeps lives in a cache made here — a
:class:`Store` (a bounded dictionary) or a :func:`memo` (a memoised function) — under a name
of :data:`CACHES`, which says what it keeps and by which rule it goes stale:

* ``code`` — a function of the code and its arguments only (a built SQL statement, a
  message catalogue's texts, Babel's locale data): it cannot go stale while the process runs.
* ``rendered`` — markup rendered from a template file a designer edits. Kept only while
  :func:`keeps_rendered` says so: never while templates auto-reload (development,
  ``make run``, ``TEMPLATES_AUTO_RELOAD``) nor with ``RENDER_CACHE`` off (the tests, but
  those that test the caching), so an edited template shows on the next request. Its key
  holds everything the markup shows besides translated text and links.
* ``changes`` — rows of the database: emptied when a change signal it listens to fires in
  this worker (:func:`changed`; a flush writing one of :data:`TABLE_SIGNALS`' tables fires
  its signal once), and read again at the latest after its TTL setting, for what other
  workers wrote.
* ``revision`` — rows of the database, kept with the revision token they were read at and
  read again when the request's token (one row, read once a request) differs.
* ``request`` — one request's memo, gone with the request.

:func:`clear_all` empties every cache of the process (a test checks it leaves none filled).
A cache's store is shared by every application of the process; what it keeps is keyed by
everything it depends on, and the rendering switch is read from the application of the
request.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from enum import StrEnum
from threading import Lock

from flask import current_app, has_app_context


class Rule(StrEnum):
    """When what a cache keeps goes stale (see the module's documentation)."""

    CODE = "code"
    RENDERED = "rendered"
    CHANGES = "changes"
    REVISION = "revision"
    REQUEST = "request"


@dataclass(frozen=True)
class Spec:
    """A cache's rule and, for the reader, what it keeps and where."""

    rule: Rule
    keeps: str
    #: change signals that empty it (``changes`` and ``rendered`` caches)
    signals: tuple[str, ...] = ()
    #: the setting naming the seconds after which it is read again (``changes`` caches)
    ttl: str | None = None


C, R, CH, REV, REQ = Rule.CODE, Rule.RENDERED, Rule.CHANGES, Rule.REVISION, Rule.REQUEST

#: Every cache of the application: its name → its rule and what it keeps. A cache made under
#: a name missing here is refused; a test checks every name here is made somewhere.
CACHES: dict[str, Spec] = {
    # -- rendered from template files (only while rendering caches are on) ---------------------
    "layout.navbar": Spec(R, "the navigation bar (_layout/navbar.html) per language, role, "
                             "active entry and whether there are unread notifications; the "
                             "user's name, unread count, path and CSRF token go into slots"),
    "layout.parts": Spec(R, "the head and foot of every page (_layout/head.html, foot.html) "
                            "per language"),
    "pagination": Spec(R, "the pagination (_macros/_pagination.html) per endpoint, query "
                          "arguments and page position"),
    "tickets.queue_heading": Spec(R, "a queue's title, button and tabs (tickets/_heading.html) "
                                     "per queue, query arguments and whether the user may "
                                     "record a demand"),
    "tickets.queue_filters": Spec(R, "a queue's filter form (tickets/_filters.html) per queue, "
                                     "query arguments, choice lists and input"),
    "tickets.queue_table_head": Spec(R, "a queue table's head (tickets/_table_head.html) per "
                                        "query arguments"),
    "tickets.dialog_fields": Spec(R, "the ticket page's dialog fields and widgets "
                                     "(_macros/forms.html) per form, field state and "
                                     "attributes"),
    "portal.blank_form": Spec(R, "the public request form's blank page (portal/"
                                 "request_form.html) per language, path and category list, "
                                 "with a slot for the visitor's CSRF token",
                              signals=("categories",)),
    # -- rows of the database -----------------------------------------------------------------
    "portal.category_choices": Spec(CH, "the public form's active categories",
                                    signals=("categories",), ttl="PORTAL_CHOICES_TTL"),
    "tickets.filter_choices": Spec(CH, "the queue filter's categories and units, per kind of "
                                       "reader", signals=("categories", "units"),
                                   ttl="QUEUE_CHOICES_TTL"),
    "sla.configuration": Spec(REV, "the working calendar, the SLA policies and the SLA "
                                   "settings, each with the revision it was read at"),
    # -- functions of the code and their arguments --------------------------------------------
    "i18n.labels": Spec(C, "label mappings translated per language (rendering.translated)"),
    "tickets.context_labels": Spec(C, "the ticket pages' translated label mappings per "
                                      "language"),
    "dates.day_text": Spec(C, "a day's text per language and day (rendering.day)"),
    "forms.wtforms_catalogue": Spec(C, "WTForms' own messages per language"),
    "search.convertible": Spec(C, "the characters OpenCC's Traditional → Simplified tables "
                                  "could change"),
    "search.simplified": Spec(C, "texts converted to Simplified and lower-cased"),
    "tickets.by_reference_statement": Spec(C, "the statement loading a ticket by reference"),
    "tickets.records_statements": Spec(C, "the ticket page's records statement per shape"),
    "tickets.queue_statements": Spec(C, "a queue's page and count statements per user, queue, "
                                        "order and filter values"),
    "tickets.dialog_forms": Spec(C, "the action form class per set of dialog fields"),
    "tickets.counter_upsert": Spec(C, "the reference counter's upsert per database"),
    "sessions.serializer": Spec(C, "the session cookie's signing serializer per secret key"),
    "tickets.pending_statement": Spec(C, "the statement reading a ticket's open requests"),
    "tickets.system_texts": Spec(C, "each system text as every catalogue writes it"),
    "visits.ticket_issue_statement": Spec(C, "the statement of a ticket's visit issue"),
    "projects.ticket_link_statement": Spec(C, "the statement of a ticket's project link"),
    "jobs.cron_matchers": Spec(C, "a periodic job's cron expression, parsed"),
    "db.insert_statements": Spec(C, "INSERT … RETURNING per table"),
    "reports.fact_statements": Spec(C, "the report facts' refresh and upsert statements per "
                                       "database"),
    "reports.workday_arrays": Spec(C, "the SQL arrays of the cached working calendar"),
    "firms.xlsx_columns": Spec(C, "a spreadsheet column's number per letters"),
    "sla.provisional_years": Spec(C, "next year's provisional calendar days per year, computed "
                                     "by rule with the holidays package (sla.services."
                                     "provisional_year)"),
    "sla.calendar_alerts": Spec(C, "the (day, year) pairs whose missing calendar was logged "
                                   "(so the warning is logged once a day)"),
    # -- one request ----------------------------------------------------------------------------
    "i18n.request_locale": Spec(REQ, "the request's locale name and message catalogue"),
    "sla.request_values": Spec(REQ, "the request's calendar, policies, office hours and "
                                    "settings"),
}

#: A flush that inserts, updates or deletes a row of one of these tables fires the signal.
TABLE_SIGNALS = {"ticket_categories": "categories", "units": "units"}


class Cache:
    """A named cache: :meth:`clear` empties it, :meth:`size` says how much it holds."""

    def __init__(self, name: str, clear: Callable[[], None] | None = None,
                 size: Callable[[], int] | None = None):
        if name not in CACHES:
            raise KeyError(f"cache {name!r} is not named in app.core.caches.CACHES")
        self.name, self.spec = name, CACHES[name]
        self._clear, self._size = clear, size
        _registry.setdefault(name, []).append(self)

    def clear(self) -> None:
        self._clear()

    def size(self) -> int:
        return self._size()


#: name → the caches made under it (a name may stand for a few stores of one kind).
_registry: dict[str, list[Cache]] = {}


class Store(Cache):
    """A dictionary of made values, by key. :meth:`get` gives the value kept for a key or
    makes it (and keeps it, unless the cache's rule says not to now). It starts over when it
    holds ``limit`` entries: a page uses a handful of keys, so the bound only stops unusual
    input (every search a new key) from growing it without end."""

    def __init__(self, name: str, limit: int = 1024):
        super().__init__(name)
        self.limit = limit
        self._values: dict = {}
        self._rendered = self.spec.rule is Rule.RENDERED
        self._ttl = self.spec.ttl

    def get(self, key: Hashable, make: Callable):
        if self._rendered and not keeps_rendered():
            return make()
        if self._ttl is not None:
            return self._get_fresh(key, make)
        value = self._values.get(key, _MISSING)
        if value is _MISSING:
            value = make()
            self._keep(key, value)
        return value

    def _get_fresh(self, key: Hashable, make: Callable):
        """The value if read less than the TTL setting's seconds ago, else made again."""
        now = time.monotonic()
        read_at, value = self._values.get(key, (None, None))
        if read_at is None or now - read_at >= current_app.config[self._ttl]:
            value = make()
            self._keep(key, (now, value))
        return value

    def _keep(self, key: Hashable, value) -> None:
        with _lock:
            if len(self._values) >= self.limit:
                self._values.clear()
            self._values[key] = value

    def clear(self) -> None:
        self._values.clear()

    def size(self) -> int:
        return len(self._values)


_MISSING = object()
_lock = Lock()


def memo(name: str, maxsize: int | None = None):
    """Decorator: the function memoised (``functools.lru_cache``; unbounded without
    ``maxsize``) as the cache ``name``."""
    def decorate(function):
        memoised = functools.lru_cache(maxsize=maxsize)(function)
        Cache(name, clear=memoised.cache_clear, size=lambda: memoised.cache_info().currsize)
        return memoised

    return decorate


def keeps_rendered(app=None) -> bool:
    """Whether ``rendered`` caches keep what they render: ``RENDER_CACHE`` is on (the
    default; off in the tests) and templates do not auto-reload."""
    app = app or current_app._get_current_object()
    return app.config.get("RENDER_CACHE", True) and not app.jinja_env.auto_reload


def changed(signal: str) -> None:
    """Something the signal names changed in this worker: empty every cache listening."""
    for caches in _registry.values():
        if signal in caches[0].spec.signals:
            for cache in caches:
                cache.clear()


def clear_all() -> None:
    """Empty every cache of the process (a ``request`` cache: the current request's)."""
    for caches in _registry.values():
        for cache in caches:
            cache.clear()


def registered() -> dict[str, list[Cache]]:
    """The caches made so far, by name."""
    return dict(_registry)


def init_app(app) -> None:
    """Fire :data:`TABLE_SIGNALS` on flushes (once per process, whatever the number of
    applications), after the models are imported."""
    from sqlalchemy import event

    from app.db import Base

    mappers = {mapper.local_table.name: mapper for mapper in Base.registry.mappers}
    for table, signal in TABLE_SIGNALS.items():
        mapper, listener = mappers[table], _LISTENERS[signal]  # a renamed table fails here
        for name in ("after_insert", "after_update", "after_delete"):
            if not event.contains(mapper, name, listener):
                event.listen(mapper, name, listener)


def _listener(signal: str):
    def fire(_mapper, _connection, _target) -> None:
        changed(signal)

    return fire


#: One listener per signal, so that a second application never adds a second one.
_LISTENERS = {signal: _listener(signal) for signal in TABLE_SIGNALS.values()}


def request_cache(name: str, holder: Callable[[], object | None], attributes: tuple[str, ...]):
    """Name a ``request`` memo kept as ``attributes`` of the object ``holder()`` gives (the
    request's ``g`` or an extension's state on it; ``None`` outside a request)."""
    def clear() -> None:
        target = holder() if has_app_context() else None
        for attribute in attributes if target is not None else ():
            target.__dict__.pop(attribute, None)

    def size() -> int:
        target = holder() if has_app_context() else None
        return 0 if target is None else sum(a in target.__dict__ for a in attributes)

    return Cache(name, clear=clear, size=size)
