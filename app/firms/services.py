"""Firm services: create, edit, archive, commissioners, contacts, tags, unmasking, legacy codes.

Services flush and never commit; the view or command that calls them commits once.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date

import sqlalchemy as sa
from flask_babel import gettext as _

from app.auth.models import User
from app.core import audit
from app.core.clock import now_utc
from app.core.errors import ValidationFailed
from app.extensions import db
from app.firms import uscc as uscc_rules
from app.firms.models import (
    Area,
    CapitalOrigin,
    Contact,
    Firm,
    FirmNameChange,
    FirmTag,
    Industry,
    LegacyUscc,
    LegalForm,
    TagKind,
    TagLevel,
    can_be_commissioner,
)
from app.firms.search import search_key
from app.firms.uscc import USCC_PROBLEM_MESSAGES, UsccProblem

logger = logging.getLogger("ruyi.firms")


class FieldError(ValidationFailed):
    """A rule broken by one form field; views show the message next to that field."""

    def __init__(self, field_name: str, message: str):
        super().__init__(message)
        self.field = field_name


# --- USCC --------------------------------------------------------------------------------------

def is_accepted_legacy(code: str) -> bool:
    """Whether a supervisor accepted this code despite its check character."""
    return db.session.scalar(sa.select(LegacyUscc.id).where(LegacyUscc.uscc == code)) is not None


def uscc_problem(raw: str | None) -> tuple[str, str | None]:
    """The normalised code and the message explaining why it is refused (``None`` if usable)."""
    result = uscc_rules.validate(raw)
    if result.fails_only_check and is_accepted_legacy(result.code):
        return result.code, None
    if result.problem is None:
        return result.code, None
    message = str(USCC_PROBLEM_MESSAGES[result.problem])
    if result.problem is UsccProblem.CHECK:
        message += " " + _("If this is a legacy pilot code, a supervisor can accept it.")
    return result.code, message


def accept_legacy_uscc(raw: str, reason: str, actor: User) -> LegacyUscc:
    """A supervisor accepts a well-formed code whose check character fails (audited)."""
    result = uscc_rules.validate(raw)
    if result.is_valid:
        raise FieldError("uscc", _("This code is valid; it needs no override."))
    if not result.fails_only_check:
        raise FieldError("uscc", str(USCC_PROBLEM_MESSAGES[result.problem]))
    if is_accepted_legacy(result.code):
        raise FieldError("uscc", _("This code has already been accepted."))
    if not (reason or "").strip():
        raise FieldError("reason", _("Give the reason for accepting this code."))
    row = LegacyUscc(uscc=result.code, reason=reason.strip(), accepted_by_id=actor.id,
                     accepted_at=now_utc())
    db.session.add(row)
    db.session.flush()
    audit.record("firm.legacy_uscc_accept", actor=actor, obj=row,
                 details={"uscc": row.uscc, "reason": row.reason})
    return row


# --- industries --------------------------------------------------------------------------------

def sections() -> list[Industry]:
    """The GB/T 4754 sections A–T with their division ranges."""
    return list(db.session.scalars(
        sa.select(Industry).where(sa.func.length(Industry.code) == 1).order_by(Industry.code)))


def section_for_division(division: int, known: list[Industry]) -> Industry | None:
    """The section whose two-digit division range contains ``division``."""
    for section in known:
        if section.division_from is not None and \
                section.division_from <= division <= section.division_to:
            return section
    return None


def parse_industry(raw: str | None, known: list[Industry] | None = None) -> tuple[str, str]:
    """``C3911``, ``3911`` or a bare section ``C`` → (code, section letter).

    :raises FieldError: not a known section or not a 4-digit class inside one.
    """
    text = (raw or "").strip().upper()
    known = known if known is not None else sections()
    letters = {s.code for s in known}
    if len(text) == 1 and text in letters:
        return text, text
    digits = text[1:] if text[:1].isalpha() else text
    if len(digits) != 4 or not digits.isdigit():
        raise FieldError("industry_code", _(
            "Enter a GB/T 4754 section letter or 4-digit class, e.g. C3911."))
    section = section_for_division(int(digits[:2]), known)
    if section is None or (text[:1].isalpha() and text[0] != section.code):
        raise FieldError("industry_code", _("Unknown industry class %(code)s.", code=text))
    return section.code + digits, section.code


# --- firms -------------------------------------------------------------------------------------

@dataclass
class FirmData:
    """Plain data for creating or editing a firm (never a form object)."""

    uscc: str
    name: str
    area_id: int
    industry_code: str
    legal_form: LegalForm
    capital_origin: CapitalOrigin
    english_name: str | None = None
    address: str | None = None
    employees: int | None = None
    is_key_firm: bool = False
    commissioner_id: int | None = None


PROFILE_FIELDS = ("name", "english_name", "area_id", "industry_code", "industry_section",
                  "legal_form", "capital_origin", "address", "employees", "is_key_firm",
                  "commissioner_id")


def firm_by_uscc(code: str) -> Firm | None:
    """The firm with this (normalised) USCC."""
    return db.session.scalar(sa.select(Firm).where(Firm.uscc == code))


def _check_commissioner(is_key_firm: bool, commissioner_id: int | None) -> None:
    """A key firm must have a service commissioner, who must be active unit staff."""
    if commissioner_id:
        user = db.session.get(User, commissioner_id)
        if user is None or not can_be_commissioner(user):
            raise FieldError("commissioner_id",
                             _("The service commissioner must be an active staff member."))
    elif is_key_firm:
        raise FieldError("commissioner_id",
                         _("A key firm must have a service commissioner."))


def _clean(data: FirmData) -> dict:
    """Validate ``data`` and return the column values to store."""
    name = " ".join((data.name or "").split())
    if not name:
        raise FieldError("name", _("Enter the firm's legal name."))
    if db.session.get(Area, data.area_id) is None:
        raise FieldError("area_id", _("Choose a known area."))
    code, section = parse_industry(data.industry_code)
    if data.employees is not None and data.employees < 0:
        raise FieldError("employees", _("The number of employees cannot be negative."))
    _check_commissioner(data.is_key_firm, data.commissioner_id)
    return {"name": name, "english_name": (data.english_name or "").strip() or None,
            "area_id": data.area_id, "industry_code": code, "industry_section": section,
            "legal_form": LegalForm(data.legal_form),
            "capital_origin": CapitalOrigin(data.capital_origin),
            "address": (data.address or "").strip() or None, "employees": data.employees,
            "is_key_firm": bool(data.is_key_firm), "commissioner_id": data.commissioner_id or None}


def refresh_search_key(firm: Firm) -> None:
    """Recompute the search key after a change of name, contacts or name history."""
    former = db.session.scalars(
        sa.select(FirmNameChange.old_name).where(FirmNameChange.firm_id == firm.id))
    contacts = db.session.scalars(sa.select(Contact.name).where(Contact.firm_id == firm.id))
    firm.search_key = search_key(firm.name, firm.uscc, firm.english_name,
                                 [*former, *contacts])


def create_firm(data: FirmData, actor: User | None) -> Firm:
    """Register a firm under its USCC (valid, or an accepted legacy code), which never changes."""
    code, problem = uscc_problem(data.uscc)
    if problem:
        raise FieldError("uscc", problem)
    if firm_by_uscc(code) is not None:
        raise FieldError("uscc", _("A firm with this code is already registered."))
    firm = Firm(uscc=code, **_clean(data))
    firm.search_key = search_key(firm.name, firm.uscc, firm.english_name)
    db.session.add(firm)
    db.session.flush()
    audit.record("firm.create", actor=actor, obj=firm,
                 details={"uscc": firm.uscc, "name": firm.name})
    logger.info("Firm %s created", firm.uscc)
    return firm


def _apply(firm: Firm, values: dict, actor: User | None) -> dict:
    """Set changed columns; keep a name change as history. Returns ``{field: [old, new]}``."""
    changes = {}
    for name in PROFILE_FIELDS:
        old, new = getattr(firm, name), values[name]
        if old != new:
            changes[name] = [None if old is None else str(old), None if new is None else str(new)]
            setattr(firm, name, new)
    if "name" in changes:
        db.session.add(FirmNameChange(firm_id=firm.id, old_name=changes["name"][0],
                                      new_name=firm.name, changed_at=now_utc(),
                                      changed_by_id=getattr(actor, "id", None)))
    return changes


def update_firm(firm: Firm, data: FirmData, actor: User | None) -> dict:
    """Edit the profile (the USCC stays); a new legal name is kept in the name history."""
    changes = _apply(firm, _clean(data), actor)
    if changes:
        db.session.flush()
        refresh_search_key(firm)
        db.session.flush()
        audit.record("firm.update", actor=actor, obj=firm, details={"changes": changes})
    return changes


def archive_firm(firm: Firm, actor: User) -> Firm:
    """Archive (firms are never deleted); an archived firm keeps all its history."""
    if firm.is_archived:
        raise ValidationFailed(_("This firm is already archived."))
    firm.archived_at = now_utc()
    db.session.flush()
    audit.record("firm.archive", actor=actor, obj=firm)
    return firm


def restore_firm(firm: Firm, actor: User) -> Firm:
    """Bring an archived firm back to the active list."""
    if not firm.is_archived:
        raise ValidationFailed(_("This firm is not archived."))
    firm.archived_at = None
    db.session.flush()
    audit.record("firm.restore", actor=actor, obj=firm)
    return firm


def assign_commissioner(firm: Firm, commissioner_id: int | None, actor: User) -> Firm:
    """Name (or remove) the service commissioner; a key firm cannot be left without one."""
    _check_commissioner(firm.is_key_firm, commissioner_id)
    old = firm.commissioner_id
    firm.commissioner_id = commissioner_id or None
    db.session.flush()
    audit.record("firm.assign_commissioner", actor=actor, obj=firm,
                 details={"from": old, "to": firm.commissioner_id})
    return firm


# --- contacts ----------------------------------------------------------------------------------

@dataclass
class ContactData:
    """Plain data for a contact person."""

    name: str
    title: str | None = None
    mobile: str | None = None
    email: str | None = None
    is_legal_representative: bool = False
    is_primary: bool = False


def _contact_values(data: ContactData) -> dict:
    from app.core.validators import is_mainland_mobile, normalise_mobile

    name = (data.name or "").strip()
    if not name:
        raise FieldError("name", _("Enter the contact's name."))
    mobile = normalise_mobile(data.mobile) or None
    if mobile and not is_mainland_mobile(mobile):
        raise FieldError("mobile", _("Enter an 11-digit mainland mobile number, e.g. 13812345678."))
    return {"name": name, "title": (data.title or "").strip() or None, "mobile": mobile,
            "email": (data.email or "").strip() or None,
            "is_legal_representative": bool(data.is_legal_representative),
            "is_primary": bool(data.is_primary)}


def _only_primary(firm: Firm, contact: Contact) -> None:
    if contact.is_primary:
        for other in firm.contacts:
            if other is not contact:
                other.is_primary = False


def save_contact(firm: Firm, contact: Contact | None, data: ContactData, actor: User) -> Contact:
    """Add or edit a contact; at most one is primary. The audit row never holds the mobile."""
    values = _contact_values(data)
    created = contact is None
    if created:
        contact = Contact(firm=firm)
        db.session.add(contact)
    for name, value in values.items():
        setattr(contact, name, value)
    _only_primary(firm, contact)
    db.session.flush()
    refresh_search_key(firm)
    audit.record("firm.contact_create" if created else "firm.contact_update", actor=actor,
                 obj=firm, details={"contact_id": contact.id, "name": contact.name})
    return contact


def remove_contact(contact: Contact, actor: User) -> None:
    """Remove a person who no longer represents the firm (the audit row keeps the name)."""
    firm = contact.firm
    audit.record("firm.contact_remove", actor=actor, obj=firm,
                 details={"contact_id": contact.id, "name": contact.name})
    firm.contacts.remove(contact)
    db.session.delete(contact)
    db.session.flush()
    refresh_search_key(firm)


def reveal_mobile(contact: Contact, actor: User) -> str:
    """Show a full mobile number: an audited action (DOMAIN §8)."""
    audit.record("firm.contact_unmask", actor=actor, obj=contact.firm,
                 details={"contact_id": contact.id, "name": contact.name})
    return contact.mobile or ""


# --- tags --------------------------------------------------------------------------------------

@dataclass
class TagData:
    """Plain data for a firm's recognition."""

    kind: TagKind
    level: TagLevel | None = None
    certified_on: date | None = None
    valid_until: date | None = None
    certificate_no: str | None = None
    exchange: str | None = None
    ticker: str | None = None
    extra: dict = field(default_factory=dict)


