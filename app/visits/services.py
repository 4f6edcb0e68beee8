"""Visit verbs: record and correct visits, hand issues over as tickets (交办), record on-site
solutions and re-checks (回头看), plan visits, run campaigns, store attachments.

Services flush and never commit; the view or command commits once.
"""

from __future__ import annotations

import hashlib
import logging
import os
import secrets
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _

from app.auth.models import User
from app.core import audit
from app.core.clock import now_utc
from app.core.errors import PermissionDenied, ValidationFailed
from app.core.permissions import Permission
from app.extensions import db
from app.firms.models import Contact, Firm
from app.firms.uscc import normalise
from app.visits.models import (
    Campaign,
    CampaignTarget,
    CampaignVisitor,
    IssueRecheck,
    PlanStatus,
    Visit,
    VisitAttachment,
    VisitContact,
    VisitIssue,
    VisitMode,
    VisitPlan,
    VisitPurpose,
    VisitPurposeTag,
    VisitSettings,
    VisitVisitor,
)

logger = logging.getLogger("ruyi.visits")
P = Permission


class FieldError(ValidationFailed):
    """A refusal that belongs next to one form field."""

    def __init__(self, field_name: str, message: str):
        super().__init__(message)
        self.field = field_name


# -- settings ----------------------------------------------------------------------------------


def get_settings() -> VisitSettings:
    """The settings row (created with the DOMAIN defaults if missing)."""
    row = db.session.get(VisitSettings, 1)
    if row is None:
        row = VisitSettings(id=1)
        db.session.add(row)
        db.session.flush()
    return row


@dataclass
class SettingsData:
    """Admin-editable visit settings."""

    edit_window_days: int
    key_firm_cadence_months: int
    other_firm_cadence_months: int
    qualifying_modes: list[str]


def update_settings(data: SettingsData, actor: User) -> VisitSettings:
    """Change the visit settings; the old and new values are audited."""
    if not actor.can(P.VISIT_CONFIGURE):
        raise PermissionDenied(_("You may not change visit settings."))
    modes = [m for m in data.qualifying_modes if m in VisitMode.__members__.values()]
    if not modes:
        raise FieldError("qualifying_modes", _("Choose at least one mode that counts."))
    row = get_settings()
    before = _settings_values(row)
    row.edit_window_days = data.edit_window_days
    row.key_firm_cadence_months = data.key_firm_cadence_months
    row.other_firm_cadence_months = data.other_firm_cadence_months
    row.qualifying_modes = ",".join(modes)
    row.updated_at, row.updated_by_id = now_utc(), actor.id
    db.session.flush()
    audit.record("visit.settings_update", actor=actor, obj=row,
                 details={"before": before, "after": _settings_values(row)})
    return row


def _settings_values(row: VisitSettings) -> dict[str, Any]:
    return {"edit_window_days": row.edit_window_days,
            "key_firm_cadence_months": row.key_firm_cadence_months,
            "other_firm_cadence_months": row.other_firm_cadence_months,
            "qualifying_modes": row.qualifying_modes}


# -- visits ------------------------------------------------------------------------------------


@dataclass
class IssueData:
    """One row of the issue list as typed."""

    description: str
    category_id: int | None = None
    is_solved_on_site: bool = False
    solution: str | None = None


@dataclass
class NewContact:
    """A firm contact met for the first time, added to the firm's contacts."""

    name: str
    title: str | None = None
    mobile: str | None = None


@dataclass
class VisitData:
    """What the visit form collects."""

    firm: Firm
    visited_at: datetime
    mode: str
    lead_visitor: User
    operating_status: str
    purposes: list[str] = field(default_factory=list)
    other_visitor_ids: list[int] = field(default_factory=list)
    contact_ids: list[int] = field(default_factory=list)
    new_contact: NewContact | None = None
    output_plan: str | None = None
    orders_plan: str | None = None
    employment_plan: str | None = None
    investment_plan: str | None = None
    policies_delivered: str | None = None
    #: A contact id, ``"new"`` for the new contact, or ``None``.
    confirmed_by: int | str | None = None
    confirmed_at: datetime | None = None
    campaign: Campaign | None = None
    issues: list[IssueData] = field(default_factory=list)
    plan: VisitPlan | None = None


