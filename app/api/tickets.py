"""``/api/v1/tickets``: the ticket queue, intake, the ticket with its deadlines and timeline,
and every workflow action the caller may take — through the same services, permissions and
predicates as the ticket pages (:mod:`app.tickets.views`)."""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from flask import abort, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.api import ApiBlueprint, schemas, services
from app.api.boundary import check_if_match, etag, writes
from app.api.models import ClientChannel, TicketLink
from app.auth.models import Unit
from app.core.clock import now_utc
from app.core.errors import PermissionDenied, ValidationFailed, problem
from app.core.i18n import request_translations
from app.core.permissions import Permission, Role, require_permission
from app.core.validators import mask_mobile
from app.extensions import db
from app.tickets import attachment_files, queries
from app.tickets import services as tickets
from app.tickets.models import Category, Channel, Ticket
from app.tickets.models.enums import TicketStatus
from app.tickets.system_texts import shown
from app.tickets.workflow import ACTIONS, PUBLIC_REASONS

blp = ApiBlueprint("api_tickets", __name__, url_prefix="/api/v1/tickets",
                description="Tickets (工单): queue, intake, detail, timeline, actions")

PROBLEMS = (400, 401, 403, 404, 409, 422, 429)


def documented(*statuses):
    """Document the problem answers a route may give."""
    def decorate(view):
        for status in statuses:
            view = blp.alt_response(status, schema=schemas.Problem,
                                    content_type="application/problem+json")(view)
        return view
    return decorate


def client_scope(statement: sa.Select) -> sa.Select:
    """A client restricted to its own tickets: the condition narrowing what its role sees."""
    client = services.client_of(current_user)
    if client is None or not client.own_tickets_only:
        return statement
    return statement.where(Ticket.id.in_(
        sa.select(TicketLink.ticket_id).where(TicketLink.client_id == client.id)))


def load(reference: str) -> Ticket:
    """A ticket the caller may see, or 404 (a hidden ticket does not exist for them)."""
    user = current_user._get_current_object()
    ticket = queries.get_visible_by_reference(user, reference)
    client = services.client_of(user)
    if (ticket is not None and client is not None and client.own_tickets_only
            and not db.session.scalar(sa.select(TicketLink.ticket_id).where(
                TicketLink.client_id == client.id, TicketLink.ticket_id == ticket.id))):
        ticket = None
    if ticket is None:
        abort(problem(404, kind="not-found"))
    return ticket


# -- the queue ---------------------------------------------------------------------------------


@blp.route("")
@require_permission(Permission.TICKET_VIEW)
@blp.arguments(schemas.TicketListArgs, location="query", as_kwargs=True)
@blp.response(200, schemas.TicketList)
@documented(*PROBLEMS)
def list_tickets(cursor=None, limit=25, sort="due", queue="all", **filters):
    """The tickets the caller may see, in a queue, filtered, soonest deadline first (or newest
    first): the web queue's filters, cursor pagination."""
    user = current_user._get_current_object()
    statement = client_scope(queries.queue(user, queue, now_utc(), _filters(filters)))
    order = queries.queue_order("newest" if sort == "newest" else "due")
    after = _after(cursor, sort)
    ids = (statement.order_by(None).order_by(*order).where(after).limit(limit + 1)
           .subquery())
    rows = db.session.execute(
        sa.select(*queries.LIST_COLUMNS, Unit.name.label("lead_unit_name"))
        .join(ids, Ticket.id == ids.c.id).outerjoin(Unit, Unit.id == Ticket.lead_unit_id)
        .order_by(*order)).all()
    more = len(rows) > limit
    rows = rows[:limit]
    return {"items": [_summary(row) for row in rows],
            "next_cursor": _cursor(rows[-1], sort) if more else None}


def _filters(args: dict) -> queries.QueueFilters:
    texts = {name: args.get(name) or "" for name in
             ("q", "status", "sla", "service_mode", "demand_type", "urgency", "firm")}
    return queries.QueueFilters(**texts, category_id=args.get("category"),
                                unit_id=args.get("unit"),
                                received_from=args.get("received_from"),
                                received_to=args.get("received_to"))


def _summary(row) -> dict:
    return {"reference": row.reference, "title": row.title, "status": row.status,
            "due_at": row.due_at, "due_is_provisional": bool(row.due_is_provisional),
            "sla_status": row.sla_status,
            "lead_unit": ({"id": row.lead_unit_id, "name": row.lead_unit_name}
                          if row.lead_unit_id else None),
            "version": row.version}


def _cursor(row, sort: str) -> str:
    """``<deadline in µs since the epoch, or n>.<id>``: where the page ended."""
    due = "n" if sort == "newest" or row.due_at is None else str(
        int(row.due_at.timestamp() * 1_000_000))
    return f"{due}.{row.id}"


