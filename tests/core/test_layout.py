"""The kept navigation bar (app/core/layout.py) shows each request its own user, unread count,
path and CSRF token, exactly as a fresh render would."""

from __future__ import annotations

from app.auth.models import Role
from app.core import rendering
from app.extensions import db
from tests.helpers import post_form


def _navbar(client, path: str = "/notifications/") -> str:
    page = client.get(path).get_data(as_text=True)
    return page.split("<nav ", 1)[1].split("</nav>", 1)[0]


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
    rendering._fragments.clear()
    assert _navbar(login_as(second)) == theirs  # a fresh render: the same markup


def test_the_kept_bar_carries_a_working_csrf_token(client, login_as, make):
    login_as(make.user(Role.HANDLER))
    response = post_form(client, "/auth/logout", token_from="/notifications/")
    assert response.status_code == 302
    assert client.get("/notifications/").status_code == 302  # signed out: back to sign-in


def test_the_active_entry_follows_the_page(client, login_as, make):
    login_as(make.user(Role.SUPERVISOR))
    queue = _navbar(client, "/tickets/")
    assert 'class="nav-link active" href="/tickets/"' in queue
    other = _navbar(client, "/notifications/")
    assert 'class="nav-link active"' not in other and 'href="/tickets/"' in other


def test_anonymous_visitors_get_the_language_switch_only(client):
    bar = _navbar(client, "/auth/login")
    assert 'name="language" value="en"' in bar and "Sign out" not in bar
