"""The ticket page's timeline: rows worked out in Python (app/tickets/timeline.py), written out
by the real macro (templates/tickets/_timeline.html) — every branch, in the three languages,
with hostile text escaped by the template's autoescape."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from html.parser import HTMLParser
from types import SimpleNamespace

import pytest
from flask import render_template_string
from flask_babel import force_locale, gettext

from app.core.rendering import short_datetimes
from app.tickets.models.enums import STATUS_LABELS
from app.tickets.system_texts import AUTO_REMINDER
from app.tickets.timeline import entries
from app.tickets.workflow import EVENT_LABELS

LANGUAGES = ("zh_Hans_CN", "zh_Hant", "en")
HOSTILE = "<b>O'Brien & \"co\"</b> 100% {{ 7 * 7 }}"
HOSTILE_ESCAPED = "&lt;b&gt;O&#39;Brien &amp; &#34;co&#34;&lt;/b&gt; 100% {{ 7 * 7 }}"
AT = datetime(2026, 3, 1, 0, 5, tzinfo=UTC)


def event(action, who="张三", before=None, after=None, text=None, data=None):
    return SimpleNamespace(kind="event", action=action, who=who, from_status=before,
                           to_status=after, text=text, data=data, at=AT)


def comment(visibility, who="李四", text="意见"):
    return SimpleNamespace(kind="comment", visibility=visibility, who=who, text=text, at=AT)


@dataclass
class Line:
    """One ``<li>`` of the rendered timeline: its classes, its visible text, its parts."""

    classes: set[str]
    text: str = ""
    time: str = ""
    who: str = ""
    badges: list[str] = field(default_factory=list)
    blocks: list[str] = field(default_factory=list)


class _Lines(HTMLParser):
    def __init__(self):
        super().__init__()
        self.lines: list[Line] = []
        self.open: list[str] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "li":
            self.lines.append(Line(set((attrs.get("class") or "").split())))
        elif tag == "span" and "badge" in (attrs.get("class") or ""):
            tag = "badge"
        elif tag == "span":
            tag = "time"
        self.open.append(tag)
        if tag == "div":
            self.lines[-1].blocks.append("")

    def handle_endtag(self, tag):
        self.open.pop()

    def handle_data(self, data):
        if not self.lines:
            return
        line, where = self.lines[-1], self.open[-1] if self.open else ""
        line.text += data
        if where == "time":
            line.time += data
        elif where == "strong":
            line.who += data
        elif where == "badge":
            line.badges.append(data)
        elif where == "div":
            line.blocks[-1] += data


def render(rows, staff=True, sees_evaluator=True) -> tuple[str, list[Line]]:
    """The macro's markup for ``rows``, as the ticket page calls it, and its lines."""
    html = render_template_string(
        '{% from "tickets/_timeline.html" import timeline %}{{ timeline(rows) }}',
        rows=entries(rows, staff, sees_evaluator))
    parser = _Lines()
    parser.feed(html)
    return html, parser.lines


def squeeze(text: str) -> str:
    return " ".join(text.split())


@pytest.fixture(params=LANGUAGES)
def language(app, request):
    with app.test_request_context("/"), force_locale(request.param):
        yield request.param


def test_an_event_shows_when_who_and_what_in_the_readers_language(language):
    _html, [line] = render([event("dispatch", before="submitted", after="dispatched")])
    assert line.classes == {"list-group-item", "small"}
    assert line.time == short_datetimes()(AT)
    assert line.who == "张三"
    assert str(EVENT_LABELS["dispatch"]) in line.text
    change = f"({STATUS_LABELS['submitted']} → {STATUS_LABELS['dispatched']})"
    assert change in squeeze(line.text)
    assert line.badges == [] and line.blocks == []


def test_an_event_without_an_actor_is_the_systems(language):
    _html, [line] = render([event("urge", who=None)])
    assert line.who == gettext("System")
    assert line.who == {"zh_Hans_CN": "系统", "zh_Hant": "系統", "en": "System"}[language]