def _after(cursor: str | None, sort: str) -> sa.ColumnElement[bool]:
    """The rows after the cursor in the queue's order (keyset pagination: a page costs the
    same however deep, and a ticket added meanwhile never shifts the pages)."""
    if not cursor:
        return sa.true()
    due_text, _dot, id_text = cursor.partition(".")
    last_id = int(id_text)  # the schema's pattern admits digits only
    if sort == "newest":
        return Ticket.id < last_id
    if due_text == "n":
        return sa.and_(Ticket.due_at.is_(None), Ticket.id < last_id)
    due = datetime.fromtimestamp(int(due_text) / 1_000_000, UTC)
    return sa.or_(Ticket.due_at.is_(None), Ticket.due_at > due,
                  sa.and_(Ticket.due_at == due, Ticket.id < last_id))


# -- intake ------------------------------------------------------------------------------------


@blp.route("", methods=["POST"])
@require_permission(Permission.TICKET_CREATE)
@writes
@blp.arguments(schemas.TicketCreate)
@blp.response(201, schemas.TicketDetail, headers={"Location": {"schema": {"type": "string"}},
                                                  "ETag": {"schema": {"type": "string"}}})
@documented(*PROBLEMS)
@blp.doc(parameters=[{"in": "header", "name": "Idempotency-Key", "required": False,
                      "schema": {"type": "string", "minLength": 1, "maxLength": 255}}])
def create_ticket(data):
    """Record a demand. Firms' tickets are portal tickets of their firm; integration clients'
    carry the client's channel and reference; staff record phone, visit or walk-in demands.
    Send an ``Idempotency-Key``: a retry then returns the first ticket."""
    user = current_user._get_current_object()
    client = services.client_of(user)
    category = _get(Category, data.get("category_id"), "category_id")
    firm = None
    if data.get("firm_id") is not None:
        from app.firms.models import Firm

        firm = _get(Firm, data["firm_id"], "firm_id")
        if user.role == Role.FIRM_USER and firm.id != user.firm_id:
            raise PermissionDenied(_("A firm account submits for its own firm only."))
    person = data.get("requester") or {}
    if firm is None and not (person.get("mobile") or person.get("email")):
        raise _field("requester", _("Give a mobile number or an e-mail address for the "
                                    "reply."))
    ticket = tickets.create_ticket(
        user, channel=_channel(user, client, data.get("channel")),
        service_mode=data["service_mode"], demand_type=data["demand_type"],
        urgency=data["urgency"], title=data["title"], description=data["description"],
        firm=firm, category=category, ip=request.remote_addr,
        requester=tickets.Requester(**{key: person.get(key) for key in
                                       ("name", "mobile", "email", "firm_name")}))
    if client is not None:
        services.link_ticket(ticket, client, data.get("external_ref"))
    elif data.get("external_ref"):
        raise _field("external_ref", _("Only integration clients give external references."))
    return (detail_of(ticket, external_ref=data.get("external_ref")), 201,
            {"Location": url_for("api_tickets.get_ticket", reference=ticket.reference),
             "ETag": _etag(ticket)})


def _channel(user, client, asked: str | None) -> Channel:
    if client is not None:
        return Channel(client.channel) if client.channel in set(ClientChannel) else Channel.API
    if not (user.can(Permission.TICKET_INTAKE) or user.can(Permission.TICKET_HANDLE)):
        return Channel.PORTAL  # a firm's own account
    return Channel(asked or Channel.PHONE)


def _get(model, row_id, field: str):
    if row_id is None:
        return None
    row = db.session.get(model, row_id)
    if row is None or getattr(row, "is_active", True) is False:
        abort(problem(404, detail=_("No such %(field)s.", field=field), kind="not-found",
                      errors=[{"pointer": f"/{field}", "detail": _("Unknown id.")}]))
    return row


def _field(name: str, message: str) -> ValidationFailed:
    error = ValidationFailed(message)
    error.field = name
    return error


# -- one ticket --------------------------------------------------------------------------------


@blp.route("/<reference>")
@require_permission(Permission.TICKET_VIEW)
@blp.response(200, schemas.TicketDetail, headers={"ETag": {"schema": {"type": "string"}}})
@documented(401, 403, 404, 429)
def get_ticket(reference: str):
    """The ticket with its deadlines, the reply and the actions the caller may take now. Its
    ``ETag`` is what a write sends back in ``If-Match``."""
    ticket = load(reference)
    return detail_of(ticket), {"ETag": _etag(ticket)}


def _etag(ticket: Ticket) -> str:
    return etag("ticket", ticket.id, ticket.version)


