"""Portal forms: shape checks only; the services decide the domain rules."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    HiddenField,
    MultipleFileField,
    RadioField,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Email, Length, Optional, ValidationError

from app.core.file_types import ACCEPT
from app.core.forms import options
from app.core.validators import MainlandMobile
from app.firms import uscc as uscc_rules
from app.sla.enums import DEMAND_TYPE_LABELS

#: Longest description accepted from the public (about ten pages of text).
DESCRIPTION_MAX = 5000


def valid_uscc(_form, field) -> None:
    """GB 32100 check, with the registry's own messages."""
    result = uscc_rules.validate(field.data)
    if not result.is_valid:
        raise ValidationError(str(uscc_rules.USCC_PROBLEM_MESSAGES[result.problem]))


def empty_honeypot(_form, field) -> None:
    """People do not see this field; a value means a robot filled the form."""
    if field.data:
        raise ValidationError(_l("Your request could not be accepted."))


class RequestForm(FlaskForm):
    """The public request form (also the firm account's, pre-filled)."""

    firm_name = StringField(_l("Firm name"), validators=[DataRequired(), Length(max=200)])
    uscc = StringField(_l("Unified social credit code"), validators=[DataRequired(), valid_uscc],
                       description=_l("18 characters, on the business licence."))
    contact_name = StringField(_l("Contact name"), validators=[DataRequired(), Length(max=64)])
    mobile = StringField(_l("Mobile number"), validators=[DataRequired(), MainlandMobile()],
                         description=_l("Used to look up this request and to call you back."))
    email = StringField(_l("E-mail (optional)"),
                        validators=[Optional(), Length(max=254), Email()],
                        description=_l("We send a confirmation with your tracking link."))
    demand_type = SelectField(_l("Type of request"), validators=[DataRequired()],
                              choices=lambda: options([("", _l("Choose…")),
                                                       *DEMAND_TYPE_LABELS.items()]))
    category = SelectField(_l("Category"), validators=[Optional()], choices=[])
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=200)])
    description = TextAreaField(_l("Description"),
                                validators=[DataRequired(), Length(max=DESCRIPTION_MAX)],
                                render_kw={"rows": 6})
    attachments = MultipleFileField(
        _l("Attachments (optional)"), render_kw={"accept": ACCEPT},
        description=_l("Up to 5 files: PDF, JPG, PNG, DOCX or XLSX, 10 MB each."))
    is_taiwan = BooleanField(_l("Taiwan-invested firm or Taiwan compatriot (涉台)"))
    consent = BooleanField(_l("I have read the privacy notice and agree to my data being used "
                              "to handle this request."),
                           validators=[DataRequired(_l("Please agree to the privacy notice "
                                                       "to send the request."))])
    website = StringField(_l("Leave this field empty"), validators=[empty_honeypot])
    submit = SubmitField(_l("Send request"))

    def set_categories(self, categories) -> None:
        """Offer the active categories."""
        self.offer_categories([(str(c.id), c.name) for c in categories])

    def offer_categories(self, pairs) -> None:
        """Offer categories given as ``(value, label)`` pairs (the cached public list)."""
        self.category.choices = options([("", _l("Not sure")), *pairs])


class LookupForm(FlaskForm):
    """Find a request by its reference and the mobile number given with it."""

    reference = StringField(_l("Reference"), validators=[DataRequired(), Length(max=20)],
                            description=_l("For example KS2026-000123."))
    mobile = StringField(_l("Mobile number"), validators=[DataRequired(), Length(max=20)])
    submit = SubmitField(_l("Look up"))


class SupplyForm(FlaskForm):
    """The requester adds the information the unit asked for."""

    text = TextAreaField(_l("Information"), validators=[DataRequired(),
                                                        Length(max=DESCRIPTION_MAX)],
                         render_kw={"rows": 4})
    attachments = MultipleFileField(_l("Attachments (optional)"), render_kw={"accept": ACCEPT})
    submit = SubmitField(_l("Send information"))


class WithdrawForm(FlaskForm):
    """The requester withdraws the request."""

    reason = TextAreaField(_l("Why do you withdraw the request?"),
                           validators=[DataRequired(), Length(max=1000)], render_kw={"rows": 2})
    submit = SubmitField(_l("Withdraw the request"))


