"""Portal verbs: a public or firm-account request, status lookup, firm accounts, 马上办 snippets.

Services flush and never commit; the view commits once, and the confirmation e-mail queued
here goes out only after that commit (:mod:`app.core.mail`).
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.orm import lazyload

from app.auth import services as accounts
from app.auth.models import User
from app.auth.passwords import generate_temporary_password
from app.core import audit, mail, storage
from app.core.clock import now_utc
from app.core.errors import DomainError, ValidationFailed
from app.core.permissions import Role, role_has
from app.core.rendering import when
from app.core.transactions import begin_write  # noqa: F401 - the portal's views call it here
from app.core.validators import normalise_mobile
from app.extensions import db
from app.firms import uscc as uscc_rules
from app.firms.models import Firm
from app.portal import cache
from app.portal.models import AnswerSnippet, FirmRegistration, RegistrationStatus
from app.tickets import attachment_files, deadlines, routing, submission, system_texts
from app.tickets import services as tickets
from app.tickets.models import (
    Category,
    Channel,
    Comment,
    CommentVisibility,
    DemandType,
    ServiceMode,
    Ticket,
    TicketStatus,
    Urgency,
)

logger = logging.getLogger("ruyi.portal")

class FieldError(ValidationFailed):
    """A refusal that belongs next to one form field."""

    def __init__(self, field_name: str, message: str):
        super().__init__(message)
        self.field = field_name


# -- the requester behind a tracking link ------------------------------------------------------


class TokenHolder:
    """Whoever opens a ticket's tracking link: the requester, proven by the secret token.

    It acts like a firm user scoped to that one ticket (the ticket's predicates accept it
    through ``tracking_ticket_id``), so the same transitions serve the link and the firm
    account. It has no database identity.
    """

    is_authenticated = True
    is_active = True
    is_anonymous = False
    id = None
    unit_id = None
    role = Role.FIRM_USER
    username = "tracking-link"

    def __init__(self, ticket: Ticket):
        self.tracking_ticket_id = ticket.id
        self.firm_id = None
        self.display_name = ticket.requester_name or _("Requester")
        self.email = ticket.requester_email

    def can(self, permission) -> bool:
        """The rights of a firm user."""
        return role_has(self.role, permission)

    def get_id(self):  # pragma: no cover - never signed in
        return None


# -- transactions ------------------------------------------------------------------------------


# -- the request form --------------------------------------------------------------------------


@dataclass
class RequestData:
    """What the public form (or the firm account's form) collects."""

    firm_name: str
    uscc: str
    contact_name: str
    mobile: str
    email: str | None
    demand_type: str
    category_id: int | None
    title: str
    description: str
    is_taiwan: bool = False
    files: list = field(default_factory=list)


def registry_firm(code: str) -> Firm | None:
    """The registry firm with this USCC (archived firms too: history stays linked).

    Its area, industry, commissioner and tags load only if read: a submission needs the id.
    """
    return db.session.scalar(_FIRM_BY_USCC, {"uscc": uscc_rules.normalise(code)})


#: Built once: the statement (and its cache key) is the same for every submission.
_FIRM_BY_USCC = sa.select(Firm).options(lazyload("*")).where(Firm.uscc == sa.bindparam("uscc"))


def taiwan_category() -> Category | None:
    """The 涉台事务 category, by code or name (:func:`app.tickets.routing.taiwan_category`)."""
    return routing.taiwan_category()


def _category(data: RequestData) -> Category | None:
    """The requester's own category: the 涉台 mark never replaces it (DOMAIN §3)."""
    if not data.category_id:
        return None
    category = db.session.get(Category, int(data.category_id))
    if category is None or not category.is_active:
        raise FieldError("category", _("Choose one of the listed categories."))
    return category


def submit_request(data: RequestData, *, actor: User | None, ip: str | None,
                   tracking_link: Callable[[Ticket], str]) -> Ticket:
    """Create the ticket of a public (``web``) or firm-account (``portal``) request.

    The USCC is validated; a known one links the ticket to the registry firm, an unknown one
    keeps the requester as typed. A Taiwan-invested requester's ticket is marked 涉台, which
    adds the Taiwan affairs office at dispatch; the receipt says so.
    """
    checked = _checked_files(data.files)
    requester = tickets.Requester(name=data.contact_name, mobile=normalise_mobile(data.mobile),
                                  email=(data.email or "").strip() or None,
                                  firm_name=data.firm_name.strip())
    if actor is None:
        ticket = _public_ticket(data, requester, ip)
    else:
        ticket = _account_ticket(data, requester, actor, ip)
    if data.is_taiwan:
        _note_taiwan(ticket)
    attachment_files.store(ticket, checked, uploaded_by=actor)
    send_receipt(ticket, tracking_link(ticket))
    logger.info("portal request %s (%s, firm %s)", ticket.reference, ticket.channel,
                ticket.firm_id or "unregistered")
    return ticket


def _public_ticket(data: RequestData, requester, ip: str | None) -> Ticket:
    """An anonymous requester's ticket through the public form's write
    (:mod:`app.tickets.submission`): the registry firm and the category are checked in its
    INSERT, not read first."""
    result = uscc_rules.validate(data.uscc)
    if not result.is_valid:
        raise FieldError("uscc", str(uscc_rules.USCC_PROBLEM_MESSAGES[result.problem]))
    requester.uscc = result.code
    category_id = _chosen_category_id(data)
    try:
        return submission.create_public_ticket(
            uscc=result.code, requester=requester, demand_type=DemandType(data.demand_type),
            category_id=category_id, title=data.title, description=data.description, ip=ip,
            is_taiwan_related=data.is_taiwan)
    except submission.RetiredCategory as error:
        raise FieldError("category", str(error)) from error


def _chosen_category_id(data: RequestData) -> int | None:
    """The requester's own category, if the form offers it (the INSERT checks it is still
    active); the 涉台 mark never replaces it (DOMAIN §3)."""
    if not data.category_id:
        return None
    if str(data.category_id) not in {value for value, _name in cache.category_choices()}:
        raise FieldError("category", _("Choose one of the listed categories."))
    return int(data.category_id)


def _account_ticket(data: RequestData, requester, actor: User, ip: str | None) -> Ticket:
    """A firm account's (or another signed-in requester's) ticket."""
    if actor.firm_id:
        firm = actor.firm  # a firm account speaks for its registry firm (legacy codes too)
        code = firm.uscc
    else:
        result = uscc_rules.validate(data.uscc)
        if not result.is_valid:
            raise FieldError("uscc", str(uscc_rules.USCC_PROBLEM_MESSAGES[result.problem]))
        code = result.code
        firm = registry_firm(code)
    requester.uscc = code
    return tickets.create_ticket(
        actor, channel=Channel.PORTAL, service_mode=ServiceMode.STANDARD,
        demand_type=DemandType(data.demand_type), urgency=Urgency.NORMAL, title=data.title,
        description=data.description, firm=firm, category=_category(data), ip=ip,
        is_taiwan_related=data.is_taiwan, requester=requester)


def _checked_files(files):
    try:
        return storage.check_files(files)
    except ValidationFailed as error:
        raise FieldError("attachments", str(error)) from error


def _note_taiwan(ticket: Ticket) -> None:
    """Tell intake, on the internal timeline, that 涉台 handling was asked for."""
    db.session.add(Comment(
        ticket_id=ticket.id, author_id=None, visibility=CommentVisibility.INTERNAL,
        created_at=now_utc(),
        body=_(system_texts.TAIWAN_ROUTING)))


def promised_answer_at(ticket: Ticket) -> datetime:
    """The committed date by which the requester will be answered
    (:func:`app.tickets.deadlines.promised_answer_at`)."""
    return deadlines.promised_answer_at(ticket)


def promise_text(promise: deadlines.Promise) -> str:
    """The committed date as a requester reads it in a message, with why it may move."""
    if promise.at is None:
        return _("the date will be given as soon as the working calendar for %(year)s is "
                 "published; we will tell you", year=promise.missing_year)
    text = _("%(date)s (Beijing time)", date=when(promise.at))
    if promise.provisional:
        text += " — " + _("provisional: next year's official holiday schedule is not yet "
                          "published; if it moves this date, we will tell you the new one")
    return text


def taiwan_note(ticket: Ticket) -> str:
    """What the requester is told of the 涉台 mark (DOMAIN §3: "and the firm is told")."""
    category = ticket.category.name if ticket.category is not None else _("none chosen")
    return _("Marked 涉台 (Taiwan-invested firm or Taiwan compatriot): your category "
             "(%(category)s) is kept, and the Taiwan Affairs Office — the one-stop service "
             "centre — takes part in handling your request.", category=category)


def send_receipt(ticket: Ticket, link: str) -> None:
    """The receipt of a request (reference, promised date, tracking link), by e-mail when the
    requester gave an address; also sent for requests made through Open311."""
    if not ticket.requester_email:
        return
    body = _("We have received your request \"%(title)s\".\n\nReference: %(ref)s\n"
             "We will answer by: %(date)s\nFollow it here: %(link)s\n\n"
             "Keep this link private: anyone who has it can see and act on the request.",
             title=ticket.title, ref=ticket.reference, date=promise_text(deadlines.promise(ticket)),
             link=link)
    if ticket.is_taiwan_related:
        body += "\n\n" + taiwan_note(ticket)
    mail.queue(ticket.requester_email, _("Request %(ref)s received", ref=ticket.reference),
               body, ticket=ticket.reference)


# -- finding a ticket without an account -------------------------------------------------------


def ticket_by_token(token: str) -> Ticket | None:
    """The ticket whose tracking link carries ``token`` (never by id)."""
    if not token or len(token) > 64:
        return None
    return db.session.scalar(sa.select(Ticket).where(Ticket.access_token == token))


class NoSuchRequest(DomainError):
    """One answer for every mismatch of a lookup, so nobody learns which references exist."""

    def __init__(self):
        super().__init__(_("No request matches this reference and mobile number."))


def lookup(reference: str, mobile: str) -> Ticket:
    """The ticket with this reference whose requester gave this mobile number.

    Every attempt is audited, the failed ones too (the caller keeps the audit row).

    :raises NoSuchRequest: for any mismatch.
    """
    ticket = db.session.scalar(sa.select(Ticket).where(
        Ticket.reference == (reference or "").strip().upper()))
    given = normalise_mobile(mobile).encode()
    stored = normalise_mobile(ticket.requester_mobile if ticket else "").encode()
    matches = hmac.compare_digest(given, stored) and bool(stored)
    audit.record("portal.lookup", success=ticket is not None and matches,
                 object_type="tickets", object_id=ticket.id if ticket and matches else None)
    if ticket is None or not matches:
        raise NoSuchRequest
    return ticket


# -- requester actions (tracking link or firm account) -----------------------------------------


def supply_information(ticket: Ticket, actor, text: str, files=None,
                       ip: str | None = None) -> None:
    """The requester adds what was missing; a suspended ticket resumes (DOMAIN §3.1)."""
    if ticket.status != TicketStatus.SUSPENDED:
        raise ValidationFailed(_("Information can be added while the ticket waits for you."))
    checked = _checked_files(files)
    tickets.supply_information(ticket, actor, text, ip=ip)
    attachment_files.store(ticket, checked,
                           uploaded_by=actor if getattr(actor, "id", None) else None)


def withdraw(ticket: Ticket, actor, reason: str, ip: str | None = None) -> None:
    """The requester withdraws the request (any open state)."""
    tickets.transition(ticket, "withdraw", actor, reason=reason, ip=ip)


# -- firm accounts -----------------------------------------------------------------------------


@dataclass
class RegistrationData:
    """A firm contact's request for an account."""

    uscc: str
    firm_name: str
    contact_name: str
    mobile: str
    email: str
    preferred_language: str | None = None


def _check_registration(data: RegistrationData) -> str:
    result = uscc_rules.validate(data.uscc)
    if not result.is_valid:
        raise FieldError("uscc", str(uscc_rules.USCC_PROBLEM_MESSAGES[result.problem]))
    mobile = normalise_mobile(data.mobile)
    if accounts.find_user(mobile) is not None:
        raise FieldError("mobile", _("An account with this mobile number already exists."))
    pending = db.session.scalar(sa.select(FirmRegistration.id).where(
        FirmRegistration.mobile == mobile,
        FirmRegistration.status == RegistrationStatus.PENDING))
    if pending is not None:
        raise FieldError("mobile", _("A request with this mobile number is already waiting "
                                     "for approval."))
    return result.code


def register(data: RegistrationData) -> FirmRegistration:
    """Record a contact's request; nothing can sign in until a dispatcher approves it."""
    code = _check_registration(data)
    row = FirmRegistration(uscc=code, firm_name=data.firm_name.strip(),
                           contact_name=data.contact_name.strip(),
                           mobile=normalise_mobile(data.mobile), email=data.email.strip(),
                           preferred_language=data.preferred_language,
                           status=RegistrationStatus.PENDING, firm=registry_firm(code))
    db.session.add(row)
    db.session.flush()
    audit.record("portal.register", obj=row, details={"uscc": code})
    return row


def _create_account(row: FirmRegistration, firm: Firm, actor: User) -> tuple[User, str]:
    password = generate_temporary_password()
    user = User(username=row.mobile, display_name=row.contact_name, role=Role.FIRM_USER,
                firm=firm, email=row.email, mobile=row.mobile,
                preferred_language=row.preferred_language, is_active=True)
    accounts.set_password(user, password, temporary=True)
    db.session.add(user)
    db.session.flush()
    row.user_id, row.firm_id = user.id, firm.id
    row.status, row.decided_at, row.decided_by_id = RegistrationStatus.APPROVED, now_utc(), actor.id
    db.session.flush()
    audit.record("user.create", actor=actor, obj=user,
                 details={"username": user.username, "role": str(user.role), "firm_id": firm.id})
    mail.queue(row.email, _("Your firm account is ready"),
               _("Sign in with the username %(username)s and the temporary password "
                 "%(password)s; you will choose your own password at the first sign-in.",
                 username=user.username, password=password))
    return user, password


def approve(row: FirmRegistration, firm: Firm, actor: User) -> tuple[User, str]:
    """Link the request to a registry firm and create the account (temporary password)."""
    if row.status != RegistrationStatus.PENDING:
        raise ValidationFailed(_("This request has already been decided."))
    if firm is None or firm.is_archived:
        raise FieldError("firm", _("Choose an active firm from the registry."))
    if accounts.find_user(row.mobile) is not None:
        raise ValidationFailed(_("An account with this mobile number already exists."))
    user, password = _create_account(row, firm, actor)
    audit.record("portal.registration_approve", actor=actor, obj=row,
                 details={"firm_id": firm.id, "user_id": user.id})
    return user, password


def reject(row: FirmRegistration, reason: str, actor: User) -> FirmRegistration:
    """Refuse a request, with the reason told to the contact."""
    if row.status != RegistrationStatus.PENDING:
        raise ValidationFailed(_("This request has already been decided."))
    if not (reason or "").strip():
        raise FieldError("reason", _("Give the reason."))
    row.status, row.decided_at, row.decided_by_id = RegistrationStatus.REJECTED, now_utc(), actor.id
    row.decision_reason = reason.strip()
    db.session.flush()
    audit.record("portal.registration_reject", actor=actor, obj=row)
    mail.queue(row.email, _("Your firm account request"),
               _("Your request was not approved: %(reason)s", reason=row.decision_reason))
    return row


def invite(firm: Firm, data: RegistrationData, actor: User) -> tuple[User, str]:
    """A dispatcher invites a firm contact: the account exists at once, linked to the firm."""
    data.uscc = firm.uscc
    data.firm_name = firm.name
    _check_registration(data)
    row = FirmRegistration(uscc=firm.uscc, firm_name=firm.name,
                           contact_name=data.contact_name.strip(),
                           mobile=normalise_mobile(data.mobile), email=data.email.strip(),
                           invited_by_id=actor.id, status=RegistrationStatus.PENDING)
    db.session.add(row)
    db.session.flush()
    user, password = _create_account(row, firm, actor)
    audit.record("portal.invite", actor=actor, obj=row, details={"firm_id": firm.id})
    return user, password


# -- 马上办 answer snippets and the direct answer ----------------------------------------------


@dataclass
class SnippetData:
    """A reusable answer."""

    title: str
    body: str
    category_id: int | None = None


def _check_snippet(data: SnippetData, snippet: AnswerSnippet | None = None) -> None:
    if not data.title.strip() or not data.body.strip():
        raise ValidationFailed(_("A snippet needs a title and a text."))
    other = db.session.scalar(sa.select(AnswerSnippet).where(
        AnswerSnippet.title == data.title.strip()))
    if other is not None and other is not snippet:
        raise FieldError("title", _("A snippet with this title already exists."))


def create_snippet(data: SnippetData, actor: User) -> AnswerSnippet:
    """Add an answer dispatchers can reuse."""
    _check_snippet(data)
    row = AnswerSnippet(title=data.title.strip(), body=data.body.strip(),
                        category_id=data.category_id or None, is_active=True,
                        created_by_id=actor.id, used_count=0)
    db.session.add(row)
    db.session.flush()
    audit.record("snippet.create", actor=actor, obj=row, details={"title": row.title})
    return row


def update_snippet(row: AnswerSnippet, data: SnippetData, actor: User) -> AnswerSnippet:
    """Edit a snippet (tickets already answered keep the text they were sent)."""
    _check_snippet(data, row)
    row.title, row.body = data.title.strip(), data.body.strip()
    row.category_id = data.category_id or None
    db.session.flush()
    audit.record("snippet.update", actor=actor, obj=row, details={"title": row.title})
    return row


def set_snippet_active(row: AnswerSnippet, active: bool, actor: User) -> AnswerSnippet:
    """Archive (or restore) a snippet; snippets are never deleted."""
    row.is_active = active
    db.session.flush()
    audit.record("snippet.activate" if active else "snippet.archive", actor=actor, obj=row)
    return row


def answer_directly(ticket: Ticket, actor: User, answer: str,
                    snippet: AnswerSnippet | None = None, expected_version: int | None = None,
                    ip: str | None = None):
    """马上办: answer at intake (DOMAIN §3.1 answer_directly), counting the snippet's use."""
    event = tickets.transition(ticket, "answer_directly", actor, answer=answer,
                               expected_version=expected_version, ip=ip)
    if snippet is not None:
        snippet.used_count += 1
        db.session.flush()
    return event
