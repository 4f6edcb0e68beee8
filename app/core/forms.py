"""Form pieces shared by every domain."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SubmitField
from wtforms.fields.choices import SelectChoice


class ConfirmForm(FlaskForm):
    """An empty form that carries the CSRF token for POST-only actions (archive, deactivate…)."""

    submit = SubmitField(_l("Confirm"))


def options(pairs) -> list[SelectChoice]:
    """Select options from ``(value, label)`` pairs (WTForms 3.3 wants ``SelectChoice`` objects)."""
    return [SelectChoice(value, label) for value, label in pairs]
