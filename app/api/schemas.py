"""The machine interface's documents (marshmallow schemas): what a request may send, what an
answer holds. flask-smorest validates requests with them and writes them into the OpenAPI
document, so the specification is the code."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import fields, validate

from app.sla.enums import DemandType, ServiceMode, SlaStatus, Urgency
from app.tickets.models.enums import Channel, CommentVisibility, TicketStatus

#: Some visible character: a blank text is no text.
TEXT = validate.Regexp(r"[^\s]")
QUEUES = ("all", "intake", "to_acknowledge", "in_progress", "due_soon", "overdue")


def _values(enum) -> list[str]:
    return [member.value for member in enum]


def text(max_length: int | None = None, **kwargs):
    """A required text with some visible character."""
    rules = [TEXT] + ([validate.Length(max=max_length)] if max_length else [])
    return fields.String(required=True, validate=rules, **kwargs)


class Input(ma.Schema):
    """Request bodies ignore properties they do not know (a newer client may send more)."""

    class Meta:
        unknown = ma.EXCLUDE


class QueryArgs(ma.Schema):
    """Query parameters are exactly those documented: an unknown one (a typo in a filter's
    name) is refused rather than silently ignored."""

    class Meta:
        unknown = ma.RAISE


# -- errors ----------------------------------------------------------------------------------


class FieldError(ma.Schema):
    pointer = fields.String(metadata={"description": "JSON pointer of the field, e.g. /title"})
    detail = fields.String()
    location = fields.String(data_key="in", metadata={
        "description": "Where the field was: json, query, path, headers, form, files"})


class Problem(ma.Schema):
    """RFC 9457 problem details (``application/problem+json``)."""

    type = fields.String(required=True)
    title = fields.String(required=True)
    status = fields.Integer(required=True)
    detail = fields.String()
    errors = fields.List(fields.Nested(FieldError))


# -- shared pieces ---------------------------------------------------------------------------


class Ref(ma.Schema):
    id = fields.Integer(required=True)
    name = fields.String(required=True)


class Page(ma.Schema):
    next_cursor = fields.String(allow_none=True, required=True, metadata={
        "description": "Pass as `cursor` for the next page; null on the last page."})


class CursorArgs(QueryArgs):
    cursor = fields.String(validate=validate.Regexp(r"^(n|[0-9]{1,16})\.[0-9]{1,9}$"),
                           metadata={"description": "The `next_cursor` of the previous page."})
    limit = fields.Integer(load_default=25, validate=validate.Range(min=1, max=100))


# -- tickets ---------------------------------------------------------------------------------


class TicketListArgs(CursorArgs):
    queue = fields.String(load_default="all", validate=validate.OneOf(QUEUES))
    q = fields.String(validate=validate.Length(max=100),
                      metadata={"description": "Reference, title, description, requester"})
    status = fields.String(validate=validate.OneOf(_values(TicketStatus)))
    sla = fields.String(validate=validate.OneOf(
        _values((SlaStatus.ON_TRACK, SlaStatus.DUE_SOON, SlaStatus.OVERDUE))))
    service_mode = fields.String(validate=validate.OneOf(_values(ServiceMode)))
    demand_type = fields.String(validate=validate.OneOf(_values(DemandType)))
    urgency = fields.String(validate=validate.OneOf(_values(Urgency)))
    category = fields.Integer(validate=validate.Range(min=1, max=2**31 - 1))
    unit = fields.Integer(validate=validate.Range(min=1, max=2**31 - 1))
    firm = fields.String(validate=validate.Length(max=100),
                         metadata={"description": "Part of a firm's name or its USCC"})
    received_from = fields.Date()
    received_to = fields.Date()
    sort = fields.String(load_default="due", validate=validate.OneOf(("due", "newest")))


class TicketSummary(ma.Schema):
    reference = fields.String(required=True)
    title = fields.String(required=True)
    status = fields.String(required=True, validate=validate.OneOf(_values(TicketStatus)))
    due_at = fields.DateTime(allow_none=True, required=True)
    due_is_provisional = fields.Boolean(required=True)
    sla_status = fields.String(allow_none=True, required=True)
    lead_unit = fields.Nested(Ref, allow_none=True, required=True)
    version = fields.Integer(required=True)


class TicketList(Page):
    items = fields.List(fields.Nested(TicketSummary), required=True)


class RequesterIn(Input):
    name = text(64)
    mobile = fields.String(validate=validate.Regexp(r"^\+?[0-9][0-9 -]{5,18}$"))
    email = fields.Email(validate=validate.Length(max=254))
    firm_name = fields.String(validate=validate.Length(max=200))


class TicketCreate(Input):
    title = text(200)
    description = text(20000)
    demand_type = fields.String(required=True, validate=validate.OneOf(_values(DemandType)))
    service_mode = fields.String(load_default=ServiceMode.STANDARD.value,
                                 validate=validate.OneOf(_values(ServiceMode)))
    urgency = fields.String(load_default=Urgency.NORMAL.value,
                            validate=validate.OneOf(_values(Urgency)))
    category_id = fields.Integer(validate=validate.Range(min=1, max=2**31 - 1))
    firm_id = fields.Integer(validate=validate.Range(min=1, max=2**31 - 1), metadata={
        "description": "A registry firm; or describe the requester."})
    requester = fields.Nested(RequesterIn, metadata={
        "description": "An unregistered requester: a name, and a mobile or an e-mail."})
    channel = fields.String(validate=validate.OneOf(
        _values((Channel.PHONE, Channel.VISIT, Channel.WALK_IN))), metadata={
        "description": "Staff recording a demand: how it reached them (default phone). "
                       "Clients' tickets take the client's channel, firms' the portal's."})
    external_ref = fields.String(validate=[TEXT, validate.Length(max=64)], metadata={
        "description": "Integration clients: your own reference, unique per client."})


#: The schema's rule beyond what fields say: a registry firm, or a requester to answer.
TICKET_CREATE_ONE_OF = {"anyOf": [
    {"required": ["firm_id"]},
    {"required": ["requester"],
     "properties": {"requester": {"anyOf": [{"required": ["mobile"]},
                                            {"required": ["email"]}]}}},
]}


class Deadline(ma.Schema):
    step = fields.String(required=True)
    due_at = fields.DateTime(required=True)
    done_at = fields.DateTime(allow_none=True, required=True)
    status = fields.String(allow_none=True, required=True)
    provisional = fields.Boolean(required=True)
    working_days_left = fields.Float(allow_none=True, required=True)


class ActionInfo(ma.Schema):
    name = fields.String(required=True)
    label = fields.String(required=True)
    required = fields.List(fields.String(), required=True)


class FirmRef(ma.Schema):
    id = fields.Integer(required=True)
    name = fields.String(required=True)
    uscc = fields.String(required=True)


class Requester(ma.Schema):
    name = fields.String(allow_none=True)
    mobile = fields.String(allow_none=True)
    email = fields.String(allow_none=True)
    firm_name = fields.String(allow_none=True)


class TicketDetail(ma.Schema):
    reference = fields.String(required=True)
    title = fields.String(required=True)
    description = fields.String(required=True)
    status = fields.String(required=True, validate=validate.OneOf(_values(TicketStatus)))
    channel = fields.String(required=True)
    service_mode = fields.String(required=True)
    demand_type = fields.String(required=True)
    urgency = fields.String(required=True)
    is_complex = fields.Boolean(required=True)
    category = fields.Nested(Ref, allow_none=True, required=True)
    firm = fields.Nested(FirmRef, allow_none=True, required=True)
    requester = fields.Nested(Requester, allow_none=True, required=True)
    lead_unit = fields.Nested(Ref, allow_none=True, required=True)
    assisting_units = fields.List(fields.Nested(Ref), required=True)
    submitted_at = fields.DateTime(required=True)
    closed_at = fields.DateTime(allow_none=True, required=True)
    due_at = fields.DateTime(allow_none=True, required=True)
    sla_status = fields.String(allow_none=True, required=True)
    deadlines = fields.List(fields.Nested(Deadline), required=True)
    reply = fields.String(allow_none=True, required=True, metadata={
        "description": "The reply, once approved (staff: as soon as written)."})
    rating_level = fields.Integer(allow_none=True, required=True)
    external_ref = fields.String(allow_none=True, required=True)
    version = fields.Integer(required=True)
    actions = fields.List(fields.Nested(ActionInfo), required=True, metadata={
        "description": "What the caller may do now (POST …/actions/{name})."})


class TimelineEntry(ma.Schema):
    kind = fields.String(required=True, validate=validate.OneOf(("event", "comment")))
    id = fields.Integer(required=True)
    at = fields.DateTime(required=True)
    actor = fields.String(allow_none=True, required=True)
    action = fields.String(allow_none=True, required=True)
    from_status = fields.String(allow_none=True, required=True)
    to_status = fields.String(allow_none=True, required=True)
    text = fields.String(allow_none=True, required=True)
    visibility = fields.String(allow_none=True, required=True)


class Timeline(ma.Schema):
    items = fields.List(fields.Nested(TimelineEntry), required=True)
    older_cursor = fields.String(allow_none=True, required=True, metadata={
        "description": "Pass as `before` for the older entries; null when none."})


class TimelineArgs(QueryArgs):
    before = fields.String(validate=validate.Length(max=100))


class ActionData(Input):
    """Every piece of data an action may need; each action reads its own (see ``required``
    in the ticket's ``actions``)."""

    reason = fields.String(validate=validate.Length(max=5000))
    text = fields.String(validate=validate.Length(max=20000))
    answer = fields.String(validate=validate.Length(max=20000))
    proper_channel = fields.String(validate=validate.Length(max=500))
    target = fields.String(validate=validate.Length(max=16),
                           metadata={"description": "merge: the reference merged into"})
    lead_unit_id = fields.Integer(validate=validate.Range(min=1, max=2**31 - 1))
    assisting_unit_ids = fields.List(fields.Integer(validate=validate.Range(min=1,
                                                                            max=2**31 - 1)),
                                     validate=validate.Length(max=20))
    assisting_days = fields.Integer(validate=validate.Range(min=1, max=30))
    is_complex = fields.Boolean()
    suggested_unit_id = fields.Integer(validate=validate.Range(min=1, max=2**31 - 1))
    legal_basis = fields.String(validate=validate.Length(max=5000))
    missing_info = fields.String(validate=validate.Length(max=5000))
    contact_attempt = fields.String(validate=validate.Length(max=5000))
    days = fields.Integer(validate=validate.Range(min=1, max=30))
    level = fields.Integer(validate=validate.Range(min=1, max=5))
    outcome = fields.String(validate=validate.OneOf(("level", "unreachable")))
    note = fields.String(validate=validate.Length(max=5000))


class CommentCreate(Input):
    body = text(10000)
    visibility = fields.String(load_default=CommentVisibility.INTERNAL.value,
                               validate=validate.OneOf(_values(CommentVisibility)))


class CommentOut(ma.Schema):
    id = fields.Integer(required=True)
    body = fields.String(required=True)
    visibility = fields.String(required=True)
    created_at = fields.DateTime(required=True)


class AttachmentOut(ma.Schema):
    id = fields.Integer(required=True)
    name = fields.String(required=True)
    size = fields.Integer(required=True)
    visibility = fields.String(allow_none=True, required=True)
    created_at = fields.DateTime(required=True)


class AttachmentList(ma.Schema):
    items = fields.List(fields.Nested(AttachmentOut), required=True)


class AttachmentUpload(Input):
    visibility = fields.String(load_default=CommentVisibility.INTERNAL.value,
                               validate=validate.OneOf(_values(CommentVisibility)))


class FileUpload(ma.Schema):
    file = fields.Raw(required=True, metadata={"type": "string", "format": "binary"})


# -- reference data --------------------------------------------------------------------------


class Me(ma.Schema):
    username = fields.String(required=True)
    display_name = fields.String(required=True)
    role = fields.String(required=True)
    unit = fields.Nested(Ref, allow_none=True, required=True)
    scopes = fields.List(fields.String(), required=True)
    client = fields.String(allow_none=True, required=True)


class Category(ma.Schema):
    id = fields.Integer(required=True)
    name = fields.String(required=True)
    code = fields.String(allow_none=True)


class CategoryList(ma.Schema):
    items = fields.List(fields.Nested(Category), required=True)


class UnitOut(ma.Schema):
    id = fields.Integer(required=True)
    name = fields.String(required=True)
    code = fields.String(required=True)
    kind = fields.String(required=True)


class UnitList(ma.Schema):
    items = fields.List(fields.Nested(UnitOut), required=True)


# -- firms -----------------------------------------------------------------------------------


class FirmListArgs(CursorArgs):
    q = fields.String(validate=validate.Length(max=100),
                      metadata={"description": "Part of the name, English or former name, "
                                               "or the USCC"})


class FirmOut(ma.Schema):
    id = fields.Integer(required=True)
    uscc = fields.String(required=True)
    name = fields.String(required=True)
    english_name = fields.String(allow_none=True, required=True)
    area = fields.Nested(Ref, allow_none=True, required=True)
    industry_code = fields.String(allow_none=True, required=True)
    capital_origin = fields.String(allow_none=True, required=True)
    is_key_enterprise = fields.Boolean(required=True)
    is_archived = fields.Boolean(required=True)
    updated_at = fields.DateTime(required=True)


class FirmList(Page):
    items = fields.List(fields.Nested(FirmOut), required=True)


# -- visits ----------------------------------------------------------------------------------


class VisitListArgs(CursorArgs):
    firm_id = fields.Integer(validate=validate.Range(min=1, max=2**31 - 1))


class VisitIssueOut(ma.Schema):
    id = fields.Integer(required=True)
    description = fields.String(required=True)
    category = fields.Nested(Ref, allow_none=True, required=True)
    solved_on_site = fields.Boolean(required=True)
    ticket_reference = fields.String(allow_none=True, required=True)


class VisitOut(ma.Schema):
    id = fields.Integer(required=True)
    firm = fields.Nested(FirmRef, required=True)
    visited_at = fields.DateTime(required=True)
    mode = fields.String(required=True)
    lead_visitor = fields.String(allow_none=True, required=True)
    issues = fields.List(fields.Nested(VisitIssueOut), required=True)


class VisitList(Page):
    items = fields.List(fields.Nested(VisitOut), required=True)
