"""The firm's search key: one normalised column that the firm list searches (DOMAIN §9).

The key is built and matched by :mod:`app.core.search`, which tickets share.
"""

from __future__ import annotations

from collections.abc import Iterable

from app.core.search import build_key


def search_key(name: str, uscc: str, english_name: str | None = None,
               other_names: Iterable[str] = ()) -> str:
    """The firm's searchable text: name, English name, USCC, former names, contact names,
    then the short Chinese tokens of all of them, each followed by a space."""
    return build_key((name, english_name, uscc, *other_names))
