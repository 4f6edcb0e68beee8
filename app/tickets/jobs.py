"""The SLA scan as a periodic job (every 5 minutes; ``flask sla scan`` runs it by hand)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from app.core.clock import now_utc
from app.jobs import job, schedule
from app.tickets.scan import run_scan


@job("sla.scan", label=_l("SLA scan"), idempotent=True, retries=1)
def scan(ctx) -> dict:
    """Mark due-soon and overdue tickets, urge, supervise (:func:`run_scan`). It commits after
    each batch of tickets and may be repeated: a rerun changes nothing already done."""
    result = run_scan(now_utc())
    return {"scanned": result.scanned, "marked": dict(result.marked), "urged": result.urged,
            "supervised": result.supervised}


schedule("sla.scan", "*/5 * * * *")
