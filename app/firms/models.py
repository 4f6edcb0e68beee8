"""Firms (企业档案): areas, industries, firms, their tags, contacts and name history (DOMAIN §2)."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.auth.models import User
from app.core.permissions import UNIT_ROLES, Permission
from app.db import TimestampMixin, UTCDateTime, enum_type
from app.extensions import db


class CapitalOrigin(StrEnum):
    """Where the firm's capital comes from; Taiwan investment is a service priority in Kunshan."""

    DOMESTIC = "domestic"
    TAIWAN = "taiwan"
    HONG_KONG = "hong_kong"
    MACAO = "macao"
    FOREIGN = "foreign"
    MIXED = "mixed"


CAPITAL_ORIGIN_LABELS = {
    CapitalOrigin.DOMESTIC: _l("Domestic"),
    CapitalOrigin.TAIWAN: _l("Taiwan"),
    CapitalOrigin.HONG_KONG: _l("Hong Kong"),
    CapitalOrigin.MACAO: _l("Macao"),
    CapitalOrigin.FOREIGN: _l("Foreign"),
    CapitalOrigin.MIXED: _l("Mixed (joint venture)"),
}


class LegalForm(StrEnum):
    """The legal form on the business licence."""

    LIMITED_LIABILITY = "limited_liability"
    JOINT_STOCK = "joint_stock"
    SOLE_PROPRIETORSHIP = "sole_proprietorship"
    PARTNERSHIP = "partnership"
    INDIVIDUAL_BUSINESS = "individual_business"
    BRANCH = "branch"
    OTHER = "other"


LEGAL_FORM_LABELS = {
    LegalForm.LIMITED_LIABILITY: _l("Limited liability company"),
    LegalForm.JOINT_STOCK: _l("Joint-stock company"),
    LegalForm.SOLE_PROPRIETORSHIP: _l("Sole proprietorship"),
    LegalForm.PARTNERSHIP: _l("Partnership"),
    LegalForm.INDIVIDUAL_BUSINESS: _l("Individual business"),
    LegalForm.BRANCH: _l("Branch"),
    LegalForm.OTHER: _l("Other"),
}


class TagKind(StrEnum):
    """Recognitions a firm holds (DOMAIN §2)."""

    HIGH_TECH = "high_tech"
    SPECIALISED = "specialised"
    LITTLE_GIANT = "little_giant"
    GAZELLE = "gazelle"
    UNICORN = "unicorn"
    LISTED = "listed"
    ABOVE_SCALE = "above_scale"


TAG_KIND_LABELS = {
    TagKind.HIGH_TECH: _l("High-tech enterprise"),
    TagKind.SPECIALISED: _l("Specialised and innovative (SRDI)"),
    TagKind.LITTLE_GIANT: _l("SRDI \"little giant\""),
    TagKind.GAZELLE: _l("Gazelle enterprise"),
    TagKind.UNICORN: _l("Unicorn enterprise"),
    TagKind.LISTED: _l("Listed company"),
    TagKind.ABOVE_SCALE: _l("Above designated size"),
}


class TagLevel(StrEnum):
    """Which government granted the recognition."""

    NATIONAL = "national"
    PROVINCIAL = "provincial"
    MUNICIPAL = "municipal"
    COUNTY = "county"


TAG_LEVEL_LABELS = {
    TagLevel.NATIONAL: _l("National"),
    TagLevel.PROVINCIAL: _l("Provincial"),
    TagLevel.MUNICIPAL: _l("Municipal"),
    TagLevel.COUNTY: _l("County level"),
}


class Area(db.Model):
    """An area (区镇) of Kunshan; some contain others (the resort area covers three towns)."""

    __tablename__ = "areas"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(50), unique=True, nullable=False)
    parent_id: Mapped[int | None] = mapped_column(sa.ForeignKey("areas.id"))
    position: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=0)

    parent: Mapped[Area | None] = relationship(remote_side=[id])

    def __repr__(self) -> str:
        return f"<Area {self.id} {self.name}>"


class Industry(db.Model):
    """A GB/T 4754 section (``C``) or 4-digit class (``C3911``).

    Sections carry the range of two-digit divisions they contain, so any 4-digit class can be
    checked and placed in its section even when the class itself has no row.
    """

    __tablename__ = "industries"
    __table_args__ = (
        sa.CheckConstraint("substr(code, 1, 1) = section", name="code_in_section"),
    )

    code: Mapped[str] = mapped_column(sa.String(5), primary_key=True)
    section: Mapped[str] = mapped_column(sa.String(1), nullable=False)
    name: Mapped[str] = mapped_column(sa.String(100), nullable=False)
    division_from: Mapped[int | None] = mapped_column(sa.Integer)
    division_to: Mapped[int | None] = mapped_column(sa.Integer)

    def __repr__(self) -> str:
        return f"<Industry {self.code}>"


