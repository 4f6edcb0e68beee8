"""WTForms' own messages: translated into the visitor's language (Traditional for zh_Hant), read
from disk once per worker and language rather than once per request."""

from __future__ import annotations

from flask import g, request
from flask_babel import get_locale
from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import DataRequired

from app.core.forms import wtforms_catalogue


class _NameForm(FlaskForm):
    class Meta:
        csrf = False

    name = StringField("name", validators=[DataRequired()])


def _required_message(app, language: str) -> str:
    for name in list(g):  # the locale is kept in the (shared) application context
        g.pop(name)
    with app.test_request_context("/", method="POST", data={},
                                  headers={"Accept-Language": language}):
        form = _NameForm()
        form.validate()
        assert request.wtforms_translations is wtforms_catalogue(str(get_locale()))
        return form.name.errors[0]


def test_wtforms_messages_follow_the_language_and_are_loaded_once(app):
    wtforms_catalogue.cache_clear()
    assert _required_message(app, "en") == "This field is required."
    chinese = _required_message(app, "zh-CN")
    assert chinese != "This field is required." and "必" in chinese
    assert _required_message(app, "zh-TW") == "此欄位是必需的。"  # Traditional, not Simplified
    loads = wtforms_catalogue.cache_info().misses
    for _ in range(3):
        assert _required_message(app, "zh-CN") == chinese
        assert _required_message(app, "en") == "This field is required."
    assert wtforms_catalogue.cache_info().misses == loads