def _check(data: VisitData, now: datetime) -> None:
    if data.visited_at > now:
        raise FieldError("visited_at", _("A visit cannot be recorded before it happens."))
    if not (data.operating_status or "").strip():
        raise FieldError("operating_status", _("Describe the firm's operating status."))
    if data.lead_visitor.unit_id is None or not data.lead_visitor.is_active:
        raise FieldError("lead_visitor_id", _("The lead visitor must be active unit staff."))
    if data.confirmed_by is not None and data.confirmed_at is None:
        raise FieldError("confirmed_at", _("Give the time the firm confirmed the record."))
    if data.confirmed_at is not None and data.confirmed_by is None:
        raise FieldError("confirmed_by", _("Choose the contact who confirmed the record."))
    if data.confirmed_at is not None and data.confirmed_at < data.visited_at:
        raise FieldError("confirmed_at", _("The confirmation cannot precede the visit."))
    if data.confirmed_by == "new" and data.new_contact is None:
        raise FieldError("confirmed_by", _("Fill in the new contact first."))
    if data.campaign is not None and not (
            data.campaign.starts_on <= data.visited_at.date() <= data.campaign.ends_on):
        raise FieldError("campaign_id", _("The visit date is outside the campaign period."))
    for issue in data.issues:
        if issue.is_solved_on_site and not (issue.solution or "").strip():
            raise FieldError("issues", _("Say how each issue solved on site was solved."))


def _contacts(data: VisitData) -> tuple[list[Contact], Contact | None]:
    """The firm's contacts met (only its own), plus the new one if typed."""
    met = []
    if data.contact_ids:
        met = list(db.session.scalars(sa.select(Contact).where(
            Contact.id.in_(data.contact_ids), Contact.firm_id == data.firm.id)))
    new = None
    if data.new_contact is not None and data.new_contact.name.strip():
        new = Contact(firm=data.firm, name=data.new_contact.name.strip(),
                      title=_blank(data.new_contact.title), mobile=_blank(data.new_contact.mobile))
        db.session.add(new)
        db.session.flush()
        from app.firms.services import refresh_search_key

        refresh_search_key(data.firm)
        met.append(new)
    return met, new


def _apply(visit: Visit, data: VisitData) -> None:
    met, new = _contacts(data)
    visit.firm = data.firm
    visit.visited_at = data.visited_at
    visit.mode = VisitMode(data.mode)
    visit.lead_visitor = data.lead_visitor
    visit.unit_id = data.lead_visitor.unit_id
    visit.campaign = data.campaign
    for name in ("output_plan", "orders_plan", "employment_plan", "investment_plan",
                 "policies_delivered"):
        setattr(visit, name, _blank(getattr(data, name)))
    visit.operating_status = data.operating_status.strip()
    visit.purposes = [VisitPurposeTag(purpose=VisitPurpose(p)) for p in dict.fromkeys(
        data.purposes) if p in VisitPurpose.__members__.values()]
    ids = dict.fromkeys([data.lead_visitor.id, *data.other_visitor_ids])
    known = set(db.session.scalars(sa.select(User.id).where(User.id.in_(list(ids)))))
    visit.visitors = [VisitVisitor(user_id=i) for i in ids if i in known]
    visit.contacts_met = [VisitContact(contact_id=c.id) for c in {c.id: c for c in met}.values()]
    confirmer = _confirmer(data, met, new)
    visit.confirmed_by_contact_id = confirmer
    visit.confirmed_at = data.confirmed_at if confirmer else None


def _confirmer(data: VisitData, met: list[Contact], new: Contact | None) -> int | None:
    if data.confirmed_by == "new":
        return new.id if new else None
    if data.confirmed_by in (None, "", 0):
        return None
    cid = int(data.confirmed_by)
    owner = db.session.scalar(sa.select(Contact.firm_id).where(Contact.id == cid))
    if owner != data.firm.id:
        raise FieldError("confirmed_by", _("The confirming contact must belong to the firm."))
    return cid


def record_visit(data: VisitData, actor: User) -> Visit:
    """Record a visit with its issue list; a plan it fulfils is marked done."""
    if not actor.can(P.VISIT_LOG):
        raise PermissionDenied(_("You may not record visits."))
    now = now_utc()
    _check(data, now)
    visit = Visit(created_by_id=actor.id, created_at=now, updated_at=now)
    _apply(visit, data)
    db.session.add(visit)
    db.session.flush()
    for issue in data.issues:
        _new_issue(visit, issue, actor)
    if data.plan is not None and data.plan.status == PlanStatus.PLANNED \
            and data.plan.can_be_completed_by(actor):
        data.plan.status, data.plan.visit_id = PlanStatus.DONE, visit.id
    db.session.flush()
    audit.record("visit.create", actor=actor, obj=visit,
                 details={"firm": data.firm.uscc, "issues": len(data.issues)})
    logger.info("visit %s to firm %s recorded by %s", visit.id, data.firm.uscc, actor.username)
    return visit


