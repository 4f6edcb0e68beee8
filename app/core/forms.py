"""Form pieces shared by every domain."""

from functools import lru_cache

import flask
from babel import support
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from markupsafe import Markup, escape
from wtforms import SubmitField
from wtforms.fields.choices import Choice, SelectChoice
from wtforms.i18n import messages_path
from wtforms.widgets import Select, html_params

from app.core.i18n import locale_name
from app.core.rendering import fragment, kept

#: WTForms ships Simplified Chinese as ``zh`` and Traditional as ``zh_TW``; looked up as
#: ``zh_Hant``, gettext would fall back to ``zh`` and show Traditional readers Simplified text.
WTFORMS_LOCALES = {"zh_Hant": "zh_TW", "zh_Hans_CN": "zh"}


@lru_cache(maxsize=16)
def wtforms_catalogue(locale: str) -> support.Translations:
    """WTForms' own messages ("This field is required.") in ``locale``, read once per worker."""
    return support.Translations.load(messages_path(), [WTFORMS_LOCALES.get(locale, locale)],
                                     domain="wtforms")


class Request(flask.Request):
    """The application's request: Flask-WTF reads WTForms' catalogue from disk again for every
    request that builds a form (about 0.9 ms, a tenth of a ticket page) unless the request
    already holds one as ``wtforms_translations``; this one hands it the worker's copy."""

    @property
    def wtforms_translations(self) -> support.Translations:
        return wtforms_catalogue(locale_name())


class ConfirmForm(FlaskForm):
    """An empty form that carries the CSRF token for POST-only actions (archive, deactivate…)."""

    submit = SubmitField(_l("Confirm"))


def options(pairs) -> list[SelectChoice]:
    """Select options from ``(value, label)`` pairs (WTForms 3.3 wants ``SelectChoice`` objects)."""
    return [SelectChoice(value, label) for value, label in pairs]


class CachedSelect(Select):
    """WTForms' select widget, with the options rendered once per language and choice list.

    A field opts in by carrying ``choice_key``: a hashable value that changes whenever its
    choices do (the field's name for a fixed list, the ``(value, label)`` pairs themselves
    for a list read from the database); a field whose choices are fixed where the form class
    is defined can instead get its key from the widget, ``CachedSelect("comment.visibility")``.
    Each option is kept rendered both plain and selected;
    a page only picks one of the two per option, so a select of fifty options costs a loop
    instead of fifty translations and escapes. The markup is the plain widget's, byte for byte.
    """

    #: (language, choice_key) → the options as ``(value, plain, selected)``; bounded below.
    _rendered: dict = {}
    MAX_ENTRIES = 512

    def __init__(self, choice_key=None):
        super().__init__()
        self.choice_key = choice_key

    def __call__(self, field, **kwargs):
        key = getattr(field, "choice_key", None) or self.choice_key
        if key is None or self.multiple or field.has_groups():
            return super().__call__(field, **kwargs)
        kwargs.setdefault("id", field.id)
        flags = getattr(field, "flags", {})
        for name in self.validation_attrs:
            if name not in kwargs and getattr(flags, name, False):
                kwargs[name] = getattr(flags, name)
        html = [f"<select {html_params(name=field.name, **kwargs)}>"]
        coerce, data = field.coerce, field.data
        html += [chosen if coerce(value) == data else plain
                 for value, plain, chosen in self._options(field, key)]
        html.append("</select>")
        return Markup("".join(html))  # noqa: S704 - params and options escaped by WTForms

    def _options(self, field, key) -> list[tuple]:
        return kept(self._rendered, (locale_name(), key),
                    lambda: self._render_options(field), self.MAX_ENTRIES)

    def _render_options(self, field) -> list[tuple]:
        return [(choice.value,
                 self.render_option(Choice(choice.value, choice.label, False, choice.render_kw)),
                 self.render_option(Choice(choice.value, choice.label, True, choice.render_kw)))
                for choice in field._choices_from_input(field.choices) or []]


def field_state(field) -> tuple:
    """Everything a field's markup depends on besides its form class and the language: its
    choices (their ``choice_key`` when they have one, else the options as shown), input,
    value and errors. The key under which rendered fields are kept."""
    choices = getattr(field, "choice_key", None) or getattr(field.widget, "choice_key", None)
    if choices is None and getattr(field, "choices", None) is not None:
        choices = tuple((choice.value, str(choice.label))
                        for choice in field._choices_from_input(field.choices) or ())
    return (field.name, choices, tuple(field.raw_data or ()), repr(field.data),
            tuple(str(error) for error in field.errors))


#: Stands for a hidden field's value in its kept markup; never part of a real value.
_VALUE_SLOT = "\x00value\x00"


def hidden_field(field) -> Markup:
    """A hidden field's markup (a CSRF token, a version number) exactly as WTForms renders it,
    which takes it a few hundred Python calls: kept per form class and field with a slot for
    the value, filled in here (escaped as WTForms escapes it)."""
    markup = fragment(("hidden", type(field._form).__name__, field.name),
                      lambda: field(value=_VALUE_SLOT))
    return markup.replace(_VALUE_SLOT, escape(field._value()))
