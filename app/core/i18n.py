"""Language negotiation (DOMAIN §9) and display helpers.

Order: the signed-in user's saved preference, then an explicit choice made with the switcher
(kept in the session), then the browser's Accept-Language — where every Traditional Chinese
variant (zh-TW, zh-HK, zh-MO, zh-Hant…) maps to ``zh_Hant``.
"""

from __future__ import annotations

from flask import current_app, has_request_context, request, session
from flask_login import current_user

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