def _level_choices():
    from app.ratings.models import LEVEL_LABELS

    return options([(str(level), label) for level, label in LEVEL_LABELS.items()])


class RateForm(FlaskForm):
    """好差评: five levels, none pre-selected, optional comment (DOMAIN §4)."""

    level = RadioField(_l("How satisfied are you with the answer?"), choices=_level_choices,
                       validators=[DataRequired(_l("Choose one of the five levels."))],
                       default=None)
    comment = TextAreaField(_l("Comment (optional)"), validators=[Optional(), Length(max=2000)],
                            render_kw={"rows": 3})
    submit = SubmitField(_l("Send rating"))


def _feedback_choices():
    from app.ratings.models import FEEDBACK_LEVEL_LABELS

    return options(list(FEEDBACK_LEVEL_LABELS.items()))


class FeedbackForm(FlaskForm):
    """The evaluator's rating of the rectification (three levels, none pre-selected)."""

    level = RadioField(_l("Are you satisfied with how your rating was followed up?"),
                       choices=_feedback_choices,
                       validators=[DataRequired(_l("Choose one of the levels."))])
    submit = SubmitField(_l("Send"))


class RegistrationForm(FlaskForm):
    """A firm contact asks for an account."""

    firm_name = StringField(_l("Firm name"), validators=[DataRequired(), Length(max=200)])
    uscc = StringField(_l("Unified social credit code"), validators=[DataRequired(), valid_uscc])
    contact_name = StringField(_l("Your name"), validators=[DataRequired(), Length(max=64)])
    mobile = StringField(_l("Mobile number"), validators=[DataRequired(), MainlandMobile()],
                         description=_l("It becomes your username."))
    email = StringField(_l("E-mail"), validators=[DataRequired(), Length(max=254), Email()],
                        description=_l("We send your first password here once approved."))
    consent = BooleanField(_l("I have read the privacy notice and agree."),
                           validators=[DataRequired(_l("Please agree to the privacy notice."))])
    website = StringField(_l("Leave this field empty"), validators=[empty_honeypot])
    submit = SubmitField(_l("Request an account"))


class ApproveForm(FlaskForm):
    """Link a registration to a registry firm."""

    firm = SelectField(_l("Registry firm"), validators=[DataRequired()], choices=[])
    submit = SubmitField(_l("Approve and create the account"))


class RejectForm(FlaskForm):
    """Refuse a registration."""

    reason = TextAreaField(_l("Reason (sent to the contact)"),
                           validators=[DataRequired(), Length(max=1000)], render_kw={"rows": 2})
    submit = SubmitField(_l("Reject"))


class InviteForm(FlaskForm):
    """A dispatcher creates an account for a firm's contact."""

    contact_name = StringField(_l("Contact name"), validators=[DataRequired(), Length(max=64)])
    mobile = StringField(_l("Mobile number"), validators=[DataRequired(), MainlandMobile()])
    email = StringField(_l("E-mail"), validators=[DataRequired(), Length(max=254), Email()])
    submit = SubmitField(_l("Invite"))


class SnippetForm(FlaskForm):
    """An answer snippet."""

    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=100)])
    body = TextAreaField(_l("Answer text"), validators=[DataRequired(), Length(max=5000)],
                         render_kw={"rows": 6})
    category = SelectField(_l("Category"), validators=[Optional()], choices=[])
    submit = SubmitField(_l("Save"))

    def set_categories(self, categories) -> None:
        """Offer the active categories."""
        self.category.choices = options([("", _l("Any category")),
                                         *[(str(c.id), c.name) for c in categories]])


class AnswerForm(FlaskForm):
    """马上办: answer at intake, optionally starting from a snippet."""

    snippet = SelectField(_l("Start from a snippet"), validators=[Optional()], choices=[])
    answer = TextAreaField(_l("Answer to the requester"),
                           validators=[DataRequired(), Length(max=5000)], render_kw={"rows": 8})
    version = HiddenField()
    submit = SubmitField(_l("Send the answer and close intake"))


class FilterForm(FlaskForm):
    """Search box and status filter of the portal's lists (GET, no CSRF)."""

    class Meta:
        csrf = False

    q = StringField(_l("Search"))
    status = SelectField(_l("Status"), choices=[])
