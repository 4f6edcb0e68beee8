"""Forms of the API's web pages: a person's tokens, integration clients and their tokens."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, IntegerField, SelectField, StringField, SubmitField
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from app.api.models import CLIENT_CHANNEL_LABELS, SCOPE_LABELS
from app.api.services import CLIENT_ROLES, MAX_TOKEN_DAYS
from app.core.forms import options
from app.core.permissions import ROLE_LABELS


def _scope_choices():
    return options([(scope.value, label) for scope, label in SCOPE_LABELS.items()])


class TokenForm(FlaskForm):
    """A new token: its name, what it may do and for how many days."""

    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=100)],
                       description=_l("What the token is for, e.g. the script that uses it."))
    scope = SelectField(_l("Scope"), choices=_scope_choices, validators=[DataRequired()])
    days = IntegerField(_l("Valid for (days)"), default=90,
                        validators=[DataRequired(), NumberRange(min=1, max=MAX_TOKEN_DAYS)])
    submit = SubmitField(_l("Create token"))


class ClientTokenForm(FlaskForm):
    """A client's token: no expiry when the days are left blank."""

    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=100)])
    scope = SelectField(_l("Scope"), choices=_scope_choices, validators=[DataRequired()])
    days = IntegerField(_l("Valid for (days)"), validators=[Optional(), NumberRange(min=1)],
                        description=_l("Leave blank for a token without expiry."))
    submit = SubmitField(_l("Create token"))


class ClientForm(FlaskForm):
    """Register another system; the unit choices are filled by the view."""

    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=100)],
                       description=_l("e.g. 12345 platform"))
    unit_id = SelectField(_l("Unit"), coerce=int, validate_choice=True)
    role = SelectField(_l("Acts as"), choices=lambda: options(
        [(role.value, ROLE_LABELS[role]) for role in CLIENT_ROLES]),
        validators=[DataRequired()],
        description=_l("The client may do and see what this role may in its unit."))
    channel = SelectField(_l("Channel of its tickets"), choices=lambda: options(
        [(channel.value, label) for channel, label in CLIENT_CHANNEL_LABELS.items()]))
    own_tickets_only = BooleanField(_l("Only the tickets it created"), default=True)
    submit = SubmitField(_l("Register client"))