def save_tag(firm: Firm, tag: FirmTag | None, data: TagData, actor: User) -> FirmTag:
    """Add or edit a tag; validity must not end before certification."""
    if data.certified_on and data.valid_until and data.valid_until < data.certified_on:
        raise FieldError("valid_until", _("The validity cannot end before the certification."))
    created = tag is None
    if created:
        tag = FirmTag(firm=firm)
        db.session.add(tag)
    tag.kind = TagKind(data.kind)
    tag.level = TagLevel(data.level) if data.level else None
    tag.certified_on, tag.valid_until = data.certified_on, data.valid_until
    tag.certificate_no = (data.certificate_no or "").strip() or None
    is_listed = tag.kind is TagKind.LISTED
    tag.exchange = (data.exchange or "").strip() or None if is_listed else None
    tag.ticker = (data.ticker or "").strip() or None if is_listed else None
    db.session.flush()
    audit.record("firm.tag_create" if created else "firm.tag_update", actor=actor, obj=firm,
                 details={"tag_id": tag.id, "kind": str(tag.kind),
                          "valid_until": tag.valid_until.isoformat() if tag.valid_until else None})
    return tag


def remove_tag(tag: FirmTag, actor: User) -> None:
    """Remove a tag entered by mistake (an expired tag is kept and shown as expired)."""
    firm = tag.firm
    audit.record("firm.tag_remove", actor=actor, obj=firm,
                 details={"tag_id": tag.id, "kind": str(tag.kind)})
    firm.tags.remove(tag)
    db.session.delete(tag)
    db.session.flush()
