"""The search key: one normalised column that the firm list searches (DOMAIN §9).

Names are stored as typed and never converted; only this derived key is Simplified and
lower-cased, and the query is converted the same way, so 臺灣 finds 台湾 and Acme finds ACME.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache, lru_cache
from pathlib import Path

import opencc

_converter = opencc.OpenCC("t2s")
_DICTIONARY = Path(opencc.__file__).parent / "dictionary"


@cache
def _convertible() -> frozenset[str]:
    """Characters that OpenCC's Traditional → Simplified tables could change.

    Every character rule, plus the few phrase rules made only of such-looking characters
    (沈默 → 沉默): text containing none of these converts to itself.
    """
    chars: set[str] = set()
    with open(_DICTIONARY / "TSCharacters.txt", encoding="utf-8") as handle:
        for line in handle:
            chars.update(line.split("\t", 1)[0])
    with open(_DICTIONARY / "TSPhrases.txt", encoding="utf-8") as handle:
        for line in handle:
            phrase, _tab, target = line.rstrip("\n").partition("\t")
            if chars.isdisjoint(phrase) and phrase not in target.split(" "):
                chars.update(phrase)
    return frozenset(chars)


@lru_cache(maxsize=4096)
def simplify(text: str) -> str:
    """Traditional → Simplified, lower-cased.

    Most names are already Simplified: text without a single convertible character skips the
    (slow, pure-Python) phrase conversion, which keeps a 100,000-row import fast.
    """
    if text.isascii() or _convertible().isdisjoint(text):
        return text.lower()
    return _converter.convert(text).lower()


def search_key(name: str, uscc: str, english_name: str | None = None,
               other_names: Iterable[str] = ()) -> str:
    """The firm's searchable text: name, English name, USCC, former names, contact names."""
    parts = [name, english_name or "", uscc, *other_names]
    return " ".join(simplify(part.strip()) for part in parts if part and part.strip())


def normalise_query(text: str) -> str:
    """A user's search as it is matched against :func:`search_key`."""
    return simplify(" ".join((text or "").split()))
