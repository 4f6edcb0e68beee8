"""Open311 GeoReport v2 under ``/open311/v2/``: discovery, services (the ticket categories),
service definitions, service requests (create, list, one) and tokens, in JSON and XML.

The ``api_key`` is an integration client's token. A request created here is a ticket like a
firm's portal request — standard service mode, normal urgency, the same intake deadline and
the same receipt — recorded with the client's channel (``api``, or ``hotline_12345``) and the
client itself (:class:`app.api.models.TicketLink`). Every refusal is the specification's error
document (``[{"code": 400, "description": "…"}]``), in the format the URL asked for.
"""

from __future__ import annotations

import re
import secrets
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import Blueprint, abort, current_app, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.api import georeport, services
from app.api.boundary import writes
from app.api.models import TicketLink
from app.api.tickets import client_scope
from app.core.clock import LOCAL_TZ, now_utc
from app.core.errors import PermissionDenied, ValidationFailed, problem
from app.core.permissions import Permission
from app.core.security import public
from app.core.validators import normalise_mobile
from app.extensions import db
from app.firms import uscc as uscc_rules
from app.portal import services as portal
from app.sla.enums import DEMAND_TYPE_LABELS, DemandType, ServiceMode, Urgency
from app.tickets import deadlines, queries
from app.tickets import services as tickets
from app.tickets.models import Category, Channel, Ticket
from app.tickets.models.enums import FINISHED_STATES, TicketStatus

bp = Blueprint("open311", __name__, url_prefix="/open311/v2")

FMT = "<any(json, xml):fmt>"
SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"
#: The specification's limits: requests of the last 90 days by default, at most 1000.
DEFAULT_DAYS = 90
MAX_REQUESTS = 1000
MAX_DESCRIPTION = 4000


class Open311Error(ValidationFailed):
    """A refused parameter: a 400 error document naming it."""


# -- discovery and services (public: what anyone may ask for) ----------------------------------


@bp.route(f"/discovery.{FMT}")
@public
def discovery(fmt: str):
    """Where the GeoReport v2 endpoint is and which formats it speaks."""
    _check_jurisdiction()
    return georeport.render(fmt, "discovery", {
        "changeset": "2026-12-05T00:00:00+08:00",
        "contact": current_app.config.get("MAIL_DEFAULT_SENDER") or "",
        "key_service": _("Ask the enterprise-service office for an API client token."),
        "endpoints": [{"specification": SPECIFICATION,
                       "url": url_for("open311.discovery", fmt=fmt, _external=True)
                       .rsplit("/", 1)[0],
                       "changeset": "2026-12-05T00:00:00+08:00", "type": "production",
                       "formats": list(georeport.MIMETYPES.values())}]})


@bp.route(f"/services.{FMT}")
@public
def services_list(fmt: str):
    """The services: one per active ticket category."""
    _check_jurisdiction()
    rows = db.session.scalars(queries.active_categories()).all()
    return georeport.render(fmt, "services", [{
        "service_code": category.code, "service_name": category.name,
        "description": category.name, "metadata": True, "type": "realtime",
        "keywords": "", "group": ""} for category in rows])


@bp.route(f"/services/<code>.{FMT}")
@public
def service_definition(code: str, fmt: str):
    """The attributes a request of this service may carry: demand type, firm and USCC."""
    _check_jurisdiction()
    _category(code, status=404)
    return georeport.render(fmt, "service_definition", {
        "service_code": code, "attributes": _attributes()})


def _attributes() -> list[dict]:
    return [
        {"variable": True, "code": "demand_type", "datatype": "singlevaluelist",
         "required": False, "datatype_description": _("Default: request for help."),
         "order": 1, "description": _("Kind of demand"),
         "values": [{"key": kind.value, "name": str(DEMAND_TYPE_LABELS[kind])}
                    for kind in DemandType]},
        {"variable": True, "code": "firm_name", "datatype": "string", "required": False,
         "datatype_description": "", "order": 2, "description": _("Firm name")},
        {"variable": True, "code": "uscc", "datatype": "string", "required": False,
         "datatype_description": _("18 characters (GB 32100-2015)."), "order": 3,
         "description": _("Unified social credit code (USCC)")},
    ]


def _check_jurisdiction() -> None:
    asked = request.values.get("jurisdiction_id")
    if asked and asked != current_app.config["OPEN311_JURISDICTION"]:
        abort(problem(404, detail=_("Unknown jurisdiction_id.")))


def _category(code: str, status: int = 400) -> Category:
    category = db.session.scalar(sa.select(Category).where(Category.code == code,
                                                           Category.is_active.is_(True)))
    if category is None:
        if status == 404:
            abort(problem(404, detail=_("No such service_code.")))
        raise Open311Error(_("No such service_code."))
    return category


