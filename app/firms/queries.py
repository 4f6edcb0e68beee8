"""Firm list queries (SELECT statements; views paginate or export them)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa

from app.auth.models import User
from app.core.permissions import UNIT_ROLES
from app.core.search import key_contains, normalise_query
from app.firms.models import Area, CapitalOrigin, Firm, FirmTag, Industry, TagKind

#: ``?sort=`` values → ORDER BY; every one is backed by an index on ``firms``.
SORTS = {
    "name": (Firm.name.asc(), Firm.id.asc()),
    "-name": (Firm.name.desc(), Firm.id.desc()),
    "created": (Firm.created_at.asc(), Firm.id.asc()),
    "-created": (Firm.created_at.desc(), Firm.id.desc()),
    "employees": (Firm.employees.asc(), Firm.id.asc()),
    "-employees": (Firm.employees.desc(), Firm.id.desc()),
}


@dataclass
class FirmFilters:
    """What the list page was asked for (all optional; junk values are ignored)."""

    q: str = ""
    area: str = ""
    section: str = ""
    origin: str = ""
    tag: str = ""
    key: str = ""
    commissioner: str = ""
    status: str = "active"
    sort: str = "name"


def firms_query(filters: FirmFilters, today: date) -> sa.Select:
    """Firms matching the filters, in the requested order."""
    stmt = sa.select(Firm)
    if normalise_query(filters.q):
        stmt = stmt.where(key_contains(Firm.search_key, filters.q))
    if filters.area.isdigit():
        area_id = int(filters.area)
        # The area and the areas it contains, as one IN list: an index condition.
        stmt = stmt.where(Firm.area_id.in_(sa.select(Area.id).where(
            sa.or_(Area.id == area_id, Area.parent_id == area_id))))
    if len(filters.section) == 1:
        stmt = stmt.where(Firm.industry_section == filters.section)
    if filters.origin in CapitalOrigin.__members__.values():
        stmt = stmt.where(Firm.capital_origin == filters.origin)
    if filters.tag in TagKind.__members__.values():
        stmt = stmt.where(_holds_valid_tag(filters.tag, today))
    if filters.key in ("yes", "no"):
        # ``= true`` (not ``IS TRUE``) so the planner matches the key-firm partial index.
        stmt = stmt.where(Firm.is_key_firm == (filters.key == "yes"))
    if filters.commissioner.isdigit():
        stmt = stmt.where(Firm.commissioner_id == int(filters.commissioner))
    elif filters.commissioner == "none":
        stmt = stmt.where(Firm.commissioner_id.is_(None))
    if filters.status == "archived":
        stmt = stmt.where(Firm.archived_at.is_not(None))
    elif filters.status != "all":
        stmt = stmt.where(Firm.archived_at.is_(None))
    return stmt.order_by(*SORTS.get(filters.sort, SORTS["name"]))


def _holds_valid_tag(kind: str, today: date):
    return sa.exists().where(
        FirmTag.firm_id == Firm.id, FirmTag.kind == kind,
        sa.or_(FirmTag.valid_until.is_(None), FirmTag.valid_until >= today))


def areas() -> sa.Select:
    """Areas in their seeded order."""
    return sa.select(Area).order_by(Area.position, Area.id)


def industry_sections() -> sa.Select:
    """The GB/T 4754 sections A–T."""
    return sa.select(Industry).where(sa.func.length(Industry.code) == 1).order_by(Industry.code)


def commissioner_candidates() -> sa.Select:
    """Active unit staff who may serve firms."""
    return (sa.select(User).where(User.is_active.is_(True), User.role.in_(list(UNIT_ROLES)))
            .order_by(User.display_name))


def industry_names(codes) -> sa.Select:
    """Names of the given industry codes (sections and any seeded classes)."""
    return sa.select(Industry.code, Industry.name).where(Industry.code.in_(list(codes)))
