"""The search key: one normalised column that the firm list searches (DOMAIN §9).

Names are stored as typed and never converted; only this derived key is Simplified and
lower-cased, and the query is converted the same way, so 臺灣 finds 台湾 and Acme finds ACME.
"""

from __future__ import annotations

import re
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


_HAN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]+")


def _short_tokens(text: str) -> list[str]:
    """Every Chinese character and every pair of adjacent ones, as separate words.

    A trigram index cannot look up a one- or two-character substring, yet 电子 or 王伟 are
    the commonest searches; as whole words they are indexable (``LIKE '% 电子 %'``).
    """
    tokens: set[str] = set()
    for run in _HAN.findall(text):
        tokens.update(run)
        tokens.update(run[i:i + 2] for i in range(len(run) - 1))
    return sorted(tokens)


def search_key(name: str, uscc: str, english_name: str | None = None,
               other_names: Iterable[str] = ()) -> str:
    """The firm's searchable text: name, English name, USCC, former names, contact names,
    then the short Chinese tokens of all of them, each followed by a space."""
    parts = [simplify(part.strip()) for part in (name, english_name or "", uscc, *other_names)
             if part and part.strip()]
    text = " ".join(parts)
    return f"{text} | {' '.join(_short_tokens(text))} "


def normalise_query(text: str) -> str:
    """A user's search as it is matched against :func:`search_key`."""
    return simplify(" ".join((text or "").split()))


def is_short_han(query: str) -> bool:
    """One or two Chinese characters: matched as a whole short token, through the index."""
    return 0 < len(query) <= 2 and bool(_HAN.fullmatch(query))