# -- service requests (an integration client's token) ------------------------------------------


def _client():
    client = services.client_of(current_user)
    if client is None:
        raise PermissionDenied(_("Open311 requests need an integration client's api_key."))
    return client


@bp.route(f"/requests.{FMT}", methods=["POST"])
@writes
def create_request(fmt: str):
    """Create a service request: a ticket with the client's channel, its intake deadline and
    the requester's receipt. Answers its ``service_request_id`` (the ticket's reference) and a
    ``token``."""
    client = _client()
    if not current_user.can(Permission.TICKET_CREATE):
        raise PermissionDenied(_("You may not create tickets."))
    _check_jurisdiction()
    form = request.form
    category = _category(form.get("service_code", ""))
    ticket = tickets.create_ticket(
        current_user._get_current_object(), channel=Channel(client.channel),
        service_mode=ServiceMode.STANDARD, demand_type=_demand_type(form),
        urgency=Urgency.NORMAL, title=_title(form), description=_description(form),
        firm=_firm(form), category=category, ip=request.remote_addr,
        requester=_requester(form))
    token = secrets.token_urlsafe(24)
    services.link_ticket(ticket, client, None, open311_token=token)
    portal.send_receipt(ticket, url_for("portal.track", token=ticket.access_token,
                                        _external=True))
    notice = _("We will answer by %(date)s.",
               date=portal.promise_text(deadlines.promise(ticket)))
    return georeport.render(fmt, "service_requests", [{
        "service_request_id": ticket.reference, "token": token, "service_notice": notice,
        "account_id": None}], status=201)


def _attribute(form, name: str) -> str:
    return (form.get(f"attribute[{name}]") or "").strip()


def _demand_type(form) -> DemandType:
    value = _attribute(form, "demand_type") or DemandType.HELP.value
    if value not in set(DemandType):
        raise Open311Error(_("attribute[demand_type] is not one of the listed values."))
    return DemandType(value)


def _description(form) -> str:
    text = (form.get("description") or "").strip()
    if not text:
        raise Open311Error(_("description is required."))
    if len(text) > MAX_DESCRIPTION:
        raise Open311Error(_("description has at most 4000 characters."))
    place = [(form.get("address_string") or "").strip()[:500]]
    lat, long = form.get("lat"), form.get("long")
    if lat or long:
        place.append(_coordinates(lat, long))
    media = (form.get("media_url") or "").strip()[:500]
    extra = [_("Address: %(place)s", place=" ".join(p for p in place if p))] \
        if any(place) else []
    extra += [_("Media: %(url)s", url=media)] if media else []
    return "\n\n".join([text, *extra])


def _coordinates(lat: str | None, long: str | None) -> str:
    try:
        lat_value, long_value = float(lat or ""), float(long or "")
    except ValueError:
        raise Open311Error(_("lat and long are decimal degrees, both given.")) from None
    if not (-90 <= lat_value <= 90 and -180 <= long_value <= 180):
        raise Open311Error(_("lat and long are decimal degrees, both given."))
    return f"({lat_value:.6f}, {long_value:.6f})"


def _title(form) -> str:
    first_line = (form.get("description") or "").strip().splitlines() or [""]
    return first_line[0][:60]


def _firm(form):
    code = _attribute(form, "uscc")
    if not code:
        return None
    result = uscc_rules.validate(code)
    if not result.is_valid:
        raise Open311Error(str(uscc_rules.USCC_PROBLEM_MESSAGES[result.problem]))
    return portal.registry_firm(result.code)


