"""``flask sla scan``: registered on the SLA command group (see :mod:`app.tickets.scan`)."""

from __future__ import annotations

from datetime import UTC, datetime

import click

from app.core.clock import now_utc
from app.sla.cli import sla_cli
from app.tickets.scan import run_scan


@sla_cli.command("scan")
@click.option("--batch-size", type=int, default=500, show_default=True,
              help="Tickets locked and committed together.")
@click.option("--at", "at", type=click.DateTime(["%Y-%m-%dT%H:%M:%S%z"]), default=None,
              help="Scan as of this instant (ISO 8601 with offset; default: now), e.g. to "
                   "replay a missed run or in tests.")
def scan(batch_size: int, at: datetime | None) -> None:
    """Mark due-soon and overdue tickets, send automatic urges, open supervision orders.

    Safe to run again and from several machines at once (e.g. from cron every 5 minutes).
    """
    result = run_scan(at.astimezone(UTC) if at else now_utc(), batch_size=batch_size)
    click.echo(f"Scanned {result.scanned} tickets: marked {dict(result.marked)}, "
               f"{result.urged} urged, {result.supervised} supervision orders.")
