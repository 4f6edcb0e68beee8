"""The one rule for text input (issue 15, finding 2).

Control characters (C0 but tab, line feed and carriage return; DEL; C1) have no place in what
people type. PostgreSQL refuses NUL in text outright (a 500 before this rule) and SQLite
stores it, so the rule is applied before any database sees the text, the same on both:

- in a **form field** they are refused with a field message (every field of every form: the
  rule is the first validator :func:`bind_with_text_rule` gives each field);
- in a **query string** (searches and list filters) they are stripped, which is harmless: the
  application's request class hands views the cleaned ``args``;
- in a **URL path** they answer 404 (no object is named that way).
"""

from __future__ import annotations

import re

from flask import abort
from flask_babel import lazy_gettext as _l
from wtforms.meta import DefaultMeta
from wtforms.validators import StopValidation

CONTROL_CHARACTERS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")

MESSAGE = _l("Remove the control characters (such as NUL) from this field.")


def has_control_characters(value: str) -> bool:
    """Whether ``value`` holds a character the rule refuses."""
    return CONTROL_CHARACTERS.search(value) is not None


def strip_control_characters(value: str) -> str:
    """``value`` without the characters the rule refuses."""
    return CONTROL_CHARACTERS.sub("", value)


def text_rule(form, field) -> None:
    """WTForms validator: refuse input holding control characters (files are checked by name
    in ``core/storage.py``)."""
    for value in field.raw_data or ():
        if isinstance(value, str) and CONTROL_CHARACTERS.search(value):
            raise StopValidation(MESSAGE)


def bind_with_text_rule(meta, form, unbound_field, options):
    """``Meta.bind_field`` of every form: the field as WTForms binds it, the rule first."""
    field = DefaultMeta.bind_field(meta, form, unbound_field, options)
    field.validators = [text_rule, *field.validators]
    return field


def clean_args(pairs):
    """Query-string pairs without control characters (see the module)."""
    return [(strip_control_characters(key), strip_control_characters(value))
            if CONTROL_CHARACTERS.search(key + value) else (key, value)
            for key, value in pairs]


def refuse_control_characters_in_path(_endpoint, values) -> None:
    """URL value preprocessor: a path value with control characters names nothing (404)."""
    if values and any(isinstance(value, str) and CONTROL_CHARACTERS.search(value)
                      for value in values.values()):
        abort(404)
