"""The three message catalogues are complete and safe to format (DOMAIN §9).

Every message has a translation, no entry is left fuzzy (fuzzy entries are not used at run time
by a plain compile), and every translation carries exactly the placeholders of its msgid, so that
``gettext(..., name=...)`` can neither raise ``KeyError`` nor silently drop a value.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
TRANSLATIONS = ROOT / "app" / "translations"
LOCALES = ["zh_Hans_CN", "zh_Hant", "en"]

#: ``%(name)s``-style and positional ``%d``-style placeholders, and the escaped ``%%``.
PLACEHOLDER = re.compile(
    r"%\([^)]+\)[-#0 +]*\d*(?:\.\d+)?[diouxXeEfFgGcrsa]"
    r"|%[-#0+]*\d*(?:\.\d+)?[diouxXeEfFgGcrsa]"
    r"|%%"
)


def load(locale: str):
    with (TRANSLATIONS / locale / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        return read_po(handle, locale=locale)


def placeholders(text: str) -> list[str]:
    return sorted(PLACEHOLDER.findall(text))


def messages(catalog):
    return [message for message in catalog if message.id]


def as_list(value) -> list[str]:
    return list(value) if isinstance(value, (list, tuple)) else [value]


@pytest.mark.parametrize("locale", LOCALES)
def test_catalogue_is_complete(locale):
    catalog = load(locale)
    assert messages(catalog), f"{locale}: empty catalogue"
    untranslated = [
        message.id
        for message in messages(catalog)
        if not all(as_list(message.string))
        or (message.pluralizable and len(as_list(message.string)) != catalog.num_plurals)
    ]
    assert not untranslated, f"{locale}: untranslated messages: {untranslated}"


@pytest.mark.parametrize("locale", LOCALES)
def test_no_fuzzy_entries(locale):
    fuzzy = [message.id for message in messages(load(locale)) if message.fuzzy]
    assert not fuzzy, f"{locale}: fuzzy entries: {fuzzy}"


@pytest.mark.parametrize("locale", LOCALES)
def test_placeholders_match_msgid(locale):
    catalog = load(locale)
    wrong = []
    for message in messages(catalog):
        ids = as_list(message.id)
        for index, text in enumerate(as_list(message.string)):
            # Languages with one plural form (Chinese) use the msgid_plural for every count.
            source = ids[min(index, len(ids) - 1)] if catalog.num_plurals > 1 else ids[-1]
            # Also count bare "%": Jinja's gettext always %-formats, so a stray "%" breaks a page.
            if placeholders(text) != placeholders(source) or text.count("%") != source.count("%"):
                wrong.append((source, text))
        wrong.extend((message.id, str(error)) for error in message.check(catalog))
    assert not wrong, f"{locale}: placeholder mismatches: {wrong}"


def test_catalogues_cover_the_template():
    with (TRANSLATIONS / "messages.pot").open("rb") as handle:
        template = {message.id if isinstance(message.id, str) else message.id[0]
                    for message in read_po(handle) if message.id}
    for locale in LOCALES:
        ids = {message.id if isinstance(message.id, str) else message.id[0]
               for message in messages(load(locale))}
        assert template <= ids, f"{locale}: not updated from messages.pot: {template - ids}"


def _ids(path: Path) -> set[str]:
    with path.open("rb") as handle:
        return {message.id if isinstance(message.id, str) else message.id[0]
                for message in read_po(handle) if message.id}


def test_template_holds_what_the_code_says(tmp_path):
    """``messages.pot`` is what ``make translations`` extracts from the code today: a text the
    extraction cannot see (a variable passed to gettext) would drop out of the catalogues at
    the next update and show untranslated."""
    extracted = tmp_path / "messages.pot"
    subprocess.run(  # noqa: S603 - the Makefile's extraction, on our own tree
        [sys.executable, "-m", "babel.messages.frontend", "-q", "extract", "-F", "babel.cfg",
         "-k", "_l", "-k", "lazy_gettext", "--no-location", "--sort-output",
         "--ignore-dirs", ".* __pycache__", "-o", str(extracted), "."],
        cwd=ROOT, check=True, capture_output=True)
    committed = _ids(TRANSLATIONS / "messages.pot")
    found = _ids(extracted)
    assert found - committed == set(), "run `make translations`: new texts"
    assert committed - found == set(), "run `make translations`: texts the code no longer uses"
