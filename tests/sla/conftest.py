"""A pure working calendar (no database) for the arithmetic tests, and local-time helpers."""

from __future__ import annotations

from datetime import datetime

import pytest

from app.sla.calendar import LOCAL_TZ, WorkCalendar
from app.sla.services import package_year


def build_calendar(*years: int) -> WorkCalendar:
    """The official calendar of some years, straight from the package."""
    return WorkCalendar((d.day, d.kind.is_workday) for y in years for d in package_year(y))


@pytest.fixture(scope="session")
def calendar() -> WorkCalendar:
    """2024–2026 as the State Council published them; 2027 is deliberately unknown."""
    return build_calendar(2024, 2025, 2026)


def local(*parts: int) -> datetime:
    """An aware Beijing-time instant: ``local(2026, 2, 13, 10)``."""
    return datetime(*parts, tzinfo=LOCAL_TZ)


def as_local(moment: datetime) -> str:
    """An instant as Beijing wall-clock text, for readable assertions."""
    return moment.astimezone(LOCAL_TZ).strftime("%Y-%m-%d %H:%M:%S")
