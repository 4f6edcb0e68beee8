"""Visit queries: visibility, the filtered list, issue states, coverage, cadence, campaigns.

Every figure of DOMAIN §5 is computed by the database here, so reports and pages agree.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import aliased

from app.auth.models import Unit, User
from app.core.clock import LOCAL_TZ
from app.core.permissions import Permission
from app.core.search import key_contains, normalise_query
from app.firms.models import Area, Firm
from app.tickets.models import Ticket
from app.visits.models import (
    SATISFIED_LEVEL,
    Campaign,
    CampaignTarget,
    PlanStatus,
    Visit,
    VisitIssue,
    VisitMode,
    VisitPlan,
    VisitSettings,
    VisitVisitor,
)

_ONE_DAY = timedelta(days=1)


# -- visibility --------------------------------------------------------------------------------


def visibility_clause(user) -> sa.ColumnElement[bool]:
    """:meth:`Visit.can_view` in SQL: the visits ``user`` may see."""
    if user is None or not getattr(user, "is_authenticated", False):
        return sa.false()
    if user.can(Permission.VISIT_VIEW_ALL):
        return sa.true()
    if not user.can(Permission.VISIT_VIEW_UNIT):
        return sa.false()
    served = sa.select(Firm.id).where(Firm.commissioner_id == user.id)
    went = sa.exists().where(VisitVisitor.visit_id == Visit.id, VisitVisitor.user_id == user.id)
    return sa.or_(Visit.unit_id == user.unit_id, Visit.firm_id.in_(served),
                  Visit.lead_visitor_id == user.id, went)


def visible_visits(user) -> sa.Select:
    """``select(Visit)`` limited to what ``user`` may see."""
    return sa.select(Visit).where(visibility_clause(user))


# -- issue states ------------------------------------------------------------------------------


def closed_out_clause() -> sa.ColumnElement[bool]:
    """:attr:`VisitIssue.is_closed_out` in SQL (solved on site, or ticket closed satisfied)."""
    satisfied = sa.exists().where(
        Ticket.id == VisitIssue.ticket_id, Ticket.status == "closed",
        Ticket.closure_kind.in_(["rated", "followed_up"]),
        Ticket.rating_level >= SATISFIED_LEVEL)
    return sa.or_(VisitIssue.is_solved_on_site.is_(True), satisfied)


def open_issue_counts(visit_ids: list[int]) -> dict[int, int]:
    """Issues not yet closed out, per visit (one query for a page of visits)."""
    if not visit_ids:
        return {}
    from app.extensions import db

    rows = db.session.execute(
        sa.select(VisitIssue.visit_id, sa.func.count())
        .where(VisitIssue.visit_id.in_(visit_ids), sa.not_(closed_out_clause()))
        .group_by(VisitIssue.visit_id))
    return dict(rows.all())


# -- the list ----------------------------------------------------------------------------------


@dataclass
class VisitFilters:
    """What the visit list was asked for; junk values are ignored."""

    q: str = ""
    date_from: date | None = None
    date_to: date | None = None
    visitor: str = ""
    unit: str = ""
    area: str = ""
    firm: str = ""
    key: str = ""
    mode: str = ""
    campaign: str = ""
    open_issues: str = ""


def local_day_start(day: date) -> datetime:
    """00:00 Beijing time of ``day``, as UTC (periods are local calendar days)."""
    return datetime.combine(day, time.min, tzinfo=LOCAL_TZ).astimezone(UTC)


def visits_query(filters: VisitFilters, user) -> sa.Select:
    """Visible visits matching the filters, newest first."""
    stmt = visible_visits(user)
    if normalise_query(filters.q):
        stmt = stmt.where(Visit.firm_id.in_(sa.select(Firm.id).where(
            key_contains(Firm.search_key, filters.q))))
    if filters.date_from:
        stmt = stmt.where(Visit.visited_at >= local_day_start(filters.date_from))
    if filters.date_to:
        stmt = stmt.where(Visit.visited_at < local_day_start(filters.date_to) + _ONE_DAY)
    if filters.visitor.isdigit():
        uid = int(filters.visitor)
        stmt = stmt.where(sa.or_(Visit.lead_visitor_id == uid, sa.exists().where(
            VisitVisitor.visit_id == Visit.id, VisitVisitor.user_id == uid)))
    if filters.unit.isdigit():
        stmt = stmt.where(Visit.unit_id == int(filters.unit))
    if filters.area.isdigit():
        area_id = int(filters.area)
        in_area = sa.select(Firm.id).where(sa.or_(
            Firm.area_id == area_id,
            Firm.area_id.in_(sa.select(Area.id).where(Area.parent_id == area_id))))
        stmt = stmt.where(Visit.firm_id.in_(in_area))
    if filters.firm.isdigit():
        stmt = stmt.where(Visit.firm_id == int(filters.firm))
    if filters.key in ("yes", "no"):
        stmt = stmt.where(Visit.firm_id.in_(sa.select(Firm.id).where(
            Firm.is_key_firm.is_(filters.key == "yes"))))
    if filters.mode in VisitMode.__members__.values():
        stmt = stmt.where(Visit.mode == filters.mode)
    if filters.campaign.isdigit():
        stmt = stmt.where(Visit.campaign_id == int(filters.campaign))
    if filters.open_issues == "yes":
        stmt = stmt.where(sa.exists().where(VisitIssue.visit_id == Visit.id,
                                            sa.not_(closed_out_clause())))
    return stmt.order_by(Visit.visited_at.desc(), Visit.id.desc())


def firm_visits(firm_id: int, user, limit: int = 10) -> sa.Select:
    """The latest visits of one firm that ``user`` may see (the firm's 360° page)."""
    return (visible_visits(user).where(Visit.firm_id == firm_id)
            .order_by(Visit.visited_at.desc(), Visit.id.desc()).limit(limit))


def firm_issues(firm_id: int, user) -> sa.Select:
    """Issues raised at visible visits of one firm, newest first."""
    return (sa.select(VisitIssue).join(Visit, VisitIssue.visit_id == Visit.id)
            .where(Visit.firm_id == firm_id, visibility_clause(user))
            .order_by(VisitIssue.id.desc()))


# -- coverage and cadence (DOMAIN §5) ------------------------------------------------------------


def qualifying_visit_exists(settings: VisitSettings, start: date, end: date):
    """A qualifying visit to ``Firm`` on a local day in [start, end]."""
    return sa.exists().where(
        Visit.firm_id == Firm.id, Visit.mode.in_(settings.qualifying_mode_list),
        Visit.visited_at >= local_day_start(start),
        Visit.visited_at < local_day_start(end) + _ONE_DAY)


COVERAGE_DIMENSIONS = ("commissioner", "unit", "area", "key")


def coverage(dimension: str, settings: VisitSettings, start: date, end: date) -> sa.Select:
    """走访覆盖率 rows ``(key, label, firms, visited)`` for one dimension.

    The firm list of a commissioner is the firms they serve; of a unit, the firms served by
    its staff; of an area, the firms registered there; ``key`` is the key-enterprise list
    against all others. Archived firms are not in any list.
    """
    visited = sa.func.sum(sa.case((qualifying_visit_exists(settings, start, end), 1), else_=0))
    count = sa.func.count(Firm.id)
    active = Firm.archived_at.is_(None)
    if dimension == "commissioner":
        return (sa.select(User.id, User.display_name, count, visited)
                .join(User, Firm.commissioner_id == User.id).where(active)
                .group_by(User.id, User.display_name).order_by(User.display_name))
    if dimension == "unit":
        commissioner = aliased(User)
        return (sa.select(Unit.id, Unit.name, count, visited)
                .join(commissioner, Firm.commissioner_id == commissioner.id)
                .join(Unit, commissioner.unit_id == Unit.id).where(active)
                .group_by(Unit.id, Unit.name).order_by(Unit.name))
    if dimension == "area":
        return (sa.select(Area.id, Area.name, count, visited)
                .join(Area, Firm.area_id == Area.id).where(active)
                .group_by(Area.id, Area.name, Area.position).order_by(Area.position, Area.id))
    if dimension == "key":
        return (sa.select(Firm.is_key_firm, Firm.is_key_firm, count, visited).where(active)
                .group_by(Firm.is_key_firm).order_by(Firm.is_key_firm.desc()))
    raise ValueError(f"unknown coverage dimension {dimension!r}")


def add_months(day: date, months: int) -> date:
    """``day`` moved by whole months (clamped to the month's last day)."""
    import calendar

    month_index = day.year * 12 + day.month - 1 + months
    year, month = divmod(month_index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(day.day, last))


def last_visit_column(settings: VisitSettings):
    """The time of the firm's latest qualifying visit (a correlated scalar subquery)."""
    return (sa.select(sa.func.max(Visit.visited_at))
            .where(Visit.firm_id == Firm.id, Visit.mode.in_(settings.qualifying_mode_list))
            .correlate(Firm).scalar_subquery())


def past_cadence(settings: VisitSettings, today: date,
                 commissioner_id: int | None = None) -> sa.Select:
    """Active firms whose last qualifying visit is older than their cadence (or never).

    Key enterprises are due every ``key_firm_cadence_months``, others every
    ``other_firm_cadence_months`` (DOMAIN §5 [cfg]). Rows are ``(Firm, last_visited_at)``.
    """
    key_since = local_day_start(add_months(today, -settings.key_firm_cadence_months))
    other_since = local_day_start(add_months(today, -settings.other_firm_cadence_months))
    last = last_visit_column(settings)
    since = sa.case((Firm.is_key_firm.is_(True), key_since), else_=other_since)
    stmt = (sa.select(Firm, last.label("last_visited_at"))
            .where(Firm.archived_at.is_(None), sa.or_(last.is_(None), last < since))
            .order_by(Firm.is_key_firm.desc(), last.asc().nulls_first(), Firm.name))
    if commissioner_id is not None:
        stmt = stmt.where(Firm.commissioner_id == commissioner_id)
    return stmt


# -- campaigns ---------------------------------------------------------------------------------


def campaign_progress(campaign: Campaign, settings: VisitSettings) -> sa.Select:
    """Per assignee ``(user_id, targets, visited)`` for one campaign (``None`` = unassigned).

    A target counts as visited with a qualifying visit inside the campaign period.
    """
    visited = sa.func.sum(sa.case(
        (qualifying_visit_exists(settings, campaign.starts_on, campaign.ends_on), 1), else_=0))
    return (sa.select(CampaignTarget.assignee_id, sa.func.count(), visited)
            .join(Firm, CampaignTarget.firm_id == Firm.id)
            .where(CampaignTarget.campaign_id == campaign.id)
            .group_by(CampaignTarget.assignee_id))


def campaign_targets(campaign: Campaign, settings: VisitSettings) -> sa.Select:
    """The campaign's targets with whether each has been visited in the period."""
    done = qualifying_visit_exists(settings, campaign.starts_on, campaign.ends_on)
    return (sa.select(CampaignTarget, done.label("visited"))
            .join(Firm, CampaignTarget.firm_id == Firm.id)
            .where(CampaignTarget.campaign_id == campaign.id)
            .order_by(Firm.name))


# -- plans -------------------------------------------------------------------------------------


def plans_query(user_id: int | None, today: date, status: str = "") -> sa.Select:
    """Plans of one person (or everyone's), by date; ``overdue`` is derived from ``today``."""
    stmt = sa.select(VisitPlan)
    if user_id is not None:
        stmt = stmt.where(VisitPlan.user_id == user_id)
    if status == "overdue":
        stmt = stmt.where(VisitPlan.status == PlanStatus.PLANNED, VisitPlan.planned_on < today)
    elif status == "planned":
        stmt = stmt.where(VisitPlan.status == PlanStatus.PLANNED, VisitPlan.planned_on >= today)
    elif status in ("done", "cancelled"):
        stmt = stmt.where(VisitPlan.status == status)
    return stmt.order_by(VisitPlan.planned_on, VisitPlan.id)
