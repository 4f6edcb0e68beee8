"""The only reader of the system clock.

Every "now" in Ruyi comes from :func:`now_utc`, so deadlines and timeouts can be tested with a
frozen clock and no test ever sleeps.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

LOCAL_TZ = ZoneInfo("Asia/Shanghai")

_frozen: datetime | None = None


def now_utc() -> datetime:
    """Current time, timezone-aware UTC (or the frozen instant in tests)."""
    if _frozen is not None:
        return _frozen
    return datetime.now(UTC)


def today_local() -> date:
    """Today's date in Asia/Shanghai, the calendar all deadlines are counted on."""
    return now_utc().astimezone(LOCAL_TZ).date()


def to_local(value: datetime) -> datetime:
    """Convert an aware datetime to Asia/Shanghai for display or calendar arithmetic."""
    return value.astimezone(LOCAL_TZ)


def freeze(at: datetime) -> None:
    """Freeze the clock at an aware instant (tests and demo seeding only)."""
    if at.tzinfo is None:
        raise ValueError("freeze() needs an aware datetime")
    global _frozen
    _frozen = at.astimezone(UTC)


def advance(delta: timedelta) -> datetime:
    """Move a frozen clock forward and return the new instant."""
    if _frozen is None:
        raise RuntimeError("the clock is not frozen")
    freeze(_frozen + delta)
    return now_utc()


def is_frozen() -> bool:
    """Whether :func:`freeze` is in force (a seeder restores the caller's frozen clock)."""
    return _frozen is not None


def unfreeze() -> None:
    """Return to the real clock."""
    global _frozen
    _frozen = None
