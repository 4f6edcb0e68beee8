"""Cheap per-row rendering for list pages: labels, dates and links computed once, not per row;
and the one format of dates and times.

A queue page shows 25 rows and a ticket page up to 50 timeline entries; translating a label,
formatting a date with Babel or building a URL with ``url_for`` costs tens of microseconds
each, and they made up most of those pages' time. The helpers here compute them once per
page or keep them per process:

* :func:`translated` — a label mapping translated into the request's language, kept per
  language (the message catalogues are loaded once per process and never change while it
  runs);
* :func:`when` and :func:`day` — the one way every page writes a moment and a day, per
  language (``2026-12-05 14:58`` in Chinese, ``5 Dec 2026 14:58`` in English), the day's
  text kept per language and day;
* :func:`url_maker` — ``url_for`` done once with a placeholder, then filled in per row with
  the value quoted as the URL map would quote it;
* :func:`fragment` — a piece of a page rendered from its template once per language and
  per everything it shows (its key), such as the queue's filter form for a given input, and
  kept in a ``rendered`` cache (:mod:`app.core.caches`: not while templates auto-reload).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from urllib.parse import quote

from babel import Locale
from babel.dates import format_date
from flask import request, url_for
from markupsafe import Markup

from app.core.caches import Store, memo
from app.core.clock import LOCAL_TZ
from app.core.i18n import locale_name

#: (language, id of the mapping) → (the mapping, its translation); the mapping is kept so its
#: id can never be reused by another object while the entry exists.
_labels = Store("i18n.labels", limit=512)


def translated(labels: dict) -> dict:
    """``labels`` (values lazy strings) with every value translated into the request's
    language; the same keys, so templates index it exactly as the original."""
    return _labels.get((locale_name(), id(labels)), lambda: (
        labels, {name: str(label) for name, label in labels.items()}))[1]


#: How a language writes a day (Babel's date pattern) when not ``yyyy-MM-dd`` (Chinese, and
#: any time outside a request). Every language writes the time of day ``HH:mm`` (24 hours).
DAY_PATTERNS = {"en": "d MMM y"}


def when(value, seconds: bool = False) -> str:
    """A moment as every page writes it, in the request's language and the office's time zone
    (Asia/Shanghai):
    ``2026-12-05 14:58`` in Chinese, ``5 Dec 2026 14:58`` in English (``seconds``: with the
    seconds, for the audit log). The ``when`` template filter; ``—`` for no value."""
    if value is None:
        return "—"
    if not isinstance(value, datetime):
        return day(value)
    return short_datetimes(seconds)(value)


def day(value) -> str:
    """A day as every page writes it: ``2026-12-05`` in Chinese, ``5 Dec 2026`` in English (a
    moment gives its local day). The ``day`` template filter; ``—`` for no value."""
    if value is None:
        return "—"
    if isinstance(value, datetime):
        value = _local(value)
    return _day_text(locale_name(), value.year, value.month, value.day)


def month(value) -> str:
    """A month's name on its own (the working calendar's headings): ``十二月``, ``December``."""
    return format_date(value, "LLLL", locale=Locale.parse(locale_name()))


def short_datetimes(seconds: bool = False):
    """:func:`when` as a function of a datetime ``value``, with the request's language and
    time zone read once: for a list's rows."""
    locale = locale_name()
    clock = "{:02d}:{:02d}:{:02d}" if seconds else "{:02d}:{:02d}"

    def short(value: datetime) -> str:
        local = _local(value)
        return (_day_text(locale, local.year, local.month, local.day) + " "
                + clock.format(local.hour, local.minute, local.second))

    return short


def _local(value: datetime) -> datetime:
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)  # a naive time is UTC, as everywhere in Ruyi
    return value.astimezone(LOCAL_TZ)


@memo("dates.day_text", maxsize=8192)
def _day_text(locale: str, year: int, month: int, day: int) -> str:
    pattern = DAY_PATTERNS.get(locale)
    if pattern is None:
        return f"{year:04d}-{month:02d}-{day:02d}"
    return format_date(date(year, month, day), pattern, locale=Locale.parse(locale))


#: Never part of a real value: marks where the per-row value goes in the built URL.
_SLOT = "\x00slot\x00"
#: What the URL map's default (string) converter leaves unquoted in a path segment.
_PATH_SAFE = "!$&'()*+,/:;=@"


def url_maker(endpoint: str, name: str, **values):
    """A function of one value giving ``url_for(endpoint, **values, name=value)`` for a
    string path argument ``name``, or a query argument whose values need no quoting (a page
    number): the URL is built once per page instead of once per row. If ``values`` holds
    ``name`` already, the argument keeps its place among the query arguments."""
    built = url_for(endpoint, **{**values, name: _SLOT})
    slot = quote(_SLOT, safe=_PATH_SAFE)
    prefix, found, suffix = built.partition(slot)
    if not found:  # pragma: no cover - only a non-string converter would re-encode the slot
        return lambda value: url_for(endpoint, **values, **{name: value})
    return lambda value: prefix + quote(str(value), safe=_PATH_SAFE) + suffix


def fragment(store: Store, key: tuple, render) -> Markup:
    """The markup ``render()`` gives (a template's, autoescaped), kept in ``store`` per
    language, application root and ``key``: ``key`` must hold everything the fragment shows
    besides translated text and links (input, choices, errors...)."""
    full_key = (locale_name(), request.script_root, key)
    return store.get(full_key, lambda: Markup(render()))  # noqa: S704 - a template's output
