"""Rating and rectification forms: shape checks only; the services decide the rules."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    IntegerField,
    RadioField,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from app.core.forms import options
from app.ratings.models import (
    CLASSIFICATION_LABELS,
    FEEDBACK_LEVEL_LABELS,
    LEVEL_LABELS,
    RATING_CHANNEL_LABELS,
    RECORDED_CHANNELS,
    RECTIFICATION_STATUS_LABELS,
)


def _levels():
    return options([(str(level), label) for level, label in LEVEL_LABELS.items()])


def _recorded_channels():
    return options([(c.value, RATING_CHANNEL_LABELS[c]) for c in RECORDED_CHANNELS])


class FollowUpRatingForm(FlaskForm):
    """A dispatcher records the rating the requester gave on the follow-up."""

    level = RadioField(_l("Rating given"), choices=_levels,
                       validators=[DataRequired(_l("Choose one of the five levels."))])
    channel = SelectField(_l("How it was given"), choices=_recorded_channels,
                          validators=[DataRequired()])
    comment = TextAreaField(_l("Comment (optional)"), validators=[Optional(), Length(max=2000)],
                            render_kw={"rows": 3})
    submit = SubmitField(_l("Record the rating"))


class CallbackForm(FlaskForm):
    """Call-back verification of a 差评."""

    note = TextAreaField(_l("What the evaluator said on the call-back"),
                         validators=[DataRequired(), Length(max=4000)], render_kw={"rows": 3})
    submit = SubmitField(_l("Record the call-back"))


class ClassifyForm(FlaskForm):
    """The responsible unit's classification."""

    classification = RadioField(_l("Classification"),
                                choices=lambda: options(list(CLASSIFICATION_LABELS.items())),
                                validators=[DataRequired(_l("Choose a classification."))])
    plan = TextAreaField(_l("Plan or explanation (a plan is required for a deadline fix)"),
                         validators=[Optional(), Length(max=4000)], render_kw={"rows": 3})
    appeal_reason = TextAreaField(_l("Reason for the appeal"),
                                  validators=[Optional(), Length(max=4000)],
                                  render_kw={"rows": 2})
    submit = SubmitField(_l("Save the classification"))


class ResultForm(FlaskForm):
    """What the unit did."""

    result = TextAreaField(_l("Result of the rectification (told to the evaluator)"),
                           validators=[DataRequired(), Length(max=4000)], render_kw={"rows": 4})
    submit = SubmitField(_l("Record the result"))


class ExtensionForm(FlaskForm):
    """Ask for more working days in total."""

    days = IntegerField(_l("Working days in total"),
                        validators=[DataRequired(), NumberRange(min=2, max=60)])
    reason = TextAreaField(_l("Reason"), validators=[DataRequired(), Length(max=2000)],
                           render_kw={"rows": 2})
    submit = SubmitField(_l("Ask for an extension"))


class DecisionForm(FlaskForm):
    """A supervisor's yes/no with a reason (appeals, extensions)."""

    approve = BooleanField(_l("Approve / uphold"))
    reason = TextAreaField(_l("Reason"), validators=[Optional(), Length(max=2000)],
                           render_kw={"rows": 2})
    submit = SubmitField(_l("Decide"))


class StaffFeedbackForm(FlaskForm):
    """The evaluator's feedback, told to a dispatcher."""

    level = RadioField(_l("The evaluator's rating of the rectification"),
                       choices=lambda: options(list(FEEDBACK_LEVEL_LABELS.items())),
                       validators=[DataRequired(_l("Choose one of the levels."))])
    channel = SelectField(_l("How it was given"), choices=_recorded_channels,
                          validators=[DataRequired()])
    submit = SubmitField(_l("Record the feedback"))


class ReopenForm(FlaskForm):
    """Reopen the ticket after an unsatisfied feedback."""

    reason = TextAreaField(_l("Reason"), validators=[DataRequired(), Length(max=2000)],
                           render_kw={"rows": 2})
    submit = SubmitField(_l("Reopen the ticket"))


class SettingsForm(FlaskForm):
    """Rectification limits [cfg]."""

    rectification_days = IntegerField(_l("Working days to rectify"),
                                      validators=[DataRequired(), NumberRange(min=1, max=60)])
    rectification_max_days = IntegerField(_l("At most, with a supervisor's approval"),
                                          validators=[DataRequired(), NumberRange(min=1, max=60)])
    submit = SubmitField(_l("Save"))


class RectificationFilterForm(FlaskForm):
    """List filters (GET)."""

    class Meta:
        csrf = False

    q = StringField(_l("Reference"))
    status = SelectField(_l("Status"), choices=lambda: options(
        [("open", _l("Open")), ("all", _l("All")), *RECTIFICATION_STATUS_LABELS.items()]))
    overdue = BooleanField(_l("Overdue only"))
