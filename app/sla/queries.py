"""Read queries for the SLA admin pages."""

from __future__ import annotations

import calendar as month_calendar
from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa

from app.sla.enums import DemandType, ServiceMode, Urgency
from app.sla.models import SlaPolicy, WorkCalendarDay


def policies_query(service_mode: str = "", demand_type: str = "", urgency: str = "",
                   is_complex: str = "") -> sa.Select:
    """Policies filtered by their key, in a stable reading order."""
    stmt = sa.select(SlaPolicy)
    if service_mode:
        stmt = stmt.where(SlaPolicy.service_mode == service_mode)
    if demand_type:
        stmt = stmt.where(SlaPolicy.demand_type == demand_type)
    if urgency:
        stmt = stmt.where(SlaPolicy.urgency == urgency)
    if is_complex in ("0", "1"):
        stmt = stmt.where(SlaPolicy.is_complex.is_(is_complex == "1"))
    return stmt.order_by(_enum_order(SlaPolicy.service_mode, ServiceMode),
                         _enum_order(SlaPolicy.demand_type, DemandType),
                         _enum_order(SlaPolicy.urgency, Urgency), SlaPolicy.is_complex,
                         SlaPolicy.id)


def _enum_order(column, enum_cls):
    """Sort by the enum's declared order (standard before lifecycle), not alphabetically."""
    return sa.case({member.value: i for i, member in enumerate(enum_cls)}, value=column)


@dataclass(frozen=True)
class Month:
    """One month of the admin grid: weeks of (date or None) from Monday."""

    number: int
    weeks: list[list[date | None]]

    @property
    def first(self) -> date:
        """The month's first day (for its localised name)."""
        return next(d for week in self.weeks for d in week if d)


def year_grid(year: int) -> list[Month]:
    """Twelve month grids, weeks starting on Monday as Chinese calendars print them."""
    grid = month_calendar.Calendar(firstweekday=0)
    return [Month(m, [[d if d.month == m else None for d in week]
                      for week in grid.monthdatescalendar(year, m)])
            for m in range(1, 13)]


def year_summary(days: dict[date, WorkCalendarDay]) -> dict[str, int]:
    """Counts shown above the grid: working days, days off, rows an admin changed."""
    return {
        "workdays": sum(1 for d in days.values() if d.is_workday),
        "days_off": sum(1 for d in days.values() if not d.is_workday),
        "edited": sum(1 for d in days.values() if d.source == "admin"),
        "provisional": sum(1 for d in days.values() if d.source == "provisional"),
    }
