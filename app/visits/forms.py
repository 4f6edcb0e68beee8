"""Visit forms: shape checks only; the services decide the domain rules."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import MultipleFileField
from wtforms import (
    BooleanField,
    DateField,
    DateTimeLocalField,
    FieldList,
    Form,
    FormField,
    HiddenField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
    widgets,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from app.core.forms import options
from app.core.validators import MainlandMobile
from app.visits.models import MODE_LABELS, PURPOSE_LABELS


class MultiCheckboxField(SelectMultipleField):
    """Checkboxes instead of a multi-select: big touch targets on a phone."""

    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()


class IssueRowForm(Form):
    """One row of the issue list; a row left blank is ignored."""

    category_id = SelectField(_l("Category"), coerce=int, validate_choice=False)
    description = TextAreaField(_l("Issue"), validators=[Optional(), Length(max=2000)])
    is_solved_on_site = BooleanField(_l("Solved on site"))
    solution = TextAreaField(_l("How it was solved"), validators=[Optional(), Length(max=2000)])


class VisitForm(FlaskForm):
    """Record or correct a visit; choices are filled by the view."""

    visited_at = DateTimeLocalField(_l("Date and time"), format="%Y-%m-%dT%H:%M",
                                    validators=[InputRequired()])
    mode = SelectField(_l("Mode"), choices=lambda: options(MODE_LABELS.items()))
    purposes = MultiCheckboxField(_l("Purpose"), choices=lambda: options(PURPOSE_LABELS.items()),
                                  validators=[DataRequired(_l("Choose at least one purpose."))])
    lead_visitor_id = SelectField(_l("Lead visitor"), coerce=int)
    other_visitor_ids = SelectMultipleField(_l("Other visitors"), coerce=int,
                                            validators=[Optional()])
    contact_ids = MultiCheckboxField(_l("Contacts met"), coerce=int, validators=[Optional()])
    new_contact_name = StringField(_l("New contact: name"), validators=[Optional(), Length(max=64)])
    new_contact_title = StringField(_l("New contact: title"),
                                    validators=[Optional(), Length(max=64)])
    new_contact_mobile = StringField(_l("New contact: mobile"),
                                     validators=[Optional(), MainlandMobile()])
    operating_status = TextAreaField(_l("Operating status"),
                                     validators=[DataRequired(), Length(max=5000)])
    output_plan = TextAreaField(_l("Output"), validators=[Optional(), Length(max=2000)])
    orders_plan = TextAreaField(_l("Orders"), validators=[Optional(), Length(max=2000)])
    employment_plan = TextAreaField(_l("Employment"), validators=[Optional(), Length(max=2000)])
    investment_plan = TextAreaField(_l("Investment plans"),
                                    validators=[Optional(), Length(max=2000)])
    policies_delivered = TextAreaField(_l("Policies delivered"),
                                       validators=[Optional(), Length(max=5000)])
    campaign_id = SelectField(_l("Campaign"), coerce=int, validators=[Optional()])
    confirmed_by = SelectField(_l("Confirmed by (firm contact)"), validators=[Optional()])
    confirmed_at = DateTimeLocalField(_l("Confirmed at"), format="%Y-%m-%dT%H:%M",
                                      validators=[Optional()])
    issues = FieldList(FormField(IssueRowForm), min_entries=1, max_entries=30)
    attachments = MultipleFileField(_l("Photos and files"),
                                    description=_l("JPEG, PNG, WebP or PDF, up to 10 MB each."))
    plan_id = HiddenField()
    reason = TextAreaField(_l("Reason for changing a locked record"),
                           validators=[Optional(), Length(max=1000)])
    submit = SubmitField(_l("Save visit"))


class IssueForm(FlaskForm):
    """Add one issue to a recorded visit."""

    category_id = SelectField(_l("Category"), coerce=int, validate_choice=False)
    description = TextAreaField(_l("Issue"), validators=[DataRequired(), Length(max=2000)])
    is_solved_on_site = BooleanField(_l("Solved on site"))
    solution = TextAreaField(_l("How it was solved"), validators=[Optional(), Length(max=2000)])
    submit = SubmitField(_l("Add issue"))


class SolveForm(FlaskForm):
    """Record an on-site solution."""

    solution = TextAreaField(_l("How it was solved"), validators=[DataRequired(),
                                                                  Length(max=2000)])


class RecheckForm(FlaskForm):
    """A re-check (回头看)."""

    is_still_resolved = SelectField(_l("Result"), choices=lambda: options([
        ("yes", _l("Still resolved")), ("no", _l("The problem is back"))]))
    note = TextAreaField(_l("What the re-check found"), validators=[DataRequired(),
                                                                    Length(max=2000)])


class AttachmentForm(FlaskForm):
    """Add files to a visit."""

    attachments = MultipleFileField(_l("Photos and files"))


class VisitFilterForm(FlaskForm):
    """List filters (GET, no CSRF)."""

    class Meta:
        csrf = False

    q = StringField(_l("Firm"))
    date_from = DateField(_l("From"), validators=[Optional()])
    date_to = DateField(_l("To"), validators=[Optional()])
    visitor = SelectField(_l("Visitor"), validate_choice=False)
    unit = SelectField(_l("Unit"), validate_choice=False)
    area = SelectField(_l("Area"), validate_choice=False)
    key = SelectField(_l("Key firm"), choices=lambda: options([
        ("", _l("All")), ("yes", _l("Key firms")), ("no", _l("Other firms"))]))
    mode = SelectField(_l("Mode"), choices=lambda: options(
        [("", _l("All")), *MODE_LABELS.items()]))
    campaign = SelectField(_l("Campaign"), validate_choice=False)
    open_issues = SelectField(_l("Issues"), choices=lambda: options([
        ("", _l("All")), ("yes", _l("With open issues"))]))
    firm = HiddenField()


class PlanForm(FlaskForm):
    """Plan a visit."""

    firm_uscc = StringField(_l("Firm (USCC)"), validators=[DataRequired(), Length(max=32)])
    planned_on = DateField(_l("Planned date"), validators=[InputRequired()])
    user_id = SelectField(_l("Visitor"), coerce=int, validators=[Optional()])
    note = StringField(_l("Note"), validators=[Optional(), Length(max=300)])
    submit = SubmitField(_l("Add to plan"))


class CampaignForm(FlaskForm):
    """Open a campaign."""

    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=120)])
    starts_on = DateField(_l("Starts on"), validators=[InputRequired()])
    ends_on = DateField(_l("Ends on"), validators=[InputRequired()])
    description = TextAreaField(_l("Description"), validators=[Optional(), Length(max=2000)])
    visitor_ids = SelectMultipleField(_l("Assigned visitors"), coerce=int,
                                      validators=[DataRequired()])
    submit = SubmitField(_l("Create campaign"))


class TargetForm(FlaskForm):
    """Add target firms by filter or by a list of USCCs."""

    area = SelectField(_l("Area"), validate_choice=False)
    key = SelectField(_l("Key firms"), choices=lambda: options([
        ("", _l("Any")), ("yes", _l("Key firms only")), ("no", _l("Other firms only"))]))
    usccs = TextAreaField(_l("Or paste USCCs (one per line)"),
                          validators=[Optional(), Length(max=100000)])
    submit = SubmitField(_l("Add targets"))


class SettingsForm(FlaskForm):
    """Visit settings (DOMAIN §5 [cfg])."""

    edit_window_days = IntegerField(_l("Edit window (days)"),
                                    validators=[InputRequired(), NumberRange(min=0, max=365)])
    key_firm_cadence_months = IntegerField(_l("Key firms: visit every (months)"),
                                           validators=[InputRequired(), NumberRange(1, 60)])
    other_firm_cadence_months = IntegerField(_l("Other firms: visit every (months)"),
                                             validators=[InputRequired(), NumberRange(1, 60)])
    qualifying_modes = MultiCheckboxField(_l("Modes that count as a visit"),
                                          choices=lambda: options(MODE_LABELS.items()))
    submit = SubmitField(_l("Save"))
