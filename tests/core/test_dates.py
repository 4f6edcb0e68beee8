"""Dates and times: one format per language, on staff and public pages alike (issue 16).

Chinese pages write ``2026-03-02 10:00``, English ones ``2 Mar 2026 10:00``; a page never
shows Babel's other formats (``3/2/26, 10:00 AM``, ``上午10:00``, ``2026年3月2日``).
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from flask_babel import force_locale

from app.core.permissions import Role
from app.core.rendering import day, short_datetimes, when
from app.extensions import db
from app.tickets import services as tickets

LANGUAGES = {"zh_Hans_CN": "zh-CN", "zh_Hant": "zh-TW", "en": "en"}

#: 2026-03-02 10:00 in Beijing: the frozen clock's "now".
FROZEN = {"zh_Hans_CN": "2026-03-02 10:00", "zh_Hant": "2026-03-02 10:00",
          "en": "2 Mar 2026 10:00"}

#: What Babel's short, medium and long formats write, and no page should.
OTHER_FORMATS = re.compile(
    r"\b\d{1,2}/\d{1,2}/\d{2,4}\b"        # 3/2/26 (English short), 2026/3/2 (Chinese short)
    r"|\d{4}/\d{1,2}/\d{1,2}"
    r"|\d\s?[AP]M\b"                      # 10:00 AM
    r"|[上下]午\d|午夜|中午\d"             # 上午10:00
    r"|\d{4}年\d{1,2}月\d{1,2}日"         # 2026年3月2日
    r"|\b(?:Mar|March) \d{1,2}, \d{4}")   # Mar 2, 2026 (English medium)


@pytest.mark.parametrize(("locale", "moment", "text"), [
    ("zh_Hans_CN", datetime(2026, 12, 5, 6, 58, tzinfo=UTC), "2026-12-05 14:58"),
    ("zh_Hant", datetime(2026, 12, 5, 6, 58, tzinfo=UTC), "2026-12-05 14:58"),
    ("en", datetime(2026, 12, 5, 6, 58, tzinfo=UTC), "5 Dec 2026 14:58"),
    ("en", datetime(2026, 9, 30, 16, 0, tzinfo=UTC), "1 Oct 2026 00:00"),  # the local day
    ("zh_Hant", datetime(2026, 1, 1, 4, 5, tzinfo=UTC), "2026-01-01 12:05"),  # no 中午
    ("en", datetime(2026, 6, 30, 16, 0), "1 Jul 2026 00:00"),  # naive means UTC
    ("en", datetime(2026, 1, 1, 7, 30, tzinfo=timezone(timedelta(hours=-5))),
     "1 Jan 2026 20:30"),
])
def test_a_moment_is_written_one_way_per_language(app, locale, moment, text):
    with app.test_request_context("/"), force_locale(locale):
        assert when(moment) == text
        assert short_datetimes()(moment) == text


def test_days_and_seconds_follow_the_same_format(app):
    moment = datetime(2026, 12, 5, 6, 58, 7, tzinfo=UTC)
    with app.test_request_context("/"), force_locale("en"):
        assert day(date(2026, 12, 5)) == day(moment) == "5 Dec 2026"
        assert when(date(2026, 12, 5)) == "5 Dec 2026"
        assert when(moment, seconds=True) == "5 Dec 2026 14:58:07"
        assert when(None) == day(None) == "—"
    with app.test_request_context("/"), force_locale("zh_Hant"):
        assert day(datetime(2026, 12, 4, 16, 0, tzinfo=UTC)) == "2026-12-05"
        assert when(moment, seconds=True) == "2026-12-05 14:58:07"


def test_outside_a_request_dates_are_written_the_default_way(app):
    """Commands and jobs write messages in the default language (Chinese)."""
    with app.app_context():
        assert when(datetime(2026, 12, 5, 6, 58, tzinfo=UTC)) == "2026-12-05 14:58"


def test_no_template_asks_for_another_format():
    """Every template writes dates through ``when``, ``day`` or ``month``: a pattern of its
    own (Flask-Babel's ``datetimeformat``/``dateformat``) would bring a second format back."""
    from pathlib import Path

    root = Path(__file__).resolve().parents[2] / "app" / "templates"
    offenders = [f"{path.relative_to(root)}:{number}"
                 for path in sorted(root.rglob("*.html"))
                 for number, line in enumerate(path.read_text("utf-8").splitlines(), 1)
                 if re.search(r"\|\s*(datetimeformat|dateformat|timeformat)\b", line)]
    assert offenders == []


# -- the pages ---------------------------------------------------------------------------------


@pytest.fixture
def scene(make, frozen_clock):
    """A ticket dispatched and acknowledged, a visit, an audit row: made at the frozen 10:00."""
    from app.core import audit

    unit = make.unit(name="日期测试局", code="DATE")
    handler = make.user(Role.HANDLER, unit=unit)
    dispatcher = make.user(Role.DISPATCHER)
    firm = make.firm()
    ticket = make.ticket(dispatcher, firm=firm)
    tickets.transition(ticket, "dispatch", dispatcher, lead_unit=unit)
    tickets.transition(ticket, "acknowledge", handler)
    visit = make.visit(firm, lead=handler, visited_at=frozen_clock.now_utc())
    audit.record("test.date", actor=dispatcher, object_type="ticket",
                 object_id=ticket.reference)
    db.session.commit()

    class Scene:
        pass

    scene = Scene()
    scene.__dict__.update(ticket=ticket, handler=handler, dispatcher=dispatcher, visit=visit,
                          firm=firm, auditor=make.user(Role.AUDITOR))
    return scene


def _pages(scene):
    """(who, path) of pages that show a date and time made at the frozen clock's 10:00."""
    ticket = scene.ticket
    return [
        (scene.dispatcher, f"/tickets/{ticket.reference}"),
        (scene.handler, f"/tickets/{ticket.reference}"),
        (scene.handler, f"/visits/{scene.visit.id}"),
        (scene.handler, "/visits/"),
        (scene.handler, f"/firms/{scene.firm.id}"),
        (scene.auditor, "/audit/"),
        (None, f"/track/{ticket.access_token}"),
    ]


@pytest.mark.parametrize("locale", LANGUAGES)
def test_pages_write_dates_in_the_readers_language_only(client, login_as, scene, locale):
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = LANGUAGES[locale]
    for who, path in _pages(scene):
        with client.session_transaction() as session:
            session.clear()
        if who is not None:
            login_as(who)
        response = client.get(path)
        assert response.status_code == 200, path
        page = response.get_data(as_text=True)
        assert FROZEN[locale] in page, path
        assert OTHER_FORMATS.findall(page) == [], path
