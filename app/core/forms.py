"""Form pieces shared by every domain."""

import flask
from babel import support
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from werkzeug.utils import cached_property
from wtforms import SelectField, SubmitField
from wtforms.fields.choices import SelectChoice
from wtforms.i18n import messages_path

from app.core.caches import memo
from app.core.i18n import locale_name
from app.core.text import bind_with_text_rule, clean_args

#: Every form's fields get the one rule for text input first (``core/text.py``).
FlaskForm.Meta.bind_field = bind_with_text_rule

#: WTForms ships Simplified Chinese as ``zh`` and Traditional as ``zh_TW``; looked up as
#: ``zh_Hant``, gettext would fall back to ``zh`` and show Traditional readers Simplified text.
WTFORMS_LOCALES = {"zh_Hant": "zh_TW", "zh_Hans_CN": "zh"}


@memo("forms.wtforms_catalogue", maxsize=16)
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

    @cached_property
    def args(self):
        """The query string without control characters (``core/text.py``): every search and
        list filter reads them through here."""
        args = super().args
        pairs = list(args.items(multi=True))
        cleaned = clean_args(pairs)
        return args if cleaned == pairs else type(args)(cleaned)


class ConfirmForm(FlaskForm):
    """An empty form that carries the CSRF token for POST-only actions (archive, deactivate…)."""

    submit = SubmitField(_l("Confirm"))


def options(pairs) -> list[SelectChoice]:
    """Select options from ``(value, label)`` pairs (WTForms 3.3 wants ``SelectChoice`` objects)."""
    return [SelectChoice(value, label) for value, label in pairs]


class FixedSelectField(SelectField):
    """A select whose choices are fixed where its form class is defined, named by
    ``choice_key``: the key its kept markup is found by (:func:`field_state`) then needs no
    translation of every option."""

    def __init__(self, *args, choice_key, **kwargs):
        super().__init__(*args, **kwargs)
        self.choice_key = choice_key
        self.type = "SelectField"  # a select to the templates that style fields by type


def field_state(field) -> tuple:
    """Everything a field's markup depends on besides its form class and the language: its
    choices (their ``choice_key`` when they have one, else the options as shown), input,
    value and errors. The key under which rendered fields are kept."""
    choices = getattr(field, "choice_key", None)
    if choices is None and getattr(field, "choices", None) is not None:
        choices = tuple((choice.value, str(choice.label))
                        for choice in field._choices_from_input(field.choices) or ())
    return (field.name, choices, tuple(field.raw_data or ()), repr(field.data),
            tuple(str(error) for error in field.errors))
