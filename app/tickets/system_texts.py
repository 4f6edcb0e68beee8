"""Texts the system itself writes into a ticket's record, shown in the reader's language.

An automatic reminder or supervision order, the note that a firm supplied what was missing,
the 涉台 routing note: each is stored as text, in the language of the request that wrote it —
the default language for the SLA scan, Traditional Chinese when a Taiwan-invested firm's
request wrote it. Stored text stays as written (exports and old rows keep working); when it
is shown, :func:`shown` recognises a system text written in any of the catalogues' languages
and gives it in the reader's, so a Traditional or English reader never meets Simplified
boilerplate, and the other way round.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from babel.support import Translations
from flask_babel import gettext

from app.core.caches import memo
from app.core.i18n import LANGUAGE_NAMES


def N_(text: str) -> str:
    """Mark ``text`` for the catalogues without translating it here."""
    return text


AUTO_REMINDER = N_("Automatic reminder: the handling deadline is near.")
AUTO_SUPERVISION = N_("Automatic supervision: the handling deadline has passed.")
FIRM_SUPPLIED = N_("The firm supplied the missing information.")
TAIWAN_ROUTING = N_("The requester is Taiwan-invested or a Taiwan compatriot: route to Taiwan "
                    "affairs handling.")

#: Every text the system writes into a ticket's timeline, requests or comments.
SYSTEM_TEXTS = (AUTO_REMINDER, AUTO_SUPERVISION, FIRM_SUPPLIED, TAIWAN_ROUTING)

_CATALOGUES = Path(__file__).resolve().parents[1] / "translations"


@memo("tickets.system_texts")
def _written_forms() -> dict[str, str]:
    """Each system text as any catalogue renders it (and as written in the code) → its id."""
    forms = {text: text for text in SYSTEM_TEXTS}
    for locale in LANGUAGE_NAMES:
        catalogue = Translations.load(str(_CATALOGUES), [locale])
        forms.update({catalogue.ugettext(text): text for text in SYSTEM_TEXTS})
    return forms


def shown(text: str | None, translate: Callable[[str], str] = gettext) -> str | None:
    """``text`` as the reader sees it: a system text in the reader's language (``translate``
    is the request's gettext), anything else exactly as stored."""
    known = _written_forms().get(text) if text else None
    return text if known is None else translate(known)
