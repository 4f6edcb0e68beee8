"""Text search in list queries: what the user types is matched literally, anywhere.

Two kinds of search live here. :func:`contains` matches raw columns (user names, categories).
Records searched in bulk — firms, tickets — instead store a **search key** (:func:`build_key`):
their searchable texts converted Traditional → Simplified and lower-cased, then every Chinese
character and every pair of adjacent ones as separate words. The query is converted the same
way (:func:`key_fragment`), so 臺灣 finds 台湾, Acme finds ACME, and a search of one or two
Chinese characters — the commonest kind — becomes ``LIKE '% 电子 %'``, which a trigram index
can serve (it needs three characters: the spaces make them). Texts are stored as typed and
never converted; only the key is.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

import opencc
import sqlalchemy as sa

from app.core.caches import memo

_converter = opencc.OpenCC("t2s")
_DICTIONARY = Path(opencc.__file__).parent / "dictionary"


def like_pattern(text: str) -> str:
    """A LIKE pattern matching ``text`` anywhere, with the wildcards ``%`` and ``_`` escaped.

    Without escaping, a search for "%" or "_" would match every row.
    """
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def contains(text: str, *columns) -> sa.ColumnElement[bool]:
    """Case-insensitive "any of these columns contains ``text``" (LIKE with escaped input)."""
    pattern = like_pattern(text)
    return sa.or_(*(column.ilike(pattern, escape="\\") for column in columns))


@memo("search.convertible")
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


@memo("search.simplified", maxsize=4096)
def simplify(text: str) -> str:
    """Traditional → Simplified, lower-cased.

    Most texts are already Simplified: text without a single convertible character skips the
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


def build_key(parts: Iterable[str | None]) -> str:
    """The search key of a record's texts: each part simplified, then the short Chinese tokens
    of all of them, each followed by a space (empty parts are left out)."""
    text = " ".join(simplify(part.strip()) for part in parts if part and part.strip())
    return f"{text} | {' '.join(_short_tokens(text))} "


def normalise_query(text: str) -> str:
    """A user's search as it is matched against a search key."""
    return simplify(" ".join((text or "").split()))


def is_short_han(query: str) -> bool:
    """One or two Chinese characters: matched as a whole short token, through the index."""
    return 0 < len(query) <= 2 and bool(_HAN.fullmatch(query))


def key_fragment(text: str) -> str:
    """What a search key must contain to match the search ``text``: the normalised query, or
    for one or two Chinese characters the token with its spaces (`` 电子 ``)."""
    query = normalise_query(text)
    return f" {query} " if is_short_han(query) else query


def key_contains(column, text: str) -> sa.ColumnElement[bool]:
    """The search key ``column`` matches ``text`` (see :func:`key_fragment`). Case-sensitive
    LIKE: the key and the query are both lower-case, and PostgreSQL's trigram index serves
    ``LIKE`` as well as ``ILIKE``."""
    return column.like(like_pattern(key_fragment(text)), escape="\\")
