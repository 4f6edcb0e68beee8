"""The search key: one normalised column that the firm list searches (DOMAIN §9).

Names are stored as typed and never converted; only this derived key is Simplified and
lower-cased, and the query is converted the same way, so 臺灣 finds 台湾 and Acme finds ACME.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache

import opencc

_converter = opencc.OpenCC("t2s")


@lru_cache(maxsize=4096)
def simplify(text: str) -> str:
    """Traditional → Simplified (ASCII passes through untouched and fast), lower-cased."""
    if text.isascii():
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
