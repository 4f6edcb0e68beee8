"""The outbox's periodic work: the sweep (every minute) and the clean-up of sent rows."""

from __future__ import annotations

from datetime import datetime

from flask_babel import lazy_gettext as _l

from app.jobs import cleanup, job, schedule
from app.notifications import sweep as outbox_sweep


@job("notifications.sweep", label=_l("Outbox sweep: send due notifications"), idempotent=True)
def sweep(ctx) -> dict:
    """Send what is due: retries whose time has come, rows whose delivery task was lost, and
    rows whose consumer died while sending. Safe on several machines at once."""
    return outbox_sweep.sweep()


schedule("notifications.sweep", "* * * * *")


@cleanup("notifications.outbox")
def _old_sent_messages(now: datetime) -> int:
    return outbox_sweep.purge_sent(now)
