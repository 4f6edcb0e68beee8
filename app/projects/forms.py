"""Project forms: shape checks only."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    IntegerField,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from app.core.forms import options
from app.projects.models import STAGE_STATUS_LABELS


class ProjectForm(FlaskForm):
    """Open a project for a key firm."""

    name = StringField(_l("Project name"), validators=[DataRequired(), Length(max=200)])
    started_on = DateField(_l("Started on"), validators=[InputRequired()])
    description = TextAreaField(_l("Description"), validators=[Optional(), Length(max=5000)])
    submit = SubmitField(_l("Open project"))


class StageForm(FlaskForm):
    """Change one stage."""

    status = SelectField(_l("Status"), choices=lambda: options(STAGE_STATUS_LABELS.items()))
    owner_unit_id = SelectField(_l("Owner unit"), coerce=int, validators=[Optional()])
    due_on = DateField(_l("Due date"), validators=[Optional()])
    completed_on = DateField(_l("Completed on"), validators=[Optional()])
    note = TextAreaField(_l("Note"), validators=[Optional(), Length(max=2000)])
    submit = SubmitField(_l("Save stage"))


class LinkTicketForm(FlaskForm):
    """Link a ticket of the firm by its reference."""

    reference = StringField(_l("Ticket reference"), validators=[DataRequired(), Length(max=16)])
    stage_id = SelectField(_l("Stage"), coerce=int, validators=[Optional()])
    submit = SubmitField(_l("Link ticket"))


class TemplateForm(FlaskForm):
    """A template stage."""

    name = StringField(_l("Stage name"), validators=[DataRequired(), Length(max=60)])
    position = IntegerField(_l("Position"), validators=[InputRequired(), NumberRange(0, 1000)])
    default_days = IntegerField(_l("Days after the previous stage"),
                                validators=[Optional(), NumberRange(1, 3650)])
    owner_unit_id = SelectField(_l("Default owner unit"), coerce=int, validators=[Optional()])
    is_active = BooleanField(_l("Used for new projects"), default=True)
    submit = SubmitField(_l("Save"))