_TRACKED = ("visited_at", "mode", "lead_visitor_id", "campaign_id", "operating_status",
            "output_plan", "orders_plan", "employment_plan", "investment_plan",
            "policies_delivered", "confirmed_by_contact_id", "confirmed_at")


def update_visit(visit: Visit, data: VisitData, actor: User, reason: str | None = None) -> Visit:
    """Correct a visit: its visitors within the edit window, a supervisor later with a reason.

    Every change is audited with the fields before and after; a change after the lock is
    audited as ``visit.update_locked``.
    """
    settings, now = get_settings(), now_utc()
    if not visit.can_edit(actor, settings, now):
        raise PermissionDenied(_("This visit record is locked; ask a supervisor to change it."))
    locked = visit.is_locked(settings, now)
    if locked and not (reason or "").strip():
        raise FieldError("reason", _("Give the reason for changing a locked record."))
    _check(data, now)
    before = _snapshot(visit)
    data.firm = visit.firm  # the firm of a visit never changes
    _apply(visit, data)
    visit.updated_at = now
    db.session.flush()
    after = _snapshot(visit)
    changed = {k: [before[k], after[k]] for k in before if before[k] != after[k]}
    audit.record("visit.update_locked" if locked else "visit.update", actor=actor, obj=visit,
                 details={"changed": changed, **({"reason": reason.strip()} if locked else {})})
    return visit


def _snapshot(visit: Visit) -> dict[str, Any]:
    values = {k: getattr(visit, k) for k in _TRACKED}
    values = {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in values.items()}
    values["purposes"] = sorted(visit.purpose_values)
    values["visitors"] = sorted(visit.visitor_ids)
    values["contacts"] = sorted(r.contact_id for r in visit.contacts_met)
    return {k: (str(v) if hasattr(v, "value") else v) for k, v in values.items()}


# -- issues ------------------------------------------------------------------------------------


def _new_issue(visit: Visit, data: IssueData, actor: User) -> VisitIssue:
    if not (data.description or "").strip():
        raise FieldError("issues", _("Describe the issue."))
    issue = VisitIssue(visit=visit, category_id=data.category_id or None,
                       description=data.description.strip(),
                       is_solved_on_site=bool(data.is_solved_on_site),
                       solution=_blank(data.solution) if data.is_solved_on_site else None)
    db.session.add(issue)
    return issue


def add_issue(visit: Visit, data: IssueData, actor: User) -> VisitIssue:
    """Add an issue to a visit's list (allowed after the lock: follow-up never stops)."""
    if not visit.can_add_issues(actor):
        raise PermissionDenied(_("You may not add issues to this visit."))
    if data.is_solved_on_site and not (data.solution or "").strip():
        raise FieldError("solution", _("Say how the issue was solved on site."))
    issue = _new_issue(visit, data, actor)
    db.session.flush()
    audit.record("visit.issue_add", actor=actor, obj=issue, details={"visit": visit.id})
    return issue


def assign_issue(issue: VisitIssue, actor: User, *, demand_type: str = "help",
                 urgency: str = "normal", title: str | None = None, ip: str | None = None):
    """交办: turn an unsolved issue into a ticket (channel ``visit``) in one step.

    The ticket carries the firm, the category and the visit's context; the issue keeps the
    link (``issue.ticket_id``), so the ticket page can show where it came from.
    """
    from app.tickets.models import Channel, DemandType, ServiceMode, Urgency
    from app.tickets.services import create_ticket

    if not issue.visit.can_add_issues(actor) or not actor.can(P.TICKET_CREATE):
        raise PermissionDenied(_("You may not hand this issue over."))
    if issue.is_solved_on_site:
        raise ValidationFailed(_("This issue was solved on site; there is nothing to hand over."))
    if issue.ticket_id is not None:
        raise ValidationFailed(_("This issue has already been handed over."))
    visit = issue.visit
    ticket = create_ticket(
        actor, channel=Channel.VISIT, service_mode=ServiceMode.STANDARD,
        demand_type=DemandType(demand_type), urgency=Urgency(urgency),
        title=(title or issue.description).strip()[:200], firm=visit.firm,
        category=issue.category,
        description=_("%(text)s\n\n(Raised during the visit of %(day)s by %(lead)s.)",
                      text=issue.description, day=_local_day(visit.visited_at),
                      lead=visit.lead_visitor.display_name), ip=ip)
    issue.ticket, issue.assigned_at, issue.assigned_by_id = ticket, now_utc(), actor.id
    db.session.flush()
    audit.record("visit.issue_assign", actor=actor, obj=issue,
                 details={"visit": visit.id, "ticket": ticket.reference})
    return ticket


