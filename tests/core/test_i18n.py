"""Language negotiation (DOMAIN §9): preference > explicit choice > Accept-Language."""

import pytest

from app.core.i18n import map_language_tag
from tests.helpers import post_form


@pytest.mark.parametrize("tag,expected", [
    ("zh-CN", "zh_Hans_CN"), ("zh", "zh_Hans_CN"), ("zh-Hans", "zh_Hans_CN"),
    ("zh-SG", "zh_Hans_CN"), ("zh-TW", "zh_Hant"), ("zh-HK", "zh_Hant"), ("zh-MO", "zh_Hant"),
    ("zh-Hant", "zh_Hant"), ("zh-Hant-TW", "zh_Hant"), ("zh_TW", "zh_Hant"), ("en-US", "en"),
    ("en", "en"), ("fr-FR", None), ("ja", None),
])
def test_language_tag_mapping(tag, expected):
    assert map_language_tag(tag) == expected


@pytest.mark.parametrize("header,lang", [
    ("zh-TW,zh;q=0.9", "zh-TW"),
    ("zh-HK", "zh-TW"),
    ("en-GB,en;q=0.8", "en"),
    ("fr-FR,de;q=0.5", "zh-CN"),      # nothing supported: the default
    ("fr-FR,en;q=0.5", "en"),        # first supported in quality order
    ("", "zh-CN"),
])
def test_accept_language_picks_the_page_language(client, header, lang):
    html = client.get("/auth/login", headers={"Accept-Language": header}).get_data(as_text=True)
    assert f'<html lang="{lang}">' in html


def test_taiwanese_browser_gets_traditional_text(client):
    html = client.get("/auth/login", headers={"Accept-Language": "zh-TW"}).get_data(as_text=True)
    assert "登入" in html and "登录" not in html


def test_simplified_is_the_default_text(client):
    html = client.get("/auth/login", headers={"Accept-Language": ""}).get_data(as_text=True)
    assert "登录" in html


def test_explicit_choice_beats_accept_language(client):
    post_form(client, "/auth/language", {"language": "en", "next": "/auth/login"})
    html = client.get("/auth/login", headers={"Accept-Language": "zh-TW"}).get_data(as_text=True)
    assert '<html lang="en">' in html