def detail_of(ticket: Ticket, external_ref: str | None = None) -> dict:
    """The ticket as the caller may see it."""
    user = current_user._get_current_object()
    staff = user.can(Permission.TICKET_COMMENT)
    client = services.client_of(user)
    if external_ref is None and client is not None:
        external_ref = services.external_refs([ticket.id], client).get(ticket.id)
    reply = ticket.reply_text if (staff or ticket.reply_approved_at is not None) else None
    if ticket.final_reply_text and ticket.status == TicketStatus.CLOSED:
        reply = ticket.final_reply_text
    return {
        "reference": ticket.reference, "title": ticket.title,
        "description": ticket.description, "status": ticket.status,
        "channel": ticket.channel, "service_mode": ticket.service_mode,
        "demand_type": ticket.demand_type, "urgency": ticket.urgency,
        "is_complex": ticket.is_complex,
        "category": _ref(ticket.category),
        "firm": ({"id": ticket.firm.id, "name": ticket.firm.name, "uscc": ticket.firm.uscc}
                 if ticket.firm is not None else None),
        "requester": ({"name": ticket.requester_name,
                       "mobile": mask_mobile(ticket.requester_mobile)
                       if ticket.requester_mobile else None,
                       "email": ticket.requester_email,
                       "firm_name": ticket.requester_firm_name}
                      if ticket.firm is None else None),
        "lead_unit": _ref(ticket.lead_unit) if ticket.lead_unit_id else None,
        "assisting_units": [_ref(db.session.get(Unit, unit_id))
                            for unit_id in sorted(ticket.assisting_unit_ids)],
        "submitted_at": ticket.submitted_at, "closed_at": ticket.closed_at,
        "due_at": ticket.due_at, "sla_status": ticket.sla_status,
        "deadlines": [_deadline(row) for row in queries.deadline_rows(ticket, now_utc())],
        "reply": reply, "rating_level": ticket.rating_level if staff or
        ticket.belongs_to_firm_user(user) else None,
        "external_ref": external_ref, "version": ticket.version,
        "actions": [action_info(spec) for spec in tickets.allowed_actions(ticket, user)],
    }


def _ref(row) -> dict | None:
    return {"id": row.id, "name": row.name} if row is not None else None


def _deadline(row: dict) -> dict:
    return {"step": str(row["label"]), "due_at": row["due_at"], "done_at": row["done_at"],
            "status": row["status"], "provisional": bool(row["provisional"]),
            "working_days_left": row["days_left"]}


#: The action data's names in the API (units by id).
API_FIELD = {"lead_unit": "lead_unit_id", "suggested_unit": "suggested_unit_id",
             "assisting_units": "assisting_unit_ids"}


def action_info(spec) -> dict:
    return {"name": spec.name, "label": str(spec.label),
            "required": [API_FIELD.get(name, name) for name in spec.required]}


# -- timeline ----------------------------------------------------------------------------------


@blp.route("/<reference>/timeline")
@require_permission(Permission.TICKET_VIEW)
@blp.arguments(schemas.TimelineArgs, location="query", as_kwargs=True)
@blp.response(200, schemas.Timeline)
@documented(401, 403, 404, 422, 429)
def get_timeline(reference: str, before: str | None = None):
    """The newest 50 events and comments (firms: the public ones), oldest first; ``before``
    pages back."""
    ticket = load(reference)
    user = current_user._get_current_object()
    staff = user.can(Permission.TICKET_COMMENT)
    sees_evaluator = user.can(Permission.RATING_SEE_EVALUATOR)
    records = queries.ticket_records(ticket, user, staff, before)
    gettext = request_translations().ugettext
    items = []
    for row in records.timeline:
        event = row.kind == "event"
        hidden_text = event and not (staff or row.action in PUBLIC_REASONS)
        items.append({
            "kind": row.kind, "id": row.id, "at": row.at,
            "actor": None if event and row.action == "rate" and not sees_evaluator
            else row.who,
            "action": row.action if event else None,
            "from_status": row.from_status if event else None,
            "to_status": row.to_status if event else None,
            "text": None if hidden_text or not row.text else shown(row.text, gettext),
            "visibility": None if event else row.visibility})
    return {"items": items, "older_cursor": records.older}


# -- actions -----------------------------------------------------------------------------------


@blp.route("/<reference>/actions")
@require_permission(Permission.TICKET_VIEW)
@blp.response(200, schemas.ActionInfo(many=True))
@documented(401, 403, 404, 429)
def list_actions(reference: str):
    """The actions the caller may take on the ticket now, with the data each requires."""
    ticket = load(reference)
    return [action_info(spec) for spec in
            tickets.allowed_actions(ticket, current_user._get_current_object())]


