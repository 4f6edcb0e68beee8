"""Firm forms: shape checks only; the services decide the domain rules."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    BooleanField,
    DateField,
    IntegerField,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Email, Length, NumberRange, Optional, ValidationError

from app.core.forms import options
from app.core.validators import MainlandMobile
from app.firms.models import (
    CAPITAL_ORIGIN_LABELS,
    LEGAL_FORM_LABELS,
    TAG_KIND_LABELS,
    TAG_LEVEL_LABELS,
)
from app.firms.services import uscc_problem


class UsccField(StringField):
    """A USCC input, normalised (blanks and hyphens removed, upper-case) when read."""

    def process_formdata(self, valuelist):
        super().process_formdata(valuelist)
        self.data = (self.data or "").strip()


def usable_uscc(_form, field) -> None:
    """Valid by GB 32100, or a legacy code a supervisor accepted."""
    code, problem = uscc_problem(field.data)
    if problem:
        raise ValidationError(problem)
    field.data = code


class FirmForm(FlaskForm):
    """Create or edit a firm; choices for area and commissioner are filled by the view."""

    uscc = UsccField(_l("Unified social credit code"), validators=[usable_uscc],
                     description=_l("18 characters, e.g. 91320583314159268J."))
    name = StringField(_l("Legal name"), validators=[DataRequired(), Length(max=200)])
    english_name = StringField(_l("English name"), validators=[Optional(), Length(max=200)])
    area_id = SelectField(_l("Area"), coerce=int, validators=[DataRequired()])
    industry_code = StringField(
        _l("Industry (GB/T 4754)"), validators=[DataRequired(), Length(max=5)],
        description=_l("Section letter and 4-digit class, e.g. C3911."))
    legal_form = SelectField(_l("Legal form"),
                             choices=lambda: options(LEGAL_FORM_LABELS.items()))
    capital_origin = SelectField(_l("Capital origin"),
                                 choices=lambda: options(CAPITAL_ORIGIN_LABELS.items()))
    address = StringField(_l("Address"), validators=[Optional(), Length(max=300)])
    employees = IntegerField(_l("Employees"), validators=[Optional(), NumberRange(min=0)])
    is_key_firm = BooleanField(_l("Key firm"))
    commissioner_id = SelectField(_l("Service commissioner"), coerce=int,
                                  description=_l("Required for a key firm."))
    submit = SubmitField(_l("Save"))

    def set_choices(self, areas, commissioners) -> None:
        """Offer the areas and the staff who may serve firms."""
        self.area_id.choices = options([(a.id, a.name) for a in areas])
        self.commissioner_id.choices = options(
            [(0, _l("— none —"))] + [(u.id, f"{u.display_name} ({u.username})")
                                     for u in commissioners])


class CommissionerForm(FlaskForm):
    """Assign or remove a firm's service commissioner."""

    commissioner_id = SelectField(_l("Service commissioner"), coerce=int)
    submit = SubmitField(_l("Assign"))


class ContactForm(FlaskForm):
    """A contact person."""

    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=64)])
    title = StringField(_l("Job title"), validators=[Optional(), Length(max=64)])
    mobile = StringField(_l("Mobile"), validators=[Optional(), MainlandMobile()])
    email = StringField(_l("E-mail"), validators=[Optional(), Email(), Length(max=254)])
    is_legal_representative = BooleanField(_l("Legal representative"))
    is_primary = BooleanField(_l("Primary contact"))
    submit = SubmitField(_l("Save"))


class TagForm(FlaskForm):
    """A recognition with its level and validity."""

    kind = SelectField(_l("Tag"), choices=lambda: options(TAG_KIND_LABELS.items()))
    level = SelectField(_l("Level"), choices=lambda: options(
        [("", _l("— none —")), *TAG_LEVEL_LABELS.items()]), validators=[Optional()])
    certified_on = DateField(_l("Certified on"), validators=[Optional()])
    valid_until = DateField(_l("Valid until"), validators=[Optional()])
    certificate_no = StringField(_l("Certificate number"), validators=[Optional(), Length(max=64)])
    exchange = StringField(_l("Exchange (listed companies)"),
                           validators=[Optional(), Length(max=50)])
    ticker = StringField(_l("Ticker (listed companies)"), validators=[Optional(), Length(max=20)])
    submit = SubmitField(_l("Save"))


class LegacyUsccForm(FlaskForm):
    """A supervisor accepts a legacy pilot code that fails the check character."""

    uscc = UsccField(_l("Unified social credit code"), validators=[DataRequired()])
    reason = TextAreaField(_l("Reason"), validators=[DataRequired(), Length(max=2000)],
                           description=_l("e.g. the 2015 pilot licence seen on paper."))
    submit = SubmitField(_l("Accept this code"))


class ImportForm(FlaskForm):
    """Upload an XLSX or CSV file of firms."""

    file = FileField(_l("File (XLSX or CSV)"), validators=[FileRequired()])
    dry_run = BooleanField(_l("Dry run: check every row, write nothing"), default=True)
    submit = SubmitField(_l("Check and import"))


class FirmFilterForm(FlaskForm):
    """Search, filters and sorting for the firm list (GET, no CSRF)."""

    class Meta:
        csrf = False

    q = StringField(_l("Search"))
    area = SelectField(_l("Area"), coerce=str, validate_choice=False)
    section = SelectField(_l("Industry"), coerce=str, validate_choice=False)
    origin = SelectField(_l("Capital origin"), validate_choice=False, choices=lambda: options(
        [("", _l("All")), *CAPITAL_ORIGIN_LABELS.items()]))
    tag = SelectField(_l("Tag"), validate_choice=False, choices=lambda: options(
        [("", _l("All")), *TAG_KIND_LABELS.items()]))
    key = SelectField(_l("Key firm"), validate_choice=False, choices=lambda: options(
        [("", _l("All")), ("yes", _l("Key firms")), ("no", _l("Other firms"))]))
    commissioner = SelectField(_l("Commissioner"), coerce=str, validate_choice=False)
    status = SelectField(_l("Status"), validate_choice=False, choices=lambda: options(
        [("active", _l("Active")), ("archived", _l("Archived")), ("all", _l("All"))]))
    sort = SelectField(_l("Sort by"), validate_choice=False, choices=lambda: options(
        [("name", _l("Name A–Z")), ("-name", _l("Name Z–A")),
         ("-created", _l("Newest first")), ("created", _l("Oldest first")),
         ("-employees", _l("Most employees")), ("employees", _l("Fewest employees"))]))

    def set_choices(self, areas, sections, commissioners) -> None:
        """Fill the choices that come from the database."""
        self.area.choices = options([("", _l("All"))] + [(str(a.id), a.name) for a in areas])
        self.section.choices = options(
            [("", _l("All"))] + [(s.code, f"{s.code} {s.name}") for s in sections])
        self.commissioner.choices = options(
            [("", _l("All")), ("none", _l("None assigned"))]
            + [(str(u.id), u.display_name) for u in commissioners])
