"""The kept navigation bar (app/core/layout.py) shows each request its own user, unread count,
path and CSRF token, exactly as a fresh render would."""

from __future__ import annotations

import re

import pytest

from app.auth.models import Role
from app.core import caches
from app.extensions import db
from tests.helpers import post_form

pytestmark = pytest.mark.usefixtures("keep_rendered")


def _navbar(client, path: str = "/notifications/") -> str:
    page = client.get(path).get_data(as_text=True)
    return page.split("<nav ", 1)[1].split("</nav>", 1)[0]


def _token_masked(html: str) -> str:
    return re.sub(r'name="csrf_token" value="[^"]+"', 'name="csrf_token" value="…"', html)


def test_users_sharing_the_kept_bar_each_see_their_own(app, client, login_as, make):
    first = make.user(Role.HANDLER, display_name="<b>甲</b> & \"乙\"")
    second = make.user(Role.HANDLER, display_name="乙")
    make.notification(second)
    make.notification(second)
    db.session.commit()

    mine = _navbar(login_as(first), "/notifications/?a=<1>")
    assert "&lt;b&gt;甲&lt;/b&gt; &amp; &#34;乙&#34; · Handler<" in mine
    assert 'name="next" value="/notifications/?a=&lt;1&gt;"' in mine
    assert "unread-badge" not in mine
    theirs = _navbar(login_as(second))
    assert ">乙 · Handler<" in theirs and "甲" not in theirs
    assert 'data-testid="unread-badge">2<' in theirs
    assert 'name="next" value="/notifications/"' in theirs
    caches.clear_all()
    # a fresh render: the same markup (but the CSRF token, signed with the second it is made)
    assert _token_masked(_navbar(login_as(second))) == _token_masked(theirs)


def test_the_kept_bar_carries_a_working_csrf_token(client, login_as, make):
    login_as(make.user(Role.HANDLER))
    response = post_form(client, "/auth/logout", token_from="/notifications/")
    assert response.status_code == 302
    assert client.get("/notifications/").status_code == 302  # signed out: back to sign-in


def test_the_active_entry_follows_the_page(client, login_as, make):
    login_as(make.user(Role.SUPERVISOR))
    queue = _navbar(client, "/tickets/")
    assert 'class="dropdown-item active" aria-current="page" href="/tickets/"' in queue
    assert 'class="nav-link dropdown-toggle active"' in queue  # its menu too
    other = _navbar(client, "/notifications/")
    assert 'aria-current="page"' not in other and 'href="/tickets/"' in other
    home = _navbar(client, "/home")
    assert 'class="nav-link active" aria-current="page" href="/home"' in home


def test_entries_are_grouped_in_menus_by_role(client, login_as, make):
    """Four menus at most (work, firms & visits, reports, administration); a menu with a
    single entry for the role is that entry's link."""
    login_as(make.user(Role.ADMIN))
    bar = _navbar(client, "/notifications/")
    assert bar.count('data-bs-toggle="dropdown"') - 2 == bar.count('class="nav-item dropdown"')
    assert 'data-group="admin"' in bar and 'href="/admin/users"' in bar
    login_as(make.user(Role.FIRM_USER))
    firm = _navbar(client, "/notifications/")
    assert 'data-group="work"' in firm and ">My requests</a>" in firm
    assert 'data-group="firms"' not in firm  # one entry: its own link
    assert '<a class="nav-link" href="/portal/firm">Firm profile</a>' in firm


def test_anonymous_visitors_get_the_language_switch_only(client):
    bar = _navbar(client, "/auth/login")
    assert 'name="language" value="en"' in bar and "Sign out" not in bar


def _pager(client, path: str) -> str:
    page = client.get(path).get_data(as_text=True)
    return page.split('<div class="d-flex flex-wrap justify-content-between', 1)[1].split(
        "</nav>", 1)[0]


def test_kept_pagination_shows_each_pages_own_position_and_links(app, client, login_as,
                                                                 make, monkeypatch):
    """The pagination is kept per list, arguments and page: page 2 of a filtered list never
    shows page 1's links or another filter's, and a fresh render gives the same markup."""
    monkeypatch.setitem(app.config, "PAGE_SIZE", 2)
    for _ in range(5):
        make.firm()
    login_as(make.user(Role.HANDLER))
    first = _pager(client, "/firms/?q=&page=1")
    second = _pager(client, "/firms/?q=&page=2")
    assert "page 1 of 3" in first and "page 2 of 3" in second
    active = second.split('class="page-item active">', 1)[1].split("</li>", 1)[0]
    assert 'href="/firms/?q=&amp;page=2">2</a>' in active
    other = _pager(client, "/firms/?page=2")
    assert 'href="/firms/?page=3"' in other and "q=" not in other
    caches.clear_all()
    # a fresh render: the same markup (but a CSRF token, signed with the second it is made)
    assert _token_masked(_pager(client, "/firms/?q=&page=2")) == _token_masked(second)


def test_the_favicon_is_the_static_icon(client):
    """Browsers ask for /favicon.ico on every first visit: an icon, not a 404 in the log."""
    response = client.get("/favicon.ico")
    assert response.status_code == 200
    assert response.mimetype in ("image/vnd.microsoft.icon", "image/x-icon")
    assert response.data[:4] == b"\x00\x00\x01\x00"  # an ICO header
    assert 'rel="icon"' in client.get("/auth/login").get_data(as_text=True)
