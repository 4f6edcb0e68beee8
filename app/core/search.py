"""Text search in list queries: what the user types is matched literally, anywhere in a column."""

from __future__ import annotations

import sqlalchemy as sa


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
