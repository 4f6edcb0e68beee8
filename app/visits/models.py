"""Enterprise visits (企业走访): visits, issue lists, campaigns, plans, settings (DOMAIN §5)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from enum import StrEnum

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.permissions import Permission
from app.db import TimestampMixin, UTCDateTime, enum_type
from app.extensions import db


class VisitMode(StrEnum):
    """How the visit took place."""

    ONSITE = "onsite"
    PHONE = "phone"
    VIDEO = "video"
    MEETING = "meeting"
    WECHAT = "wechat"


MODE_LABELS = {
    VisitMode.ONSITE: _l("On site"),
    VisitMode.PHONE: _l("Phone"),
    VisitMode.VIDEO: _l("Video call"),
    VisitMode.MEETING: _l("Meeting"),
    VisitMode.WECHAT: _l("WeChat"),
}


class VisitPurpose(StrEnum):
    """Why the visit was made; the first four are the 四下基层 forms of grassroots work."""

    POLICY_PUBLICITY = "policy_publicity"
    RESEARCH = "research"
    PETITION_RECEPTION = "petition_reception"
    ONSITE_OFFICE = "onsite_office"
    ROUTINE_LIAISON = "routine_liaison"
    KEY_PROJECT = "key_project"


PURPOSE_LABELS = {
    VisitPurpose.POLICY_PUBLICITY: _l("Policy publicity"),
    VisitPurpose.RESEARCH: _l("Research"),
    VisitPurpose.PETITION_RECEPTION: _l("Petition reception"),
    VisitPurpose.ONSITE_OFFICE: _l("On-site office"),
    VisitPurpose.ROUTINE_LIAISON: _l("Routine liaison"),
    VisitPurpose.KEY_PROJECT: _l("Key project"),
}


class PlanStatus(StrEnum):
    """Stored plan states; ``overdue`` is derived from the date and the clock, never stored."""

    PLANNED = "planned"
    DONE = "done"
    CANCELLED = "cancelled"


PLAN_STATUS_LABELS = {
    "planned": _l("Planned"),
    "done": _l("Done"),
    "cancelled": _l("Cancelled"),
    "overdue": _l("Overdue"),
}


class VisitSettings(db.Model):
    """The single row of visit settings (DOMAIN §5 [cfg]), editable by administrators."""

    __tablename__ = "visit_settings"
    __table_args__ = (
        sa.CheckConstraint("id = 1", name="single_row"),
        sa.CheckConstraint("edit_window_days >= 0", name="edit_window_not_negative"),
        sa.CheckConstraint("key_firm_cadence_months > 0 AND other_firm_cadence_months > 0",
                           name="cadence_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True, default=1)
    #: A visit record may be changed by its author for this many days, then it is locked.
    edit_window_days: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=7)
    #: DOMAIN §5: key enterprises are visited quarterly…
    key_firm_cadence_months: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=3)
    #: …and every other firm yearly.
    other_firm_cadence_months: Mapped[int] = mapped_column(sa.Integer, nullable=False,
                                                           default=12)
    #: Comma-separated modes that count for coverage and cadence (a chat message is no visit).
    qualifying_modes: Mapped[str] = mapped_column(sa.String(100), nullable=False,
                                                  default="onsite,video,meeting")
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))

    @property
    def qualifying_mode_list(self) -> list[str]:
        """The modes that count, as a list."""
        return [m for m in self.qualifying_modes.split(",") if m]


class Campaign(TimestampMixin, db.Model):
    """A visiting campaign (企业大走访): a period, target firms and assigned visitors."""

    __tablename__ = "visit_campaigns"
    __table_args__ = (sa.CheckConstraint("ends_on >= starts_on", name="period_ordered"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(120), unique=True, nullable=False)
    starts_on: Mapped[date] = mapped_column(sa.Date, nullable=False)
    ends_on: Mapped[date] = mapped_column(sa.Date, nullable=False)
    description: Mapped[str | None] = mapped_column(sa.Text)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))

    visitors = relationship("CampaignVisitor", back_populates="campaign",
                            cascade="all, delete-orphan", lazy="selectin")

    def __repr__(self) -> str:
        return f"<Campaign {self.id} {self.name}>"


class CampaignVisitor(db.Model):
    """A staff member assigned to a campaign."""

    __tablename__ = "visit_campaign_visitors"

    campaign_id: Mapped[int] = mapped_column(sa.ForeignKey("visit_campaigns.id"),
                                             primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), primary_key=True)

    campaign = relationship("Campaign", back_populates="visitors")
    user = relationship("User", lazy="joined")


class CampaignTarget(db.Model):
    """A firm the campaign must reach, with the visitor it is assigned to."""

    __tablename__ = "visit_campaign_targets"
    __table_args__ = (sa.Index("ix_visit_campaign_targets_assignee_id", "assignee_id"),)

    campaign_id: Mapped[int] = mapped_column(sa.ForeignKey("visit_campaigns.id"),
                                             primary_key=True)
    firm_id: Mapped[int] = mapped_column(sa.ForeignKey("firms.id"), primary_key=True)
    assignee_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))

    firm = relationship("Firm", lazy="joined")
    assignee = relationship("User", lazy="joined")


class Visit(TimestampMixin, db.Model):
    """One visit to one firm, with who went, whom they met, what they heard and delivered."""

    __tablename__ = "visits"
    __table_args__ = (
        sa.CheckConstraint("(confirmed_at IS NULL) = (confirmed_by_contact_id IS NULL)",
                           name="confirmation_complete"),
        sa.Index("ix_visits_firm_id_visited_at", "firm_id", "visited_at"),
        sa.Index("ix_visits_visited_at", "visited_at"),
        sa.Index("ix_visits_unit_id_visited_at", "unit_id", "visited_at"),
        sa.Index("ix_visits_lead_visitor_id", "lead_visitor_id"),
        sa.Index("ix_visits_campaign_id", "campaign_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    firm_id: Mapped[int] = mapped_column(sa.ForeignKey("firms.id"), nullable=False)
    visited_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    mode: Mapped[VisitMode] = mapped_column(enum_type(VisitMode, "visit_mode"), nullable=False)
    lead_visitor_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), nullable=False)
    #: The lead visitor's unit at the time of the visit (units own their visits).
    unit_id: Mapped[int] = mapped_column(sa.ForeignKey("units.id"), nullable=False)
    campaign_id: Mapped[int | None] = mapped_column(sa.ForeignKey("visit_campaigns.id"))
    operating_status: Mapped[str] = mapped_column(sa.Text, nullable=False)
    output_plan: Mapped[str | None] = mapped_column(sa.Text)
    orders_plan: Mapped[str | None] = mapped_column(sa.Text)
    employment_plan: Mapped[str | None] = mapped_column(sa.Text)
    investment_plan: Mapped[str | None] = mapped_column(sa.Text)
    policies_delivered: Mapped[str | None] = mapped_column(sa.Text)
    confirmed_by_contact_id: Mapped[int | None] = mapped_column(sa.ForeignKey("contacts.id"))
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))

    firm = relationship("Firm", lazy="joined", innerjoin=True)
    lead_visitor = relationship("User", foreign_keys=[lead_visitor_id], lazy="joined",
                                innerjoin=True)
    unit = relationship("Unit", lazy="joined", innerjoin=True)
    campaign = relationship("Campaign", lazy="joined")
    confirmed_by = relationship("Contact", foreign_keys=[confirmed_by_contact_id])
    created_by = relationship("User", foreign_keys=[created_by_id])
    purposes = relationship("VisitPurposeTag", cascade="all, delete-orphan", lazy="selectin",
                            order_by="VisitPurposeTag.purpose")
    visitors = relationship("VisitVisitor", cascade="all, delete-orphan", lazy="selectin")
    contacts_met = relationship("VisitContact", cascade="all, delete-orphan", lazy="selectin")
    issues = relationship("VisitIssue", back_populates="visit", cascade="all, delete-orphan",
                          order_by="VisitIssue.id", lazy="select")
    attachments = relationship("VisitAttachment", cascade="all, delete-orphan",
                               order_by="VisitAttachment.id", lazy="select")

    def __repr__(self) -> str:
        return f"<Visit {self.id} firm={self.firm_id}>"

    @property
    def visitor_ids(self) -> set[int]:
        """Everyone who went, lead included."""
        return {row.user_id for row in self.visitors} | {self.lead_visitor_id}

    @property
    def purpose_values(self) -> list[str]:
        """The purpose tags as plain values."""
        return [str(row.purpose) for row in self.purposes]

    def locks_at(self, settings: VisitSettings) -> datetime:
        """When the record stops being editable by its visitors."""
        return self.created_at + timedelta(days=settings.edit_window_days)

    def is_locked(self, settings: VisitSettings, now: datetime) -> bool:
        """Past the edit window: only a supervisor may change it, and that is audited."""
        return now >= self.locks_at(settings)

    def can_view(self, user) -> bool:
        """Supervisors see all; handlers the visits of their unit, of firms they serve, and
        their own. Firm users never see internal visit notes.

        :func:`app.visits.queries.visibility_clause` is the same rule in SQL.
        """
        if user is None or not getattr(user, "is_authenticated", False):
            return False
        if user.can(Permission.VISIT_VIEW_ALL):
            return True
        if not user.can(Permission.VISIT_VIEW_UNIT):
            return False
        return (self.unit_id == user.unit_id or self.firm.commissioner_id == user.id
                or user.id in self.visitor_ids)

    def can_edit(self, user, settings: VisitSettings, now: datetime) -> bool:
        """Its visitors within the edit window; a supervisor at any time (audited)."""
        if not self.can_view(user):
            return False
        if user.can(Permission.VISIT_EDIT_LOCKED):
            return True
        return (user.can(Permission.VISIT_LOG) and not self.is_locked(settings, now)
                and (user.id in self.visitor_ids or user.id == self.created_by_id))

    def can_add_issues(self, user) -> bool:
        """Issue follow-up (交办, re-checks) stays open after the record locks."""
        return self.can_view(user) and user.can(Permission.VISIT_LOG)


class VisitPurposeTag(db.Model):
    """One purpose tag of a visit."""

    __tablename__ = "visit_purposes"

    visit_id: Mapped[int] = mapped_column(sa.ForeignKey("visits.id"), primary_key=True)
    purpose: Mapped[VisitPurpose] = mapped_column(enum_type(VisitPurpose, "visit_purpose"),
                                                  primary_key=True)


class VisitVisitor(db.Model):
    """A staff member who took part in the visit (the lead visitor is one of them)."""

    __tablename__ = "visit_visitors"
    __table_args__ = (sa.Index("ix_visit_visitors_user_id", "user_id"),)

    visit_id: Mapped[int] = mapped_column(sa.ForeignKey("visits.id"), primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), primary_key=True)

    user = relationship("User", lazy="joined")


class VisitContact(db.Model):
    """A person of the firm met during the visit."""

    __tablename__ = "visit_contacts"

    visit_id: Mapped[int] = mapped_column(sa.ForeignKey("visits.id"), primary_key=True)
    contact_id: Mapped[int] = mapped_column(sa.ForeignKey("contacts.id"), primary_key=True)

    contact = relationship("Contact", lazy="joined")


class VisitAttachment(db.Model):
    """A photo or file from the visit; the content is stored outside the web root."""

    __tablename__ = "visit_attachments"
    __table_args__ = (
        sa.CheckConstraint("size_bytes >= 0", name="size_not_negative"),
        sa.Index("ix_visit_attachments_visit_id", "visit_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    visit_id: Mapped[int] = mapped_column(sa.ForeignKey("visits.id"), nullable=False)
    original_name: Mapped[str] = mapped_column(sa.String(255), nullable=False)
    stored_name: Mapped[str] = mapped_column(sa.String(64), unique=True, nullable=False)
    content_type: Mapped[str] = mapped_column(sa.String(100), nullable=False)
    size_bytes: Mapped[int] = mapped_column(sa.Integer, nullable=False)
    sha256: Mapped[str] = mapped_column(sa.String(64), nullable=False)
    uploaded_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)


#: Closure kinds of a ticket whose follow-up can be satisfactory (a level was given).
_RATED_CLOSURES = ("rated", "followed_up")
#: DOMAIN §4: levels 3–5 are satisfied.
SATISFIED_LEVEL = 3


class VisitIssue(TimestampMixin, db.Model):
    """One issue raised during a visit (问题清单): solved on site, or handed over as a ticket."""

    __tablename__ = "visit_issues"
    __table_args__ = (
        sa.CheckConstraint("NOT (is_solved_on_site AND ticket_id IS NOT NULL)",
                           name="solved_on_site_has_no_ticket"),
        sa.CheckConstraint("(assigned_at IS NULL) = (ticket_id IS NULL)",
                           name="assigned_with_ticket"),
        sa.Index("ix_visit_issues_visit_id", "visit_id"),
        sa.Index("ix_visit_issues_ticket_id", "ticket_id", unique=True),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    visit_id: Mapped[int] = mapped_column(sa.ForeignKey("visits.id"), nullable=False)
    category_id: Mapped[int | None] = mapped_column(sa.ForeignKey("ticket_categories.id"))
    description: Mapped[str] = mapped_column(sa.Text, nullable=False)
    is_solved_on_site: Mapped[bool] = mapped_column(sa.Boolean, nullable=False, default=False)
    solution: Mapped[str | None] = mapped_column(sa.Text)
    #: The ticket this issue became (交办); the link back is this foreign key.
    ticket_id: Mapped[int | None] = mapped_column(sa.ForeignKey("tickets.id"))
    assigned_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    assigned_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))

    visit = relationship("Visit", back_populates="issues")
    category = relationship("Category", lazy="joined")
    ticket = relationship("Ticket", lazy="joined")
    rechecks = relationship("IssueRecheck", cascade="all, delete-orphan",
                            order_by="IssueRecheck.checked_at", lazy="select")

    @property
    def is_closed_out(self) -> bool:
        """销号: solved on site, or its ticket closed with a satisfied follow-up (level ≥ 3).

        Derived from the ticket each time, so a reopened ticket reopens the issue too.
        :func:`app.visits.queries.closed_out_clause` is the same rule in SQL.
        """
        if self.is_solved_on_site:
            return True
        t = self.ticket
        return (t is not None and str(t.status) == "closed"
                and str(t.closure_kind) in _RATED_CLOSURES
                and (t.rating_level or 0) >= SATISFIED_LEVEL)

    @property
    def state(self) -> str:
        """``solved_on_site``, ``closed_out``, ``assigned`` or ``open`` for display."""
        if self.is_solved_on_site:
            return "solved_on_site"
        if self.is_closed_out:
            return "closed_out"
        return "assigned" if self.ticket_id else "open"


ISSUE_STATE_LABELS = {
    "solved_on_site": _l("Solved on site"),
    "closed_out": _l("Closed out"),
    "assigned": _l("Handed over as a ticket"),
    "open": _l("Open"),
}


class IssueRecheck(db.Model):
    """A later re-check (回头看) of an issue: is it still solved?"""

    __tablename__ = "visit_issue_rechecks"
    __table_args__ = (sa.Index("ix_visit_issue_rechecks_issue_id", "issue_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    issue_id: Mapped[int] = mapped_column(sa.ForeignKey("visit_issues.id"), nullable=False)
    checked_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    checked_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), nullable=False)
    is_still_resolved: Mapped[bool] = mapped_column(sa.Boolean, nullable=False)
    note: Mapped[str] = mapped_column(sa.Text, nullable=False)

    checked_by = relationship("User", lazy="joined")


class VisitPlan(TimestampMixin, db.Model):
    """A planned visit by one person to one firm on a date."""

    __tablename__ = "visit_plans"
    __table_args__ = (
        sa.CheckConstraint("(status = 'done') = (visit_id IS NOT NULL)", name="done_has_visit"),
        sa.Index("ix_visit_plans_user_id_planned_on", "user_id", "planned_on"),
        sa.Index("ix_visit_plans_firm_id", "firm_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), nullable=False)
    firm_id: Mapped[int] = mapped_column(sa.ForeignKey("firms.id"), nullable=False)
    planned_on: Mapped[date] = mapped_column(sa.Date, nullable=False)
    status: Mapped[PlanStatus] = mapped_column(enum_type(PlanStatus, "visit_plan_status"),
                                               nullable=False, default=PlanStatus.PLANNED)
    note: Mapped[str | None] = mapped_column(sa.String(300))
    campaign_id: Mapped[int | None] = mapped_column(sa.ForeignKey("visit_campaigns.id"))
    visit_id: Mapped[int | None] = mapped_column(sa.ForeignKey("visits.id"))

    user = relationship("User", lazy="joined", innerjoin=True)
    firm = relationship("Firm", lazy="joined", innerjoin=True)
    campaign = relationship("Campaign")
    visit = relationship("Visit")

    def can_be_completed_by(self, user) -> bool:
        """A plan is done by its owner's visit, or when a supervisor (who plans for others)
        records it; anyone else's visit leaves it planned (issue 15, finding 5)."""
        return self.user_id == user.id or user.can(Permission.VISIT_CAMPAIGN_MANAGE)

    def display_status(self, today: date) -> str:
        """``overdue`` when still planned after its date (derived from the clock)."""
        if self.status == PlanStatus.PLANNED and self.planned_on < today:
            return "overdue"
        return str(self.status)
