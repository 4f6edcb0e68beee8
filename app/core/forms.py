"""Form pieces shared by every domain."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SubmitField


class ConfirmForm(FlaskForm):
    """An empty form that carries the CSRF token for POST-only actions (archive, deactivate…)."""

    submit = SubmitField(_l("Confirm"))