@blp.route(f"/<reference>/actions/<any({', '.join(sorted(ACTIONS))}):action>", methods=["POST"])
@require_permission(Permission.TICKET_VIEW)
@writes
@blp.arguments(schemas.ActionData)
@blp.response(200, schemas.TicketDetail, headers={"ETag": {"schema": {"type": "string"}}})
@documented(*PROBLEMS, 412, 428)
@blp.doc(parameters=[
    {"in": "header", "name": "If-Match", "required": True, "schema": {"type": "string"},
     "description": "The ticket's ETag as last read: a stale one gets 412."},
    {"in": "header", "name": "Idempotency-Key", "required": False,
     "schema": {"type": "string", "minLength": 1, "maxLength": 255}}])
def act(data, reference: str, action: str):
    """Perform one workflow action (DOMAIN §3.1's table): exactly the actions listed in the
    ticket's ``actions`` are possible, with their ``required`` data."""
    ticket = load(reference)
    check_if_match(_etag(ticket))
    user = current_user._get_current_object()
    tickets.perform(ticket, action, user, expected_version=ticket.version,
                    ip=request.remote_addr, **_action_data(data, user))
    return detail_of(ticket), {"ETag": _etag(ticket)}


def _action_data(data: dict, user) -> dict:
    """The action's keywords, ids turned into rows (as the ticket page's form does)."""
    values = {}
    for name, value in data.items():
        if name in ("lead_unit_id", "suggested_unit_id"):
            values[name.removesuffix("_id")] = _get(Unit, value, name)
        elif name == "assisting_unit_ids":
            values["assisting_units"] = [_get(Unit, unit_id, name) for unit_id in value]
        elif name == "target":
            target = queries.get_visible_by_reference(user, value.strip().upper())
            if target is None:
                raise _field("target", _("No ticket with that reference."))
            values["target"] = target
        elif name == "level":
            values["level"] = str(value)
        elif value not in (None, ""):
            values[name] = value
    return values


# -- comments and attachments ------------------------------------------------------------------


@blp.route("/<reference>/comments", methods=["POST"])
@require_permission(Permission.TICKET_COMMENT)
@writes
@blp.arguments(schemas.CommentCreate)
@blp.response(201, schemas.CommentOut)
@documented(*PROBLEMS)
@blp.doc(parameters=[{"in": "header", "name": "Idempotency-Key", "required": False,
                      "schema": {"type": "string", "minLength": 1, "maxLength": 255}}])
def add_comment(data, reference: str):
    """A staff comment: internal unless ``visibility`` is ``public`` (then the firm sees it)."""
    ticket = load(reference)
    comment = tickets.add_comment(ticket, current_user._get_current_object(), data["body"],
                                  data["visibility"])
    return {"id": comment.id, "body": comment.body, "visibility": comment.visibility,
            "created_at": comment.created_at}, 201


@blp.route("/<reference>/attachments")
@require_permission(Permission.TICKET_VIEW)
@blp.response(200, schemas.AttachmentList)
@documented(401, 403, 404, 429)
def list_attachments(reference: str):
    """The ticket's files the caller may download."""
    ticket = load(reference)
    user = current_user._get_current_object()
    records = queries.ticket_records(ticket, user, user.can(Permission.TICKET_COMMENT))
    return {"items": [{"id": row.id, "name": row.name, "size": row.size,
                       "visibility": row.visibility, "created_at": row.at}
                      for row in records.attachments]}


@blp.route("/<reference>/attachments/<int(max=2147483647):attachment_id>")
@require_permission(Permission.TICKET_VIEW)
@blp.response(200, content_type="application/octet-stream",
              description="The file, as a download under its shown name")
@documented(401, 403, 404, 429)
def download_attachment(reference: str, attachment_id: int):
    """One file, as a download."""
    ticket = load(reference)
    user = current_user._get_current_object()
    row = attachment_files.get_visible(ticket, user, attachment_id)
    if row is None:
        abort(problem(404, kind="not-found"))
    from app.core.transactions import commit_or_raise

    commit_or_raise(lambda: attachment_files.record_download(row, user))
    return send_file(attachment_files.path_of(row), mimetype="application/octet-stream",
                     as_attachment=True, download_name=row.original_name)


@blp.route("/<reference>/attachments", methods=["POST"])
@require_permission(Permission.TICKET_COMMENT)
@writes
@blp.arguments(schemas.AttachmentUpload, location="form")
@blp.arguments(schemas.FileUpload, location="files")
@blp.response(201, schemas.AttachmentOut)
@documented(*PROBLEMS, 413, 415)
def upload_attachment(form, files, reference: str):
    """Attach a file (checked by content and size, like the ticket page's)."""
    ticket = load(reference)
    row = attachment_files.attach(ticket, current_user._get_current_object(), files["file"],
                                  form["visibility"])
    return {"id": row.id, "name": row.original_name, "size": row.size_bytes,
            "visibility": row.visibility, "created_at": row.created_at}, 201
