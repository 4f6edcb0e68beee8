"""Forms for user and unit administration."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import PasswordField, SelectField, StringField, SubmitField
from wtforms.validators import DataRequired, Email, Length, Optional, Regexp

from app.auth.models import UNIT_KIND_LABELS
from app.core.forms import options
from app.core.i18n import LANGUAGE_NAMES
from app.core.permissions import ROLE_LABELS, Role
from app.core.validators import MainlandMobile


def _role_choices():
    return [(role.value, label) for role, label in ROLE_LABELS.items()]


class UserForm(FlaskForm):
    """Create or edit an account; unit choices are filled by the view from active units."""

    username = StringField(
        _l("Username"),
        validators=[DataRequired(), Length(min=3, max=64),
                    Regexp(r"^[A-Za-z0-9_.\-]+$",
                           message=_l("Use letters, digits, dot, hyphen or underscore."))],
    )
    display_name = StringField(_l("Display name"), validators=[DataRequired(), Length(max=64)])
    role = SelectField(_l("Role"), choices=lambda: options(_role_choices()),
                       validators=[DataRequired()])
    unit_id = SelectField(_l("Unit"), coerce=int, validate_choice=True)
    email = StringField(_l("E-mail"), validators=[Optional(), Email(), Length(max=254)])
    mobile = StringField(_l("Mobile"), validators=[Optional(), MainlandMobile()])
    preferred_language = SelectField(
        _l("Language"),
        choices=options([("", _l("Browser default")), *LANGUAGE_NAMES.items()]),
        validators=[Optional()],
    )
    password = PasswordField(_l("Initial password"),
                             description=_l("The user must change it at first sign-in."),
                             render_kw={"autocomplete": "new-password"})
    submit = SubmitField(_l("Save"))

    def set_unit_choices(self, units) -> None:
        """Offer the active units (and 'none', allowed only for non-staff roles)."""
        self.unit_id.choices = options([(0, _l("— none —"))] + [(u.id, u.name) for u in units])

    @property
    def role_value(self) -> Role:
        """The selected role as an enum."""
        return Role(self.role.data)


class UnitForm(FlaskForm):
    """Create or edit a unit."""

    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=100)])
    code = StringField(
        _l("Code"),
        validators=[DataRequired(), Length(max=20),
                    Regexp(r"^[A-Za-z0-9_\-]+$", message=_l("Use letters, digits, - or _."))],
    )
    kind = SelectField(_l("Kind"),
                       choices=options([(k.value, v) for k, v in UNIT_KIND_LABELS.items()]))
    submit = SubmitField(_l("Save"))


class UserFilterForm(FlaskForm):
    """Search and filters for the user list (GET, no CSRF)."""

    class Meta:
        csrf = False

    q = StringField(_l("Search"))
    role = SelectField(_l("Role"),
                       choices=lambda: options([("", _l("All roles")), *_role_choices()]))
    unit = SelectField(_l("Unit"), coerce=str)
    status = SelectField(
        _l("Status"),
        choices=options([("", _l("All")), ("active", _l("Active")), ("inactive", _l("Inactive")),
                         ("locked", _l("Locked"))]),
    )