#: The columns the firm list filters on (besides the search key and tags).
FILTER_COLUMNS = ("archived_at", "area_id", "industry_section", "capital_origin", "is_key_firm",
                  "commissioner_id")


class Firm(TimestampMixin, db.Model):
    """A firm, identified for life by its USCC. Archived, never deleted."""

    __tablename__ = "firms"
    __table_args__ = (
        sa.CheckConstraint("NOT is_key_firm OR commissioner_id IS NOT NULL",
                           name="key_firm_has_commissioner"),
        sa.CheckConstraint("employees IS NULL OR employees >= 0", name="employees_not_negative"),
        sa.CheckConstraint("substr(industry_code, 1, 1) = industry_section",
                           name="industry_code_in_section"),
        # One index per list order, ending in the id tie-break and carrying every filter
        # column: a page's ids are read from the index alone, even at OFFSET 50,000.
        *(sa.Index(f"ix_firms_{column}_id", column, "id", postgresql_include=list(FILTER_COLUMNS))
          for column in ("name", "created_at", "employees")),
        # The common filter combinations among active firms: counted from the index alone.
        sa.Index("ix_firms_active_area_section_origin", "area_id", "industry_section",
                 "capital_origin", postgresql_where=sa.text("archived_at IS NULL"),
                 sqlite_where=sa.text("archived_at IS NULL")),
        sa.Index("ix_firms_active_origin_section", "capital_origin", "industry_section",
                 postgresql_where=sa.text("archived_at IS NULL"),
                 sqlite_where=sa.text("archived_at IS NULL")),
        sa.Index("ix_firms_active_key_commissioner_id_id", "commissioner_id", "id",
                 postgresql_where=sa.text("is_key_firm AND archived_at IS NULL"),
                 sqlite_where=sa.text("is_key_firm AND archived_at IS NULL")),
        # Active firms by id: a tag filter is answered from the tags, each checked here.
        sa.Index("ix_firms_active_id", "id", postgresql_where=sa.text("archived_at IS NULL"),
                 sqlite_where=sa.text("archived_at IS NULL")),
        sa.Index("ix_firms_area_id", "area_id"),
        sa.Index("ix_firms_industry_section", "industry_section"),
        sa.Index("ix_firms_capital_origin", "capital_origin"),
        sa.Index("ix_firms_commissioner_id", "commissioner_id"),
        sa.Index("ix_firms_is_key_firm", "is_key_firm"),
        sa.Index("ix_firms_archived_at", "archived_at"),
        sa.Index("ix_firms_search_key_trgm", "search_key", postgresql_using="gin",
                 postgresql_ops={"search_key": "gin_trgm_ops"}),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    uscc: Mapped[str] = mapped_column(sa.String(18), unique=True, nullable=False)
    name: Mapped[str] = mapped_column(sa.String(200), nullable=False)
    english_name: Mapped[str | None] = mapped_column(sa.String(200))
    #: Simplified, lower-cased name, former names, English name, USCC and contact names: the
    #: one column searched, so a query typed in Traditional characters finds Simplified names.
    search_key: Mapped[str] = mapped_column(sa.Text, nullable=False, default="")
    area_id: Mapped[int] = mapped_column(sa.ForeignKey("areas.id"), nullable=False)
    industry_code: Mapped[str] = mapped_column(sa.String(5), nullable=False)
    industry_section: Mapped[str] = mapped_column(sa.String(1), sa.ForeignKey("industries.code"),
                                                  nullable=False)
    legal_form: Mapped[LegalForm] = mapped_column(enum_type(LegalForm, "legal_form"),
                                                  nullable=False)
    capital_origin: Mapped[CapitalOrigin] = mapped_column(
        enum_type(CapitalOrigin, "capital_origin"), nullable=False)
    address: Mapped[str | None] = mapped_column(sa.String(300))
    employees: Mapped[int | None] = mapped_column(sa.Integer)
    is_key_firm: Mapped[bool] = mapped_column(sa.Boolean, nullable=False, default=False)
    commissioner_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    archived_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    area: Mapped[Area] = relationship(lazy="joined", innerjoin=True)
    section: Mapped[Industry] = relationship(lazy="joined", innerjoin=True)
    commissioner: Mapped[User | None] = relationship(lazy="joined",
                                                     foreign_keys=[commissioner_id])
    tags: Mapped[list[FirmTag]] = relationship(
        back_populates="firm", lazy="selectin", order_by="FirmTag.kind")
    contacts: Mapped[list[Contact]] = relationship(
        back_populates="firm", lazy="select",
        order_by="(Contact.is_primary.desc(), Contact.id)")

    def __repr__(self) -> str:
        return f"<Firm {self.id} {self.uscc}>"

    @hybrid_property
    def is_taiwan_invested(self) -> bool:
        """Derived from the capital origin, never stored separately."""
        return self.capital_origin == CapitalOrigin.TAIWAN

    @is_taiwan_invested.inplace.expression
    @classmethod
    def _is_taiwan_invested(cls):
        return cls.capital_origin == CapitalOrigin.TAIWAN.value

    @property
    def is_archived(self) -> bool:
        """Archived firms stay readable but are hidden from the default list."""
        return self.archived_at is not None

    def can_edit(self, user) -> bool:
        """Dispatchers and admins edit the profile."""
        return user.can(Permission.FIRM_EDIT)

    def can_edit_contacts_and_tags(self, user) -> bool:
        """Editors, and the firm's own service commissioner."""
        if user.can(Permission.FIRM_EDIT):
            return True
        return user.can(Permission.FIRM_EDIT_SERVED) and self.commissioner_id == user.id


def can_be_commissioner(user: User) -> bool:
    """Service commissioners are active staff who belong to a unit."""
    return bool(user and user.is_active and user.role in UNIT_ROLES)


class FirmNameChange(db.Model):
    """One change of legal name; the USCC never changes, names do (DOMAIN §2)."""

    __tablename__ = "firm_name_changes"
    __table_args__ = (sa.Index("ix_firm_name_changes_firm_id", "firm_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    firm_id: Mapped[int] = mapped_column(sa.ForeignKey("firms.id"), nullable=False)
    old_name: Mapped[str] = mapped_column(sa.String(200), nullable=False)
    new_name: Mapped[str] = mapped_column(sa.String(200), nullable=False)
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    changed_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))

    changed_by: Mapped[User | None] = relationship(lazy="joined")


class FirmTag(db.Model):
    """A recognition with its level and validity; an expired tag stays, shown as expired."""

    __tablename__ = "firm_tags"
    __table_args__ = (
        sa.Index("ix_firm_tags_firm_id", "firm_id"),
        sa.Index("ix_firm_tags_kind_firm_id", "kind", "firm_id"),
        sa.CheckConstraint("valid_until IS NULL OR certified_on IS NULL "
                           "OR valid_until >= certified_on", name="validity_ordered"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    firm_id: Mapped[int] = mapped_column(sa.ForeignKey("firms.id"), nullable=False)
    kind: Mapped[TagKind] = mapped_column(enum_type(TagKind, "tag_kind"), nullable=False)
    level: Mapped[TagLevel | None] = mapped_column(enum_type(TagLevel, "tag_level"))
    certified_on: Mapped[date | None] = mapped_column(sa.Date)
    valid_until: Mapped[date | None] = mapped_column(sa.Date)
    certificate_no: Mapped[str | None] = mapped_column(sa.String(64))
    #: For listed companies: the exchange and the ticker.
    exchange: Mapped[str | None] = mapped_column(sa.String(50))
    ticker: Mapped[str | None] = mapped_column(sa.String(20))

    firm: Mapped[Firm] = relationship(back_populates="tags")

    def is_expired(self, today: date) -> bool:
        """Past its validity date (Beijing calendar day)."""
        return self.valid_until is not None and self.valid_until < today


class Contact(db.Model):
    """A person at the firm; the mobile number is masked wherever it is listed (DOMAIN §8)."""

    __tablename__ = "contacts"
    __table_args__ = (sa.Index("ix_contacts_firm_id", "firm_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    firm_id: Mapped[int] = mapped_column(sa.ForeignKey("firms.id"), nullable=False)
    name: Mapped[str] = mapped_column(sa.String(64), nullable=False)
    title: Mapped[str | None] = mapped_column(sa.String(64))
    mobile: Mapped[str | None] = mapped_column(sa.String(20))
    email: Mapped[str | None] = mapped_column(sa.String(254))
    is_legal_representative: Mapped[bool] = mapped_column(sa.Boolean, nullable=False,
                                                          default=False)
    is_primary: Mapped[bool] = mapped_column(sa.Boolean, nullable=False, default=False)

    firm: Mapped[Firm] = relationship(back_populates="contacts")


class LegacyUscc(db.Model):
    """A 2015 pilot code that is legal but fails the check character, accepted by a supervisor.

    Recording the acceptance (who, when, why) once lets forms and imports use the code; the
    acceptance itself is audited.
    """

    __tablename__ = "legacy_usccs"

    id: Mapped[int] = mapped_column(primary_key=True)
    uscc: Mapped[str] = mapped_column(sa.String(18), unique=True, nullable=False)
    reason: Mapped[str] = mapped_column(sa.Text, nullable=False)
    accepted_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), nullable=False)
    accepted_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)

    accepted_by: Mapped[User] = relationship(lazy="joined")
