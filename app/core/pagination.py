"""One pagination helper for every list page (paired with ``_macros/pagination.html``)."""

from __future__ import annotations

import sqlalchemy as sa
from flask import current_app, request

from app.extensions import db


def page_number() -> int:
    """The requested page from ``?page=``; junk or negative values mean page 1."""
    try:
        return max(1, int(request.args.get("page", 1)))
    except (TypeError, ValueError):
        return 1


def paginate(statement, per_page: int | None = None, count_limit: int | None = None):
    """Paginate a ``select()`` for the current request; out-of-range pages show empty, not 404.

    With ``count_limit`` the total is counted only up to that many rows, so a page over a very
    large table never pays for an exact count; ``page.total_is_lower_bound`` then says "more".
    """
    page = db.paginate(
        statement,
        page=page_number(),
        per_page=per_page or current_app.config["PAGE_SIZE"],
        error_out=False,
        count=count_limit is None,
    )
    page.total_is_lower_bound = False
    if count_limit is not None:
        limited = statement.order_by(None).limit(count_limit + 1).subquery()
        counted = db.session.scalar(sa.select(sa.func.count()).select_from(limited))
        page.total = min(counted, count_limit)
        page.total_is_lower_bound = counted > count_limit
    return page
