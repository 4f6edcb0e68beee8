"""The engine's own jobs: the daily clean-up (with its hook for expired files), the sweep of
lost and interrupted jobs, and ``jobs.ping`` to see that a consumer answers.

**Clean-up hook.** A package that keeps files for a while (exports, import reports) registers
what to remove; the daily ``jobs.cleanup`` job calls it::

    from app.jobs import cleanup

    @cleanup("exports.files")
    def remove_expired_exports(now) -> int:
        ...  # remove what expired before ``now``; return how many; flush, never commit
        return removed

Each registered function runs in its own transaction (committed after it, rolled back alone
if it fails), must be safe to run twice, and should delete a file only for a row it deletes.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from flask_babel import lazy_gettext as _l
from huey import crontab

from app.core.clock import now_utc
from app.core.transactions import begin_write
from app.extensions import db
from app.jobs.definitions import job
from app.jobs.engine import huey
from app.jobs.schedules import schedule
from app.jobs.services import purge_finished, sweep

logger = logging.getLogger("ruyi.jobs")

_cleaners: dict[str, Callable[[datetime], int]] = {}


def cleanup(name: str):
    """Register ``func(now) -> int`` with the daily clean-up (see the module docstring)."""

    def decorator(func: Callable[[datetime], int]) -> Callable[[datetime], int]:
        _cleaners[name] = func
        return func

    return decorator


def cleaners() -> dict[str, Callable[[datetime], int]]:
    """The registered clean-up functions, by name."""
    return dict(sorted(_cleaners.items()))


@cleanup("jobs.records")
def _old_job_records(now: datetime) -> int:
    return purge_finished(now)


@job("jobs.cleanup", label=_l("Clean-up of expired files and records"), idempotent=True,
     retries=2)
def run_cleanup(ctx) -> dict:
    """Call every registered clean-up; one failing does not stop the others."""
    now = now_utc()
    removed, failed = {}, []
    for name, func in cleaners().items():
        try:
            begin_write()
            removed[name] = func(now)
            db.session.commit()
        except Exception:
            db.session.rollback()
            logger.exception("clean-up %s failed", name)
            failed.append(name)
    if failed:
        raise RuntimeError(f"clean-up failed: {', '.join(failed)} (removed {removed})")
    return {"removed": removed}


schedule("jobs.cleanup", "30 3 * * *")


@job("jobs.ping", label=_l("Consumer check"), idempotent=True, retries=0)
def ping(ctx) -> dict:
    """Does nothing but prove that a consumer took the job (``flask jobs ping``)."""
    return {"pong": now_utc().isoformat()}


@huey.periodic_task(crontab(), name="jobs.sweep")
def sweep_task() -> None:
    """Every minute on every consumer: resend lost messages, deal with dead consumers' jobs
    (safe to run on several at once; it keeps no record of its own)."""
    from app.jobs.runner import app_context

    with app_context():
        sweep()