def solve_on_site(issue: VisitIssue, solution: str, actor: User) -> VisitIssue:
    """Record that an open issue was in fact solved on site."""
    if not issue.visit.can_add_issues(actor):
        raise PermissionDenied(_("You may not change this issue."))
    if issue.ticket_id is not None:
        raise ValidationFailed(_("This issue is handled as a ticket; it closes out with it."))
    if not (solution or "").strip():
        raise FieldError("solution", _("Say how the issue was solved on site."))
    issue.is_solved_on_site, issue.solution = True, solution.strip()
    db.session.flush()
    audit.record("visit.issue_solved_on_site", actor=actor, obj=issue)
    return issue


def record_recheck(issue: VisitIssue, is_still_resolved: bool, note: str,
                   actor: User) -> IssueRecheck:
    """回头看: a later check that a closed-out issue stays solved."""
    if not issue.visit.can_add_issues(actor):
        raise PermissionDenied(_("You may not re-check this issue."))
    if not issue.is_closed_out:
        raise ValidationFailed(_("Only closed-out issues are re-checked."))
    if not (note or "").strip():
        raise FieldError("note", _("Write what the re-check found."))
    row = IssueRecheck(issue_id=issue.id, checked_at=now_utc(), checked_by_id=actor.id,
                       is_still_resolved=bool(is_still_resolved), note=note.strip())
    db.session.add(row)
    db.session.flush()
    audit.record("visit.issue_recheck", actor=actor, obj=issue,
                 details={"still_resolved": bool(is_still_resolved)})
    return row


# -- attachments -------------------------------------------------------------------------------

#: Accepted types, recognised by their first bytes (the browser's claim is not trusted).
_SIGNATURES = (
    (b"\xff\xd8\xff", "image/jpeg", ".jpg"),
    (b"\x89PNG\r\n\x1a\n", "image/png", ".png"),
    (b"%PDF-", "application/pdf", ".pdf"),
)
MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024


def sniff_type(head: bytes) -> tuple[str, str] | None:
    """The content type and extension for a file's first bytes, or ``None`` if refused."""
    for magic, content_type, ext in _SIGNATURES:
        if head.startswith(magic):
            return content_type, ext
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp", ".webp"
    return None


def storage_dir() -> str:
    """Where attachment files live: outside the web root, under the instance folder."""
    path = current_app.config.get("VISIT_UPLOAD_DIR") or os.path.join(
        current_app.instance_path, "visit_attachments")
    os.makedirs(path, exist_ok=True)
    return path


