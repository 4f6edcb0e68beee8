"""The dispatch suggestion: which unit should lead a ticket, and why (DOMAIN §3).

The dispatcher always chooses; the page only *suggests*, each unit with the rule behind it:

1. the dispatch catalogue [cfg]: the ticket's category → its lead unit;
2. 涉台 (a mark beside the category): the Taiwan affairs office — the lead unit of the 涉台事务
   category's rule — assists, or leads when no other rule names a lead;
3. the firm's area: when nothing above names a lead, the area management body whose name starts
   with the firm's area (昆山开发区 → 昆山开发区管委会).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import sqlalchemy as sa
from flask_babel import gettext as _

from app.auth.models import Unit, UnitKind
from app.extensions import db
from app.tickets.models import Category, DispatchRule, Ticket

#: The category whose rule names the Taiwan affairs office (the one-stop service centre).
TAIWAN_CATEGORY_CODES = ("taiwan", "taiwan_affairs")
TAIWAN_CATEGORY_NAME = "涉台事务"


@dataclass
class Suggestion:
    """A suggested lead unit, assisting units, and one reason per suggested unit."""

    lead: Unit | None = None
    assisting: list[Unit] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)


def taiwan_category() -> Category | None:
    """The 涉台事务 category, by code or name."""
    return db.session.scalar(sa.select(Category).where(sa.or_(
        Category.code.in_(TAIWAN_CATEGORY_CODES), Category.name == TAIWAN_CATEGORY_NAME))
        .order_by(Category.id).limit(1))


def taiwan_office() -> Unit | None:
    """The Taiwan affairs office: the lead unit of the 涉台事务 category's active rule."""
    return db.session.scalar(
        sa.select(Unit).join(DispatchRule, DispatchRule.lead_unit_id == Unit.id)
        .join(Category, Category.id == DispatchRule.category_id)
        .where(DispatchRule.is_active.is_(True), Unit.is_active.is_(True),
               sa.or_(Category.code.in_(TAIWAN_CATEGORY_CODES),
                      Category.name == TAIWAN_CATEGORY_NAME))
        .order_by(DispatchRule.id).limit(1))


def suggest(ticket: Ticket) -> Suggestion:
    """The units the rules suggest for ``ticket``, each with its reason."""
    suggestion = Suggestion()
    rule = _category_rule(ticket)
    if rule is not None:
        suggestion.lead = rule.lead_unit
        suggestion.reasons.append(_("Dispatch catalogue: %(category)s → %(unit)s.",
                                    category=rule.category.name, unit=rule.lead_unit.name))
    if ticket.is_taiwan_related:
        _add_taiwan_office(suggestion)
    if suggestion.lead is None:
        _add_area_body(suggestion, ticket)
    return suggestion


def _category_rule(ticket: Ticket) -> DispatchRule | None:
    if ticket.category_id is None:
        return None
    return db.session.scalar(sa.select(DispatchRule).join(DispatchRule.lead_unit).where(
        DispatchRule.category_id == ticket.category_id, DispatchRule.is_active.is_(True),
        Unit.is_active.is_(True)))


def _add_taiwan_office(suggestion: Suggestion) -> None:
    office = taiwan_office()
    if office is None:
        return
    if suggestion.lead is None:
        suggestion.lead = office
        suggestion.reasons.append(_("涉台: the %(unit)s leads (no catalogue rule for the "
                                    "category).", unit=office.name))
    elif suggestion.lead.id != office.id:
        suggestion.assisting.append(office)
        suggestion.reasons.append(_("涉台: the %(unit)s assists.", unit=office.name))


def _add_area_body(suggestion: Suggestion, ticket: Ticket) -> None:
    area = ticket.firm.area if ticket.firm is not None else None
    if area is None:
        return
    body = db.session.scalar(sa.select(Unit).where(
        Unit.kind == UnitKind.AREA, Unit.is_active.is_(True),
        Unit.name.startswith(area.name, autoescape=True)).order_by(Unit.name).limit(1))
    if body is not None:
        suggestion.lead = body
        suggestion.reasons.append(_("The firm's area is %(area)s: %(unit)s.", area=area.name,
                                    unit=body.name))