def _requester(form) -> tickets.Requester:
    first, last = (form.get("first_name") or "").strip(), (form.get("last_name") or "").strip()
    chinese = re.fullmatch(r"[\u3400-\u9fff·]+", first + last) is not None
    name = (last + first) if chinese else " ".join(p for p in (first, last) if p)
    phone = normalise_mobile(form.get("phone"))
    if phone and not re.fullmatch(r"\+?[0-9()]{3,20}", phone):
        raise Open311Error(_("phone is not a telephone number."))
    email = (form.get("email") or "").strip()
    if email and (len(email) > 254 or not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", email)):
        raise Open311Error(_("email is not an e-mail address."))
    return tickets.Requester(name=name[:64] or None, mobile=phone or None, email=email or None,
                             firm_name=_attribute(form, "firm_name")[:200] or None,
                             uscc=_attribute(form, "uscc") or None)


@bp.route(f"/requests.{FMT}")
def list_requests(fmt: str):
    """The client's service requests: by ``service_request_id`` (comma-separated), or of the
    last 90 days (``start_date``, ``end_date``), by ``service_code`` and ``status``."""
    _client()
    _check_jurisdiction()
    statement = _visible()
    ids = [i.strip() for i in request.args.get("service_request_id", "").split(",") if i.strip()]
    if ids:
        statement = statement.where(Ticket.reference.in_(ids[:MAX_REQUESTS]))
    else:
        statement = _filtered(statement)
    rows = db.session.scalars(statement.order_by(Ticket.id.desc()).limit(MAX_REQUESTS)) \
        .unique().all()
    return georeport.render(fmt, "service_requests", [_request_row(t) for t in rows])


@bp.route(f"/requests/<reference>.{FMT}")
def get_request(reference: str, fmt: str):
    """One service request, as a list of one (the specification's shape)."""
    _client()
    _check_jurisdiction()
    ticket = db.session.scalars(_visible().where(Ticket.reference == reference)).unique().first()
    if ticket is None:
        abort(problem(404, detail=_("No such service_request_id.")))
    return georeport.render(fmt, "service_requests", [_request_row(ticket)])


@bp.route(f"/tokens/<token>.{FMT}")
def get_token(token: str, fmt: str):
    """The ``service_request_id`` of the request created with this token."""
    client = _client()
    _check_jurisdiction()
    reference = db.session.scalar(
        sa.select(Ticket.reference).join(TicketLink, TicketLink.ticket_id == Ticket.id)
        .where(TicketLink.client_id == client.id, TicketLink.open311_token == token[:64]))
    if reference is None:
        abort(problem(404, detail=_("No such token.")))
    return georeport.render(fmt, "service_requests", [
        {"service_request_id": reference, "token": token}])


def _visible() -> sa.Select:
    """The tickets the client's account may see (narrowed to its own if so registered)."""
    return client_scope(queries.visible_tickets(current_user._get_current_object()))


def _filtered(statement: sa.Select) -> sa.Select:
    args = request.args
    end = _date(args.get("end_date"), "end_date") or now_utc()
    start = _date(args.get("start_date"), "start_date") or end - timedelta(days=DEFAULT_DAYS)
    statement = statement.where(Ticket.submitted_at >= start, Ticket.submitted_at <= end)
    codes = [c.strip() for c in args.get("service_code", "").split(",") if c.strip()]
    if codes:
        statement = statement.where(Ticket.category.has(Category.code.in_(codes)))
    wanted = {s.strip() for s in args.get("status", "").split(",") if s.strip()}
    if wanted - {"open", "closed"}:
        raise _refusal(_("status is open or closed."))
    if wanted == {"open"}:
        statement = statement.where(Ticket.status.not_in(list(FINISHED_STATES)))
    elif wanted == {"closed"}:
        statement = statement.where(Ticket.status.in_(list(FINISHED_STATES)))
    return statement


def _refusal(message: str):
    return abort(problem(400, detail=message))


def _date(text: str | None, name: str) -> datetime | None:
    if not text:
        return None
    try:
        value = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        _refusal(_("%(name)s is an ISO 8601 date and time.", name=name))
    return value if value.tzinfo else value.replace(tzinfo=LOCAL_TZ)


def _request_row(ticket: Ticket) -> dict:
    finished = ticket.status in FINISHED_STATES
    return {
        "service_request_id": ticket.reference, "status": "closed" if finished else "open",
        "status_notes": _status_notes(ticket),
        "service_name": ticket.category.name if ticket.category else None,
        "service_code": ticket.category.code if ticket.category else None,
        "description": ticket.description,
        "agency_responsible": ticket.lead_unit.name if ticket.lead_unit else None,
        "service_notice": None,
        "requested_datetime": georeport.iso(ticket.submitted_at),
        "updated_datetime": georeport.iso(ticket.updated_at),
        "expected_datetime": georeport.iso(None if finished else
                                           ticket.handle_due_at or ticket.due_at),
        "address": None, "address_id": None, "zipcode": None, "lat": None, "long": None,
        "media_url": None}


def _status_notes(ticket: Ticket) -> str | None:
    """What the requester may read: the approved reply, or the final one."""
    if ticket.status == TicketStatus.CLOSED and ticket.final_reply_text:
        return ticket.final_reply_text
    return ticket.reply_text if ticket.reply_approved_at is not None else None


# -- errors in the specification's shape -------------------------------------------------------


def as_open311_errors(response):
    """Every refusal under ``/open311/v2/`` (the token gate's, a refused parameter, a page that
    does not exist) as the specification's error document in the URL's format."""
    if not request.path.startswith(bp.url_prefix) or \
            response.mimetype != "application/problem+json":
        return response
    body = response.get_json(silent=True) or {}
    status = 400 if response.status_code == 422 else response.status_code
    fmt = "xml" if request.path.endswith(".xml") else "json"
    refused = georeport.errors(fmt, status, body.get("detail") or body.get("title") or "")
    for name in ("WWW-Authenticate", "Retry-After"):
        if name in response.headers:
            refused.headers[name] = response.headers[name]
    return refused
