"""Ticket forms: the queue filters and one action form whose fields follow the action.

Forms check the shape of input only; whether an action is possible is the workflow's decision.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    HiddenField,
    IntegerField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Email, Length, NumberRange, Optional

from app.core.caches import memo
from app.core.forms import FixedSelectField, field_state, options
from app.core.validators import MainlandMobile
from app.sla.enums import (
    DEMAND_TYPE_LABELS,
    SERVICE_MODE_LABELS,
    SLA_STATUS_LABELS,
    URGENCY_LABELS,
    DemandType,
    ServiceMode,
    SlaStatus,
    Urgency,
)
from app.tickets.models.enums import CHANNEL_LABELS, STATUS_LABELS, Channel, TicketStatus

#: Queue names shown as tabs: each is a filter of the visible tickets.
QUEUES = {
    "all": _l("All I may see"),
    "intake": _l("Intake"),
    "to_acknowledge": _l("To acknowledge"),
    "in_progress": _l("In progress"),
    "due_soon": _l("Due soon"),
    "overdue": _l("Overdue"),
}


class FilterDateField(DateField):
    """A date filter whose unreadable value gets the project's own, translated message."""

    def process_formdata(self, valuelist):
        try:
            super().process_formdata(valuelist)
        except ValueError as error:
            raise ValueError(_l("Not a date (use YYYY-MM-DD); this filter is ignored.")) \
                from error


#: The queue orders offered (app.tickets.queries.queue_order).
SORTS = {"deadline": _l("Nearest deadline first"), "newest": _l("Newest received first")}


#: "Any" leads every filter select but the status one.
ANY = _l("Any")

#: The filter selects whose options never change (built once: their labels stay lazy).
FIXED_FILTER_CHOICES = {
    "status": options([("", _l("Any status"))]
                      + [(s.value, STATUS_LABELS[s]) for s in TicketStatus]),
    "sla": options([("", ANY)] + [(s.value, SLA_STATUS_LABELS[s]) for s in
                                  (SlaStatus.ON_TRACK, SlaStatus.DUE_SOON, SlaStatus.OVERDUE)]),
    "service_mode": options([("", ANY)] + [(m.value, SERVICE_MODE_LABELS[m])
                                           for m in ServiceMode]),
    "demand_type": options([("", ANY)] + [(d.value, DEMAND_TYPE_LABELS[d])
                                          for d in DemandType]),
    "urgency": options([("", ANY)] + [(u.value, URGENCY_LABELS[u]) for u in Urgency]),
    "sort": options(list(SORTS.items())),
}


