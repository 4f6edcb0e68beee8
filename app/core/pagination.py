"""One pagination helper for every list page (paired with ``_macros/pagination.html``)."""

from __future__ import annotations

import sqlalchemy as sa
from flask import current_app, render_template, request
from flask_sqlalchemy.pagination import SelectPagination
from markupsafe import Markup

from app.core.caches import Store
from app.core.rendering import fragment
from app.extensions import db

_pagers = Store("pagination")


class DeferredJoinPagination(SelectPagination):
    """Reads the page's keys first (``SELECT id … ORDER BY … LIMIT … OFFSET …``), then loads
    only those rows: with an index that covers the order and the filters, skipping 50,000
    rows walks the index alone instead of fetching 50,000 wide rows from the table."""

    def _query_items(self) -> list:
        select, key = self._query_args["select"], self._query_args["key"]
        keys = select.with_only_columns(key).limit(self.per_page).offset(self._query_offset)
        session = self._query_args["session"]
        return list(session.execute(select.where(key.in_(keys))).unique().scalars())


#: Pages beyond this are shown as the empty page they are: a larger number would overflow the
#: database's 64-bit OFFSET and fail instead.
MAX_PAGE = 1_000_000


def page_number() -> int:
    """The requested page from ``?page=``; junk or negative values mean page 1."""
    try:
        return min(MAX_PAGE, max(1, int(request.args.get("page", 1))))
    except (TypeError, ValueError):
        return 1


def paginate(statement, per_page: int | None = None, count_limit: int | None = None,
             key=None):
    """Paginate a ``select()`` for the current request; out-of-range pages show empty, not 404.

    With ``count_limit`` the total is counted only up to that many rows past the current page's
    start, so a page over a very large table never pays for an exact count, yet "Next" keeps
    working on deep pages; ``page.total_is_lower_bound`` then says "more".
    With ``key`` (the primary key column) the page is loaded by a deferred join
    (:class:`DeferredJoinPagination`) and the count reads only that column.
    """
    per_page = per_page or current_app.config["PAGE_SIZE"]
    if key is None:
        page = db.paginate(statement, page=page_number(), per_page=per_page, error_out=False,
                           count=count_limit is None)
    else:
        page = DeferredJoinPagination(select=statement, session=db.session(), key=key,
                                      page=page_number(), per_page=per_page, max_per_page=None,
                                      error_out=False, count=count_limit is None)
    page.total_is_lower_bound = False
    if count_limit is not None:
        counted_rows = statement if key is None else statement.with_only_columns(key)
        enough = (page.page - 1) * page.per_page + count_limit
        limited = counted_rows.order_by(None).limit(enough + 1).subquery()
        counted = db.session.scalar(sa.select(sa.func.count()).select_from(limited))
        page.total = min(counted, enough)
        page.total_is_lower_bound = counted > enough
    return page


def pagination_html(page, endpoint: str, kwargs: dict) -> Markup:
    """The pagination macro's markup (``render_pagination`` in ``_macros/pagination.html``;
    written by ``_macros/_pagination.html``), kept rendered per endpoint, query arguments and
    page position (a ``rendered`` cache): it translates four texts and builds up to nine
    links, the same for everyone on that page of that list."""
    key = (endpoint, tuple(request.args.to_dict().items()),
           tuple(kwargs.items()), page.page, page.pages, page.total,
           getattr(page, "total_is_lower_bound", False), page.has_prev, page.has_next,
           page.prev_num, page.next_num)
    return fragment(_pagers, key, lambda: render_template(
        "_macros/_pagination.html", page=page, endpoint=endpoint, kwargs=kwargs))