def test_a_step_that_kept_the_status_shows_no_change(language):
    _html, lines = render([event("acknowledge", before="dispatched", after="dispatched"),
                           event("acknowledge", before=None, after="dispatched")])
    assert all("→" not in line.text for line in lines)


def test_an_unknown_action_or_status_shows_as_stored(language):
    _html, [line] = render([event("legacy_step", before="x", after="y")])
    assert "legacy_step" in line.text and "(x → y)" in squeeze(line.text)


@pytest.mark.parametrize("sees_evaluator", [True, False])
def test_a_rating_names_its_author_only_to_who_may_see_it(language, sees_evaluator):
    _html, [line] = render([event("rate", who="王五")], sees_evaluator=sees_evaluator)
    assert line.who == ("王五" if sees_evaluator else gettext("The evaluator"))


@pytest.mark.parametrize("staff", [True, False])
def test_reasons_are_for_staff_but_a_withdrawal_or_refusal_is_for_everyone(language, staff):
    rows = [event("dispatch", text="内部理由"), event("withdraw", text="不再需要"),
            event("reject_intake", text="不属于本中心")]
    _html, lines = render(rows, staff=staff)
    assert [line.blocks for line in lines] == [
        ["内部理由"] if staff else [], ["不再需要"], ["不属于本中心"]]


def test_a_suspension_says_what_is_missing(language):
    rows = [event("suspend", data={"missing_info": "营业执照"}, text="why"),
            event("suspend", data={}), event("suspend", data=None),
            event("dispatch", data={"missing_info": "not a suspension"})]
    _html, lines = render(rows, staff=False)
    expected = gettext("Missing: %(what)s", what="营业执照")
    assert lines[0].blocks == [expected]
    assert expected.startswith({"zh_Hans_CN": "需补充", "zh_Hant": "需補充",
                                "en": "Missing"}[language])
    assert [line.blocks for line in lines[1:]] == [[], [], []]


def test_comments_show_internal_ones_marked(language):
    _html, (public, internal) = render([comment("public", text="公开答复"),
                                        comment("internal", who=None, text="仅内部")])
    assert public.classes == {"list-group-item", "small"} and public.badges == []
    assert public.who == "李四" and public.blocks == ["公开答复"]
    assert public.time == short_datetimes()(AT)
    assert internal.classes == {"list-group-item", "small", "list-group-item-warning"}
    assert internal.badges == [gettext("Internal")] and internal.who == ""
    assert internal.blocks == ["仅内部"]


def test_a_system_text_is_shown_in_the_readers_language(language):
    _html, lines = render([event("urge", who=None, text=AUTO_REMINDER),
                           comment("internal", text=AUTO_REMINDER)])
    assert [line.blocks for line in lines] == [[gettext(AUTO_REMINDER)]] * 2


def test_hostile_text_is_escaped_everywhere(language):
    rows = [event(HOSTILE, who=HOSTILE, text=HOSTILE, data={"missing_info": HOSTILE}),
            event("suspend", who=HOSTILE, data={"missing_info": HOSTILE}),
            comment("internal", who=HOSTILE, text=HOSTILE)]
    html, lines = render(rows)
    assert "<b>" not in html and "49" not in html
    assert html.count(HOSTILE_ESCAPED) == 7  # action, 2 × who, reason, missing, comment × 2
    assert [line.who for line in lines] == [HOSTILE] * 3
    assert lines[1].blocks == [gettext("Missing: %(what)s", what=HOSTILE)]


def test_the_ticket_page_shows_its_timeline_through_the_macro(ticket_in, cast, login_as):
    from app.tickets.models import TicketStatus

    ticket = ticket_in(TicketStatus.IN_PROGRESS)
    page = login_as(cast.handler).get(f"/tickets/{ticket.reference}",
                                      headers={"Accept-Language": "zh-TW"})
    timeline = page.get_data(as_text=True).split('data-testid="timeline"', 1)[1].split(
        "</ol>", 1)[0]
    parser = _Lines()
    parser.feed(timeline)
    assert parser.lines and all("list-group-item" in line.classes for line in parser.lines)
    assert all(line.time and line.who for line in parser.lines)
