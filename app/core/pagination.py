"""One pagination helper for every list page (paired with ``_macros/pagination.html``)."""

from __future__ import annotations

from flask import current_app, request

from app.extensions import db


def page_number() -> int:
    """The requested page from ``?page=``; junk or negative values mean page 1."""
    try:
        return max(1, int(request.args.get("page", 1)))
    except (TypeError, ValueError):
        return 1


def paginate(statement, per_page: int | None = None):
    """Paginate a ``select()`` for the current request; out-of-range pages show empty, not 404."""
    return db.paginate(
        statement,
        page=page_number(),
        per_page=per_page or current_app.config["PAGE_SIZE"],
        error_out=False,
        count=True,
    )
