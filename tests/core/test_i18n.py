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
    assert "2026-03-02 10:00:00" in client.get("/audit/?action=clock.check").get_data(
        as_text=True)
