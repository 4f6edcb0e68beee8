"""Language negotiation (DOMAIN §9) and display helpers.

Order: the signed-in user's saved preference, then an explicit choice made with the switcher
(kept in the session), then the browser's Accept-Language — where every Traditional Chinese
variant (zh-TW, zh-HK, zh-MO, zh-Hant…) maps to ``zh_Hant``.
"""

from __future__ import annotations

from babel.support import NullTranslations
from flask import current_app, g, has_request_context, request, session
from flask_babel import get_locale, get_translations
from flask_login import current_user
from jinja2 import pass_context
from markupsafe import Markup

from app.core.caches import request_cache

LANGUAGE_NAMES = {"zh_Hans_CN": "简体中文", "zh_Hant": "繁體中文", "en": "English"}
TRADITIONAL_REGIONS = {"tw", "hk", "mo"}


def map_language_tag(tag: str) -> str | None:
    """Map one browser language tag to a supported locale, or ``None``."""
    parts = tag.strip().lower().replace("_", "-").split("-")
    if parts[0] == "en":
        return "en"
    if parts[0] != "zh":
        return None
    if "hant" in parts[1:] or TRADITIONAL_REGIONS.intersection(parts[1:]):
        return "zh_Hant"
    return "zh_Hans_CN"


def negotiate(accept_languages) -> str | None:
    """The first supported locale in Accept-Language order (already sorted by quality)."""
    for tag, _quality in accept_languages:
        mapped = map_language_tag(tag)
        if mapped:
            return mapped
    return None


def select_locale() -> str:
    """Flask-Babel locale selector (outside a request — commands, jobs — the default locale)."""
    if not has_request_context():
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    supported = current_app.config["LANGUAGES"]
    preference = getattr(current_user, "preferred_language", None)
    if preference in supported:
        return preference
    chosen = session.get("lang")
    if chosen in supported:
        return chosen
    return negotiate(request.accept_languages) or current_app.config["BABEL_DEFAULT_LOCALE"]


def html_lang(locale: str) -> str:
    """BCP 47 tag for the ``<html lang>`` attribute (lets fonts pick the right glyphs)."""
    return {"zh_Hans_CN": "zh-CN", "zh_Hant": "zh-TW", "en": "en"}.get(locale, "zh-CN")


def _babel_state():
    """Flask-Babel's per-request state (``None`` before its first look-up or outside an
    application context), read without its proxies."""
    try:
        return g._get_current_object().__dict__.get("_flask_babel")
    except RuntimeError:
        return None


def locale_name() -> str:
    """``str(get_locale())``, looked up once per request and locale: list pages key what they
    keep by it a dozen times a request, and each look-up cost some twenty Python calls."""
    return _per_locale("ruyi_locale", lambda: str(get_locale()))


def request_translations():
    """Flask-Babel's :func:`~flask_babel.get_translations`, looked up once per request (and
    per locale: it is looked up again when the locale changes, e.g. inside ``force_locale``)."""
    return _per_locale("ruyi_translations",
                       lambda: get_translations() if g else NullTranslations())


def _per_locale(attribute: str, make):
    """``make()``, kept beside Flask-Babel's per-request state as ``attribute`` with the
    locale it was made for, and made again once the locale changes (``force_locale``,
    ``refresh()``). Outside an application context it is made each time."""
    state = _babel_state()
    if state is not None:
        kept = state.__dict__.get(attribute)
        if kept is not None and kept[0] is state.__dict__.get("babel_locale"):
            return kept[1]
    value = make()
    state = _babel_state()  # the look-up above may have created it
    if state is not None:
        setattr(state, attribute, (state.__dict__.get("babel_locale"), value))
    return value


request_cache("i18n.request_locale", _babel_state, ("ruyi_locale", "ruyi_translations"))


# The template callables Jinja's i18n extension makes with ``newstyle=True`` from the ones
# Flask-Babel installs (same results: in an autoescaped template the text is Markup and the
# variables are escaped into it), calling the request's translations directly. A text with
# no variables and no "%" needs no formatting (``%`` would give it back unchanged).

@pass_context
def template_gettext(__context, __string, **variables):
    text = request_translations().ugettext(__string)
    if __context.eval_ctx.autoescape:
        text = Markup(text)  # noqa: S704 - a catalogue's text, as Jinja's gettext marks it
    return text % variables if variables or "%" in text else text


@pass_context
def template_ngettext(__context, __singular, __plural, __num, **variables):
    variables.setdefault("num", __num)
    text = request_translations().ungettext(__singular, __plural, __num)
    if __context.eval_ctx.autoescape:
        text = Markup(text)  # noqa: S704
    return text % variables


@pass_context
def template_pgettext(__context, __string_ctx, __string, **variables):
    variables.setdefault("context", __string_ctx)
    text = request_translations().upgettext(__string_ctx, __string)
    if __context.eval_ctx.autoescape:
        text = Markup(text)  # noqa: S704
    return text % variables


@pass_context
def template_npgettext(__context, __string_ctx, __singular, __plural, __num, **variables):
    variables.setdefault("context", __string_ctx)
    variables.setdefault("num", __num)
    text = request_translations().unpgettext(__string_ctx, __singular, __plural, __num)
    if __context.eval_ctx.autoescape:
        text = Markup(text)  # noqa: S704
    return text % variables


def install_template_gettext(environment) -> None:
    """Replace the template ``_``/``gettext``/``ngettext``/``pgettext``/``npgettext`` Flask-Babel
    installed (each call looked the locale and catalogue up again: ~90 Python calls a text)."""
    environment.globals.update(gettext=template_gettext, ngettext=template_ngettext,
                               pgettext=template_pgettext, npgettext=template_npgettext,
                               _=template_gettext)
