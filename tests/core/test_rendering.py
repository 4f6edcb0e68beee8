"""The cheap rendering helpers (issue 4, item 10) give exactly what the slow calls give."""

from __future__ import annotations

import pytest
from flask import url_for
from flask_babel import force_locale

from app.core.rendering import translated, url_maker
from app.tickets.models.enums import STATUS_LABELS

LOCALES = ("zh_Hans_CN", "zh_Hant", "en")


def test_translated_labels_follow_the_request_language(app):
    for locale in LOCALES:
        with app.test_request_context("/"), force_locale(locale):
            labels = translated(STATUS_LABELS)
            assert labels == {key: str(label) for key, label in STATUS_LABELS.items()}
            assert all(type(text) is str for text in labels.values())
    with app.test_request_context("/"), force_locale("en"):
        english = translated(STATUS_LABELS)
    with app.test_request_context("/"), force_locale("zh_Hans_CN"):
        assert translated(STATUS_LABELS) != english


@pytest.mark.parametrize("value", ["KS2026-000001", "含 空格/斜线?#&", "100%", "a+b=c@d"])
def test_url_maker_quotes_like_url_for(app, value):
    with app.test_request_context("/"):
        assert url_maker("tickets.detail", "reference")(value) == url_for(
            "tickets.detail", reference=value)
        assert url_maker("tickets.download", "reference", attachment_id=7)(value) == url_for(
            "tickets.download", reference=value, attachment_id=7)


def test_url_maker_keeps_a_query_arguments_place(app):
    """The pagination links: the page number stays where the request had it."""
    with app.test_request_context("/"):
        for args in ({"page": None, "queue": "all", "q": "含 空格&="}, {"queue": "overdue"}):
            make = url_maker("tickets.index", "page", **args)
            for number in (1, 12):
                assert make(number) == url_for("tickets.index", **dict(args, page=number))


@pytest.mark.parametrize("value", ["", "7", 'a"b<c>&\'d', "IjQ5Y2E.aGVsbG8"])
def test_the_hidden_field_macro_renders_like_wtforms(app, value):
    """The ticket page's CSRF and version fields (``hidden_field`` of _macros/forms.html)."""
    from app.tickets.forms import ActionForm

    with app.test_request_context("/"):
        hidden_field = app.jinja_env.get_template("_macros/forms.html").module.hidden_field
        form = ActionForm()
        form.version.data = value
        assert hidden_field(form.version) == form.version()
        assert hidden_field(form.csrf_token) == form.csrf_token()