def test_user_preference_beats_explicit_choice(client, make, login_as):
    login_as(make.user(preferred_language="zh_Hant"))
    with client.session_transaction() as session:
        session["lang"] = "en"
    html = client.get("/home", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert '<html lang="zh-TW">' in html


def test_switching_language_when_signed_in_saves_the_preference(client, make, login_as, db):
    from app.auth.models import User

    user = make.user()
    login_as(user)
    post_form(client, "/auth/language", {"language": "zh_Hant", "next": "/home"},
              token_from="/home")
    assert db.session.get(User, user.id).preferred_language == "zh_Hant"


def test_unknown_language_is_ignored(client):
    response = post_form(client, "/auth/language", {"language": "xx", "next": "/auth/login"})
    assert response.status_code == 302
    html = client.get("/auth/login", headers={"Accept-Language": "zh"}).get_data(as_text=True)
    assert '<html lang="zh-CN">' in html


def test_times_are_shown_in_beijing_time(client, make, login_as, db, frozen_clock):
    from app.core import audit

    login_as(make.user("auditor"))
    audit.record("clock.check", actor_name="timekeeper")  # 2026-03-02 02:00 UTC
    db.session.commit()
    assert "2 Mar 2026 10:00:00" in client.get("/audit/?action=clock.check").get_data(
        as_text=True)
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "zh-CN"
    assert "2026-03-02 10:00:00" in client.get("/audit/?action=clock.check").get_data(
        as_text=True)


# Template translation callables: the request's catalogue looked up once, with exactly the
# results of the ones Jinja's i18n extension makes from Flask-Babel's (newstyle).

TEMPLATES = [
    "{{ _('Sign in') }}",
    "{{ _('%(action)s: done.', action='<b>O\\'Brien & co</b>') }}",
    "{{ _('Untranslated 100%% <sure>') }}|{{ _('%(n)s%%', n=3) }}",
    "{{ gettext('Sign in') }}|{{ ngettext('%(num)d file', '%(num)d files', 1) }}"
    "|{{ ngettext('%(num)d file', '%(num)d files', 2, name='<x>') }}",
    "{{ pgettext('menu', 'Open <it>') }}|{{ npgettext('menu', '%(num)d', '%(num)d s', 3) }}",
    "{% trans name='<i>' %}Hello {{ name }}{% endtrans %}|"
    "{% trans count=2 %}{{ count }} day{% pluralize %}{{ count }} days{% endtrans %}",
    "{% autoescape false %}{{ _('%(action)s: done.', action='<b>') }}{% endautoescape %}",
]


def _jinja_reference_globals():
    """The callables Flask-Babel installs (Jinja's newstyle wrappers around them)."""
    from flask_babel import get_translations
    from jinja2.ext import (
        _gettext_alias,
        _make_new_gettext,
        _make_new_ngettext,
        _make_new_npgettext,
        _make_new_pgettext,
    )

    return {
        "_": _gettext_alias,
        "gettext": _make_new_gettext(lambda s: get_translations().ugettext(s)),
        "ngettext": _make_new_ngettext(lambda s, p, n: get_translations().ungettext(s, p, n)),
        "pgettext": _make_new_pgettext(lambda c, s: get_translations().upgettext(c, s)),
        "npgettext": _make_new_npgettext(
            lambda c, s, p, n: get_translations().unpgettext(c, s, p, n)),
    }


@pytest.mark.parametrize("header", ["zh-CN", "zh-TW", "en"])
@pytest.mark.parametrize("source", TEMPLATES)
def test_template_gettext_gives_what_jinja_and_flask_babel_give(app, header, source):
    from markupsafe import Markup

    ours = app.jinja_env.from_string(source)
    reference = app.jinja_env.from_string(source, globals=_jinja_reference_globals())
    with app.test_request_context(headers={"Accept-Language": header}):
        assert ours.render() == reference.render()
        for name in ("_", "gettext"):
            text = app.jinja_env.globals[name]
            plain = app.jinja_env.from_string("{{ f('x') }}").new_context({"f": text})
            assert isinstance(text(plain, "%(v)s", v="<b>"), Markup)


def test_template_gettext_escapes_variables_and_translates(app):
    source = "{{ _('%(action)s: done.', action=what) }}|{{ _('Sign in') }}"
    with app.test_request_context(headers={"Accept-Language": "zh-TW"}):
        html = app.jinja_env.from_string(source).render(what="<b>O'Brien</b>")
    assert html == "&lt;b&gt;O&#39;Brien&lt;/b&gt;：已完成。|登入"


def test_template_gettext_follows_a_forced_locale_within_the_request(app):
    from flask_babel import force_locale, refresh

    template = app.jinja_env.from_string("{{ _('Sign in') }}")
    with app.test_request_context(headers={"Accept-Language": "zh-CN"}):
        assert template.render() == "登录"
        with force_locale("en"):
            assert template.render() == "Sign in"       # a mail in the recipient's language
            with force_locale("zh_Hant"):
                assert template.render() == "登入"
            assert template.render() == "Sign in"
        assert template.render() == "登录"
        from flask import session
        session["lang"] = "zh_Hant"
        refresh()                                       # the language changed mid-request
        assert template.render() == "登入"


def test_template_gettext_outside_a_request_is_what_flask_babel_gives(app):
    template = app.jinja_env.from_string("{{ _('Sign in') }}")
    reference = app.jinja_env.from_string("{{ _('Sign in') }}", globals=_jinja_reference_globals())
    with app.app_context():                             # a command or job: the default locale
        assert template.render() == reference.render() == "登录"


def test_locale_name_is_flask_babel_s_locale_and_follows_its_changes(app):
    from flask import session
    from flask_babel import force_locale, get_locale, refresh

    from app.core.i18n import locale_name

    for header, name in (("zh-CN", "zh_Hans_CN"), ("zh-HK", "zh_Hant"), ("en", "en")):
        with app.test_request_context(headers={"Accept-Language": header}):
            assert locale_name() == locale_name() == str(get_locale()) == name
            with force_locale("en" if name != "en" else "zh_Hant"):
                assert locale_name() == str(get_locale()) != name
            assert locale_name() == name
            session["lang"] = "zh_Hant" if name != "zh_Hant" else "en"
            refresh()
            assert locale_name() == str(get_locale()) != name
