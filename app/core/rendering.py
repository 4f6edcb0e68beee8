"""Cheap per-row rendering for list pages: labels, dates and links computed once, not per row.

A queue page shows 25 rows and a ticket page up to 50 timeline entries; translating a label,
formatting a date with Babel or building a URL with ``url_for`` costs tens of microseconds
each, and they made up most of those pages' time. The helpers here give exactly the same text
as the slow calls (tests compare them), from results kept per process:

* :func:`translated` — a label mapping translated into the request's language, kept per
  language (the message catalogues are loaded once per process and never change while it
  runs);
* :func:`datetimeformat` — the ``datetimeformat`` template filter: the ``'short'`` format is
  put together from Babel's own date and time texts, kept per local day and per minute of the
  day (and whether it is the minute's first second); any other format goes to Flask-Babel as
  before;
* :func:`url_maker` — ``url_for`` done once with a placeholder, then filled in per row with
  the value quoted as the URL map would quote it;
* :func:`fragment` — a piece of a page rendered from its template once per language and
  per everything it shows (its key), such as the queue's filter form for a given input, and
  kept in a ``rendered`` cache (:mod:`app.core.caches`: not while templates auto-reload).
"""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import quote

from babel import Locale
from babel.dates import format_date, format_time, get_datetime_format
from flask import request, url_for
from flask_babel import format_datetime, get_timezone
from markupsafe import Markup

from app.core.caches import Store, memo
from app.core.i18n import locale_name

#: (language, id of the mapping) → (the mapping, its translation); the mapping is kept so its
#: id can never be reused by another object while the entry exists.
_labels = Store("i18n.labels", limit=512)


def translated(labels: dict) -> dict:
    """``labels`` (values lazy strings) with every value translated into the request's
    language; the same keys, so templates index it exactly as the original."""
    return _labels.get((locale_name(), id(labels)), lambda: (
        labels, {name: str(label) for name, label in labels.items()}))[1]


def datetimeformat(value, format=None) -> str:
    """Flask-Babel's ``datetimeformat`` filter, with the ``'short'`` format made cheap."""
    if format != "short" or not isinstance(value, datetime):
        return format_datetime(value, format)
    return short_datetimes()(value)


def short_datetimes():
    """``datetimeformat(value, 'short')`` as a function of a datetime ``value``, with the
    request's language and time zone read once: for a list's rows."""
    zone, locale = get_timezone(), locale_name()
    pattern = _short_pattern(locale)

    def short(value: datetime) -> str:
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)  # as Flask-Babel reads a naive time: UTC
        local = value.astimezone(zone)
        return (pattern
                .replace("{0}", _short_time(locale, local.hour, local.minute, local.second == 0))
                .replace("{1}", _short_date(locale, local.year, local.month, local.day)))

    return short


@memo("dates.short_pattern", maxsize=16)
def _short_pattern(locale: str) -> str:
    """How the language joins a short date and a short time (as Babel joins them)."""
    return str(get_datetime_format("short", locale=Locale.parse(locale))).replace("'", "")


@memo("dates.short_date", maxsize=8192)
def _short_date(locale: str, year: int, month: int, day: int) -> str:
    return format_date(datetime(year, month, day), "short", locale=Locale.parse(locale))


@memo("dates.short_time", maxsize=8192)
def _short_time(locale: str, hour: int, minute: int, on_the_minute: bool) -> str:
    """A short time shows no seconds and no zone, but a day period such as Traditional
    Chinese "午夜" (midnight) is named only at 00:00:00 exactly: Babel's rules compare whole
    seconds, and all their other bounds are whole hours, so a second past the minute stands
    for every other second of it."""
    moment = datetime(2000, 1, 1, hour, minute, 0 if on_the_minute else 1, tzinfo=UTC)
    return format_time(moment, "short", tzinfo=UTC, locale=Locale.parse(locale))


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
