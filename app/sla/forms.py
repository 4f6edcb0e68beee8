"""Forms for the calendar, the SLA policies and the SLA settings."""

from __future__ import annotations

from decimal import Decimal

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    DecimalField,
    IntegerField,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
    TimeField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from app.core.forms import options
from app.sla.enums import (
    DAY_KIND_LABELS,
    DEMAND_TYPE_LABELS,
    LIMIT_UNIT_LABELS,
    SERVICE_MODE_LABELS,
    SLA_STEP_LABELS,
    URGENCY_LABELS,
    LimitUnit,
    SlaStep,
)
from app.sla.models import Limit


class DayEditForm(FlaskForm):
    """Change one day, or a range of days, with the reason the audit trail keeps."""

    first_day = DateField(_l("Day"), validators=[DataRequired()])
    last_day = DateField(_l("Until (optional)"), validators=[Optional()],
                         description=_l("Give a last day to change a whole holiday at once."))
    kind = SelectField(_l("Kind of day"),
                       choices=options([(k.value, v) for k, v in DAY_KIND_LABELS.items()]),
                       validators=[DataRequired()])
    name = StringField(_l("Holiday name"), validators=[Optional(), Length(max=50)],
                       description=_l("E.g. 春节; for a make-up day, the holiday it makes up for."))
    reason = TextAreaField(_l("Reason"), validators=[DataRequired(), Length(max=200)],
                           description=_l("E.g. the State Council notice and its number."))
    submit = SubmitField(_l("Save day"))

    def validate_last_day(self, field) -> None:
        """The range runs forwards."""
        from wtforms.validators import ValidationError

        if field.data and self.first_day.data and field.data < self.first_day.data:
            raise ValidationError(_l("The last day must not be before the first."))


class AddYearForm(FlaskForm):
    """Add a year the calendar does not have yet."""

    year = IntegerField(_l("Year"), validators=[InputRequired(), NumberRange(2000, 2100)])
    submit = SubmitField(_l("Add year"))


class PublishYearForm(FlaskForm):
    """Confirm a provisional year, as entered, as the official schedule."""

    year = IntegerField(_l("Year"), validators=[InputRequired(), NumberRange(2000, 2100)])
    reason = StringField(_l("State Council notice"), validators=[DataRequired(), Length(max=200)])
    submit = SubmitField(_l("Publish as official"))


def _unit_choices(step: SlaStep):
    from app.sla.services import ALLOWED_UNITS

    return options([(u.value, label) for u, label in LIMIT_UNIT_LABELS.items()
                    if u in ALLOWED_UNITS[step]])


class PolicyForm(FlaskForm):
    """The limits of one policy: a value and a unit per step, and the due-soon thresholds."""

    same_day_cutoff = TimeField(_l("Same-day cut-off time"), validators=[DataRequired()],
                                description=_l("Started after this time, 'end of the same "
                                               "working day' means the next working day."))
    due_soon_remaining_days = DecimalField(
        _l("Due soon: working days left"), places=2,
        validators=[InputRequired(), NumberRange(0, 30)])
    due_soon_used_percent = IntegerField(
        _l("Due soon: share of time used (%)"), validators=[InputRequired(), NumberRange(1, 100)])
    submit = SubmitField(_l("Save policy"))

    def limit_fields(self):
        """(step, value field, unit field) for every step, in table order."""
        return [(step, self[f"{step.value}_limit"], self[f"{step.value}_unit"])
                for step in SlaStep]

    def limits(self) -> dict[SlaStep, Limit]:
        """The limits as entered (a same-day limit has no value)."""
        return {step: self._limit(value, unit) for step, value, unit in self.limit_fields()}

    @staticmethod
    def _limit(value, unit) -> Limit:
        limit_unit = LimitUnit(unit.data)
        amount = value.data if limit_unit != LimitUnit.SAME_WORKING_DAY else Decimal(0)
        return Limit(Decimal(amount if amount is not None else 0), limit_unit)

    def validate(self, extra_validators=None) -> bool:
        """Field checks, then the domain's rule for each step, shown next to its field."""
        from app.sla.services import validate_limit

        valid = super().validate(extra_validators)
        for step, value, unit in self.limit_fields():
            if value.errors or unit.errors:
                continue
            if unit.data != LimitUnit.SAME_WORKING_DAY and value.data is None:
                value.errors.append(_l("Enter a value."))
                valid = False
                continue
            message = validate_limit(step, self._limit(value, unit))
            if message:
                value.errors.append(message)
                valid = False
        return valid


for _step in SlaStep:
    setattr(PolicyForm, f"{_step.value}_limit",
            DecimalField(SLA_STEP_LABELS[_step], places=2, validators=[Optional()]))
    setattr(PolicyForm, f"{_step.value}_unit",
            SelectField(_l("Unit"), choices=_unit_choices(_step), validators=[DataRequired()]))


class PolicyFilterForm(FlaskForm):
    """Filters of the policy list (GET, no CSRF)."""

    class Meta:
        csrf = False

    service_mode = SelectField(_l("Service mode"), choices=lambda: options(
        [("", _l("All")), *((k.value, v) for k, v in SERVICE_MODE_LABELS.items())]))
    demand_type = SelectField(_l("Demand type"), choices=lambda: options(
        [("", _l("All")), *((k.value, v) for k, v in DEMAND_TYPE_LABELS.items())]))
    urgency = SelectField(_l("Urgency"), choices=lambda: options(
        [("", _l("All")), *((k.value, v) for k, v in URGENCY_LABELS.items())]))
    complex = SelectField(_l("Complex"), choices=lambda: options(
        [("", _l("All")), ("1", _l("Complex")), ("0", _l("Not complex"))]))


class SettingsForm(FlaskForm):
    """Office hours, extension rules and the workflow rules of DOMAIN §3.1 [cfg]."""

    morning_start = TimeField(_l("Morning starts"), validators=[DataRequired()])
    morning_end = TimeField(_l("Morning ends"), validators=[DataRequired()])
    afternoon_start = TimeField(_l("Afternoon starts"), validators=[DataRequired()])
    afternoon_end = TimeField(_l("Afternoon ends"), validators=[DataRequired()])
    extension_max_requests = IntegerField(
        _l("Extension requests per ticket, at most"),
        validators=[InputRequired(), NumberRange(0, 10)])
    extension_max_total_days = IntegerField(
        _l("Extension working days in total, at most"),
        validators=[InputRequired(), NumberRange(0, 60)])
    extension_request_lead_days = IntegerField(
        _l("Extension must be asked at least this many working days before the deadline"),
        validators=[InputRequired(), NumberRange(0, 10)])
    reopen_limit = IntegerField(
        _l("Reopens a dispatcher may make; after that a supervisor decides"),
        validators=[InputRequired(), NumberRange(0, 10)])
    supervision_order_days = IntegerField(
        _l("Working days a supervision order gives the unit to answer"),
        validators=[InputRequired(), NumberRange(1, 30)])
    reply_needs_unit_lead_approval = BooleanField(
        _l("A handler's reply needs the unit lead's approval before it goes to the dispatcher"))
    submit = SubmitField(_l("Save settings"))