def store_attachment(visit: Visit, filename: str, content: bytes, actor: User) -> VisitAttachment:
    """Keep a photo or PDF of the visit under a random name, after checking size and type."""
    if not visit.can_edit(actor, get_settings(), now_utc()):
        raise PermissionDenied(_("This visit record is locked."))
    limit = current_app.config.get("VISIT_MAX_ATTACHMENT_BYTES", MAX_ATTACHMENT_BYTES)
    if not content:
        raise FieldError("attachment", _("The file is empty."))
    if len(content) > limit:
        raise FieldError("attachment", _("The file is larger than %(mb)d MB.",
                                          mb=limit // (1024 * 1024)))
    kind = sniff_type(content[:16])
    if kind is None:
        raise FieldError("attachment", _("Only JPEG, PNG, WebP photos and PDF files are accepted."))
    stored = secrets.token_hex(16) + kind[1]
    with open(os.path.join(storage_dir(), stored), "wb") as handle:
        handle.write(content)
    row = VisitAttachment(visit_id=visit.id, original_name=os.path.basename(filename or "")[:255]
                          or stored, stored_name=stored, content_type=kind[0],
                          size_bytes=len(content), sha256=hashlib.sha256(content).hexdigest(),
                          uploaded_by_id=actor.id, created_at=now_utc())
    db.session.add(row)
    db.session.flush()
    audit.record("visit.attachment_add", actor=actor, obj=row, details={"visit": visit.id})
    return row


def attachment_path(row: VisitAttachment) -> str:
    """The file on disk (its name was generated by us, never by the uploader)."""
    return os.path.join(storage_dir(), row.stored_name)


# -- plans -------------------------------------------------------------------------------------


def plan_visit(user: User, firm: Firm, planned_on: date, actor: User, note: str | None = None,
               campaign: Campaign | None = None) -> VisitPlan:
    """Plan a visit by ``user`` (oneself, or a supervisor planning for someone)."""
    if not actor.can(P.VISIT_LOG):
        raise PermissionDenied(_("You may not plan visits."))
    if user.id != actor.id and not actor.can(P.VISIT_CAMPAIGN_MANAGE):
        raise PermissionDenied(_("You may only plan your own visits."))
    plan = VisitPlan(user=user, firm=firm, planned_on=planned_on, note=_blank(note),
                     campaign=campaign, status=PlanStatus.PLANNED)
    db.session.add(plan)
    db.session.flush()
    audit.record("visit.plan_create", actor=actor, obj=plan,
                 details={"firm": firm.uscc, "on": planned_on.isoformat()})
    return plan


def cancel_plan(plan: VisitPlan, actor: User) -> VisitPlan:
    """Cancel a plan that is not done."""
    if plan.user_id != actor.id and not actor.can(P.VISIT_CAMPAIGN_MANAGE):
        raise PermissionDenied(_("You may only cancel your own plans."))
    if plan.status != PlanStatus.PLANNED:
        raise ValidationFailed(_("Only planned visits can be cancelled."))
    plan.status = PlanStatus.CANCELLED
    db.session.flush()
    audit.record("visit.plan_cancel", actor=actor, obj=plan)
    return plan


# -- campaigns ---------------------------------------------------------------------------------


def create_campaign(name: str, starts_on: date, ends_on: date, visitor_ids: list[int],
                    actor: User, description: str | None = None) -> Campaign:
    """Open a visiting campaign with its assigned visitors."""
    if not actor.can(P.VISIT_CAMPAIGN_MANAGE):
        raise PermissionDenied(_("You may not manage campaigns."))
    if ends_on < starts_on:
        raise FieldError("ends_on", _("The campaign cannot end before it starts."))
    if db.session.scalar(sa.select(Campaign.id).where(Campaign.name == name.strip())):
        raise FieldError("name", _("A campaign with this name exists."))
    campaign = Campaign(name=name.strip(), starts_on=starts_on, ends_on=ends_on,
                        description=_blank(description), created_by_id=actor.id)
    campaign.visitors = [CampaignVisitor(user_id=i) for i in dict.fromkeys(visitor_ids)]
    db.session.add(campaign)
    db.session.flush()
    audit.record("visit.campaign_create", actor=actor, obj=campaign,
                 details={"visitors": len(campaign.visitors)})
    return campaign


def add_targets(campaign: Campaign, firm_ids: list[int], actor: User) -> int:
    """Add target firms, spreading new ones over the visitors (their commissioner first)."""
    if not actor.can(P.VISIT_CAMPAIGN_MANAGE):
        raise PermissionDenied(_("You may not manage campaigns."))
    existing = set(db.session.scalars(sa.select(CampaignTarget.firm_id).where(
        CampaignTarget.campaign_id == campaign.id)))
    visitors = [v.user_id for v in campaign.visitors]
    firms = db.session.execute(sa.select(Firm.id, Firm.commissioner_id).where(
        Firm.id.in_([i for i in firm_ids if i not in existing])).order_by(Firm.id)).all()
    for n, (firm_id, commissioner_id) in enumerate(firms):
        assignee = commissioner_id if commissioner_id in visitors else (
            visitors[n % len(visitors)] if visitors else None)
        db.session.add(CampaignTarget(campaign_id=campaign.id, firm_id=firm_id,
                                      assignee_id=assignee))
    db.session.flush()
    audit.record("visit.campaign_targets", actor=actor, obj=campaign,
                 details={"added": len(firms)})
    return len(firms)


def firm_ids_by_uscc(text: str) -> tuple[list[int], list[str]]:
    """Firm ids for the USCCs in ``text`` (one per line or comma-separated), and the unknown."""
    codes = [normalise(c) for c in text.replace(",", "\n").replace("，", "\n").splitlines()]
    codes = [c for c in dict.fromkeys(codes) if c]
    found = dict(db.session.execute(
        sa.select(Firm.uscc, Firm.id).where(Firm.uscc.in_(codes))).all())
    return [found[c] for c in codes if c in found], [c for c in codes if c not in found]


# -- small pieces ------------------------------------------------------------------------------


def _blank(value: str | None) -> str | None:
    value = (value or "").strip()
    return value or None


def _local_day(value: datetime) -> str:
    from app.core.clock import to_local

    return to_local(value).strftime("%Y-%m-%d %H:%M")