class TicketFilterForm(FlaskForm):
    """Search, filters and order of the queue pages (GET, no CSRF).

    A value the form does not accept (an unknown id, a bad date, an end before the start) is
    reported on its field and left out of the query: the page still answers.
    """

    class Meta:
        csrf = False

    q = StringField(_l("Search"), validators=[Optional(), Length(max=200)])
    status = SelectField(_l("Status"), validators=[Optional()])
    sla = SelectField(_l("SLA"), validators=[Optional()])
    service_mode = SelectField(_l("Service mode"), validators=[Optional()])
    demand_type = SelectField(_l("Demand type"), validators=[Optional()])
    urgency = SelectField(_l("Urgency"), validators=[Optional()])
    category = SelectField(_l("Category"), validators=[Optional()])
    unit = SelectField(_l("Unit (lead or assisting)"), validators=[Optional()])
    firm = StringField(_l("Firm (name or USCC)"), validators=[Optional(), Length(max=100)])
    received_from = FilterDateField(_l("Received from"), validators=[Optional()])
    received_to = FilterDateField(_l("Received to"), validators=[Optional()])
    sort = SelectField(_l("Order"), validators=[Optional()])

    #: The fields that narrow the list (``sort`` only orders it).
    FILTERS = ("q", "status", "sla", "service_mode", "demand_type", "urgency", "category",
               "unit", "firm", "received_from", "received_to")

    def __init__(self, *args, categories=(), units=(), **kwargs):
        super().__init__(*args, **kwargs)
        for name, choices in FIXED_FILTER_CHOICES.items():
            self[name].choices = list(choices)
            self[name].choice_key = ("ticket-filter", name)  # the key of the kept form
        for field, pairs in ((self.category, tuple(categories)), (self.unit, tuple(units))):
            field.choices = options([("", ANY), *pairs])
            field.choice_key = (field.name, pairs)
        for field in self:
            if field.type == "SelectField":
                # Left empty, a select fails WTForms' choice check (after building every
                # option and translating the message) and Optional() clears the error:
                # the check is made only on input, with the same result.
                raw = field.raw_data
                field.validate_choice = bool(raw) and not (isinstance(raw[0], str)
                                                           and not raw[0].strip())

    def shown_state(self) -> tuple:
        """Everything the rendered form depends on besides the language: the choice lists
        and each field's input, value and errors (the key of its cached markup)."""
        return tuple(field_state(field) for field in self)

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        start, end = self.received_from.data, self.received_to.data
        if start and end and start > end:
            message = _l("The end date is before the start date; the dates are ignored.")
            for field in (self.received_from, self.received_to):
                field.errors = [*field.errors, message]
            valid = False
        return valid

    def explain_errors(self) -> None:
        """Replace WTForms' terse messages with ones that say what the page did."""
        for field in self:
            if not field.errors or field.type == "FilterDateField":
                continue
            field.errors[:] = [_l("Not one of the offered values; this filter is ignored.")
                               if field.type == "SelectField"
                               else _l("Too long; this filter is ignored.")]

    def shown_value(self, name: str) -> str:
        """A filter's current value as the user reads it (a select's label, a date...)."""
        field = self[name]
        if field.type == "SelectField":
            return next((str(choice.label) for choice in field.choices
                         if choice.value == field.data), str(field.data))
        return str(field.data)


class ActionForm(FlaskForm):
    """Every piece of data an action of the workflow may need; each dialog shows its subset."""

    version = HiddenField()
    reason = TextAreaField(_l("Reason"), validators=[Optional()])
    text = TextAreaField(_l("Text"), validators=[Optional()])
    answer = TextAreaField(_l("Answer given to the requester"), validators=[Optional()])
    proper_channel = StringField(_l("Proper channel told to the requester"),
                                 validators=[Optional()])
    target = StringField(_l("Reference of the ticket to merge into"), validators=[Optional()])
    lead_unit = SelectField(_l("Lead unit"), coerce=int, validators=[Optional()])
    assisting_units = SelectMultipleField(_l("Assisting units"), coerce=int,
                                          validators=[Optional()])
    assisting_days = IntegerField(_l("Working days for the assisting units"),
                                  validators=[Optional(), NumberRange(min=1, max=30)],
                                  description=_l("Blank: the lead unit's handling deadline."))
    is_complex = BooleanField(_l("Complex (longer handling limit)"))
    suggested_unit = SelectField(_l("Suggested unit"), coerce=int, validators=[Optional()])
    legal_basis = TextAreaField(_l("Legal basis"), validators=[Optional()])
    missing_info = TextAreaField(_l("What is missing"), validators=[Optional()])
    contact_attempt = TextAreaField(_l("Contact attempt (when, how, with whom)"),
                                    validators=[Optional()])
    days = IntegerField(_l("Working days"), validators=[Optional(), NumberRange(min=1, max=30)])
    # All five levels and no default: a rating is never coerced (DOMAIN §4).
    level = RadioField(_l("Rating"), choices=options([("5", _l("5 Very satisfied")),
                                                      ("4", _l("4 Satisfied")),
                                                      ("3", _l("3 Basically satisfied")),
                                                      ("2", _l("2 Dissatisfied")),
                                                      ("1", _l("1 Very dissatisfied"))]),
                       validators=[Optional()])
    outcome = FixedSelectField(_l("Outcome"), choices=options([
        ("level", _l("Reached: rating recorded")),
        ("unreachable", _l("Unreachable after three attempts"))]), validators=[Optional()],
        choice_key="ActionForm.outcome")
    note = TextAreaField(_l("Note"), validators=[Optional()])


