"""Periodic jobs: the engine's scheduler asks for them; each period runs once, on one machine.

``schedule(kind, "*/5 * * * *")`` makes a job kind periodic. Every consumer's scheduler (one
per consumer, on any number of machines) looks at the clock once a minute and, at a matching
minute, sends a small *tick* task; whichever worker runs a tick asks for the job with the
period's key, ``sla.scan@2026-03-02T02:05Z`` (the period's first minute, UTC). The key is
unique in the job records, so the first tick of a period creates the job and every other
tick of that period finds the key taken and does nothing: one machine or ten, one run per
period.

Why a row of the database and not a key in the job store (Huey's ``put_if_empty``): the
database is the one store every web server and consumer shares in every set-up, it is
transactional (the record and the lock are one row, committed together, so there is no lock
without its job or job without its lock), the run it stands for is the record people see on
``/admin/jobs``, and it is removed with the record by the clean-up (a key in Redis would need
hash-field expiry, Redis 7.4+, or grow forever).

Expressions are cron's five fields — minute, hour, day of month, month, day of week (0 =
Sunday) — in **Beijing time**. ``JOBS_SCHEDULES`` changes them per installation:
``JOBS_SCHEDULES="sla.scan=*/10 * * * *;reports.send_weekly=off"``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from huey import crontab
from sqlalchemy.exc import IntegrityError

from app.core.caches import memo
from app.core.clock import LOCAL_TZ, now_utc
from app.core.transactions import begin_write
from app.extensions import db
from app.jobs.definitions import definition_of
from app.jobs.engine import application, huey
from app.jobs.models import Job

logger = logging.getLogger("ruyi.jobs")

#: How far back a period's start is looked for (a weekly schedule's period is 7 days).
_LOOKBACK_MINUTES = 8 * 24 * 60


@dataclass(frozen=True)
class Schedule:
    """A job kind that the engine asks for by itself, by default at ``cron`` (Beijing time)."""

    kind: str
    default: str

    @property
    def cron(self) -> str | None:
        """The expression in force: ``JOBS_SCHEDULES`` or the default; ``None`` when off."""
        value = application().config.get("JOBS_SCHEDULES", {}).get(self.kind, self.default)
        value = (value or "").strip()
        return None if value.lower() in ("", "off", "none") else value


_schedules: dict[str, Schedule] = {}


def schedule(kind: str, cron: str) -> Schedule:
    """Make the declared job ``kind`` periodic (call it once, beside its ``@job``)."""
    definition_of(kind)  # declared first
    matcher(cron)  # a bad expression fails at start-up, not at 3 a.m.
    entry = Schedule(kind, cron)
    if kind not in _schedules:
        huey.periodic_task(_is_due(entry), name=f"schedule.{kind}")(_tick_for(kind))
    _schedules[kind] = entry
    return entry


def all_schedules() -> list[Schedule]:
    """Every schedule, by kind."""
    return [_schedules[k] for k in sorted(_schedules)]


@memo("jobs.cron_matchers", maxsize=64)
def matcher(cron: str) -> Callable[[datetime], bool]:
    """Whether a local minute matches a five-field cron expression."""
    fields = cron.split()
    if len(fields) != 5:
        raise ValueError(f"cron expression needs 5 fields: {cron!r}")
    return crontab(*fields, strict=True)


def _is_due(entry: Schedule) -> Callable[[datetime], bool]:
    def is_due(timestamp: datetime) -> bool:  # Huey's scheduler: naive UTC, once a minute
        cron = entry.cron
        local = timestamp.replace(tzinfo=UTC).astimezone(LOCAL_TZ)
        return cron is not None and matcher(cron)(local)

    return is_due


def _tick_for(kind: str) -> Callable[[], None]:
    def tick() -> None:
        from app.jobs.runner import app_context

        with app_context():
            fire(kind)

    tick.__name__ = f"tick_{kind.replace('.', '_')}"
    return tick


def period_start(cron: str, now: datetime) -> datetime:
    """The latest minute at or before ``now`` that the expression matches (UTC)."""
    matches = matcher(cron)
    minute = now.astimezone(UTC).replace(second=0, microsecond=0)
    for back in range(_LOOKBACK_MINUTES):
        candidate = minute - timedelta(minutes=back)
        if matches(candidate.astimezone(LOCAL_TZ)):
            return candidate
    return minute


def period_key(kind: str, start: datetime) -> str:
    """The unique key of one period of a schedule."""
    return f"{kind}@{start:%Y-%m-%dT%H:%MZ}"


def fire(kind: str, now: datetime | None = None) -> Job | None:
    """Ask for the job of the current period unless a tick elsewhere already did. Commits.

    :returns: the new job, or ``None`` (already asked for this period, or switched off).
    """
    from app.jobs.services import enqueue

    entry = _schedules[kind]
    cron = entry.cron
    if cron is None:
        return None
    key = period_key(kind, period_start(cron, now or now_utc()))
    begin_write()
    if db.session.scalar(sa.select(Job.id).where(Job.period_key == key)) is not None:
        db.session.commit()
        logger.info("schedule %s: %s already asked for", kind, key)
        return None
    try:
        with db.session.begin_nested():
            job = enqueue(kind, period_key=key)
    except IntegrityError:  # another scheduler's tick took the period a moment ago
        db.session.commit()
        logger.info("schedule %s: %s already asked for", kind, key)
        return None
    db.session.commit()
    logger.info("schedule %s: job %s for %s", kind, job.id, key)
    return job