#: Which fields each dialog shows (``Action.form`` in the workflow table).
DIALOG_FIELDS = {
    "none": (),
    "reason": ("reason",),
    "reason_optional": ("reason",),
    "answer": ("answer",),
    "reject_intake": ("reason", "proper_channel"),
    "merge": ("target",),
    "dispatch": ("lead_unit", "assisting_units", "assisting_days", "is_complex"),
    "return": ("reason", "legal_basis", "suggested_unit"),
    "suspend": ("missing_info", "contact_attempt"),
    "extension": ("days", "reason"),
    "reply": ("text",),
    "rate": ("level",),
    "follow_up": ("outcome", "level"),
    "note": ("note",),
    "supervise": ("reason", "days"),
}


@memo("tickets.dialog_forms", maxsize=128)
def dialogs_action_form(fields: frozenset[str]) -> type[ActionForm]:
    """:class:`ActionForm` with only the hidden version and ``fields`` (the fields of the
    dialogs a page shows, usually two to five of its nineteen): WTForms builds every field of
    a form each time, some thirty Python calls a field. Same name, same fields' markup."""
    dropped = {name: None for dialog in DIALOG_FIELDS.values() for name in dialog
               if name not in fields}
    return type("ActionForm", (ActionForm,), dropped)


class CommentForm(FlaskForm):
    """A staff comment, internal unless marked public."""

    body = TextAreaField(_l("Comment"))
    visibility = FixedSelectField(_l("Visible to"), choices=options([
        ("internal", _l("Staff only")), ("public", _l("The firm too"))]),
        choice_key="CommentForm.visibility")


class AttachmentForm(FlaskForm):
    """A file staff attach to the ticket; the file itself is read from ``request.files``."""

    visibility = FixedSelectField(_l("Visible to"), choices=options([
        ("internal", _l("Staff only")), ("public", _l("The firm too"))]),
        choice_key="AttachmentForm.visibility")


#: Channels a member of staff records a demand from (the web form and portal are the firm's).
STAFF_CHANNELS = (Channel.PHONE, Channel.WALK_IN, Channel.VISIT, Channel.HOTLINE_12345)


class IntakeForm(FlaskForm):
    """A phone, walk-in or visit demand recorded by staff (DOMAIN §3.1 *create*)."""

    channel = SelectField(_l("Channel"), validators=[DataRequired()])
    firm_lookup = StringField(_l("Registered firm (USCC or exact name)"),
                              validators=[Optional(), Length(max=200)],
                              description=_l("Leave blank for an unregistered requester."))
    requester_name = StringField(_l("Contact name"), validators=[Optional(), Length(max=64)])
    requester_mobile = StringField(_l("Mobile"), validators=[Optional(), MainlandMobile()])
    requester_email = StringField(_l("E-mail"), validators=[Optional(), Email(),
                                                             Length(max=254)])
    requester_firm_name = StringField(_l("Firm name as given"),
                                      validators=[Optional(), Length(max=200)])
    service_mode = SelectField(_l("Service mode"), validators=[DataRequired()])
    demand_type = SelectField(_l("Demand type"), validators=[DataRequired()])
    urgency = SelectField(_l("Urgency"), validators=[DataRequired()])
    category = SelectField(_l("Category"), coerce=int, validators=[Optional()])
    is_taiwan_related = BooleanField(_l("Taiwan-invested firm or Taiwan compatriot (涉台)"))
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=200)])
    description = TextAreaField(_l("Demand"), validators=[DataRequired(), Length(max=5000)])

    def __init__(self, *args, categories=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.channel.choices = options([(c.value, CHANNEL_LABELS[c]) for c in STAFF_CHANNELS])
        self.service_mode.choices = options([(m.value, SERVICE_MODE_LABELS[m])
                                             for m in ServiceMode])
        self.demand_type.choices = options([(d.value, DEMAND_TYPE_LABELS[d])
                                            for d in DemandType])
        self.urgency.choices = options([(u.value, URGENCY_LABELS[u]) for u in Urgency])
        self.category.choices = options([(0, "—")] + [(c.id, c.name) for c in categories])
        if not self.is_submitted():
            self.service_mode.data = self.service_mode.data or ServiceMode.STANDARD.value
