"""``flask calendar …`` and ``flask sla …``: seeding the calendar and the default policies.

Other packages add their own SLA commands to :data:`sla_cli` (for instance ``flask sla scan``).
"""

from __future__ import annotations

import click
from flask.cli import AppGroup

from app.core.transactions import commit_or_stop
from app.sla import services

calendar_cli = AppGroup("calendar", help="The official working calendar.")
sla_cli = AppGroup("sla", help="SLA policies and deadlines.")


def _report(result: services.SeedResult) -> None:
    if result.unavailable:
        click.echo(f"  {result.year}: not in the installed chinese-calendar package — enter it "
                   f"on the admin calendar page once the State Council publishes it")
    else:
        click.echo(f"  {result.year}: {result.created} added, {result.updated} updated, "
                   f"{result.kept} kept (changed by an administrator)")


@calendar_cli.command("seed")
@click.option("--year", type=int, default=None, help="Only this year (default: every year the "
              "chinese-calendar package knows).")
def seed(year: int | None) -> None:
    """Fill the working calendar from the chinese-calendar package (safe to run again)."""
    click.echo("Seeding the working calendar…")
    results = commit_or_stop(lambda: services.seed_calendar([year] if year else None,
                                                           progress=_report))
    if year and results[0].unavailable:
        raise click.ClickException(f"No calendar data for {year} in the installed package.")
    missing = services.calendar_alert()
    if missing:
        click.echo("Warning: no working calendar yet for " + ", ".join(map(str, missing)))


@calendar_cli.command("status")
def status() -> None:
    """List the configured years and warn about missing ones."""
    years = services.load_calendar().years
    click.echo("Configured years: " + (f"{years[0]}–{years[-1]}" if years else "none"))
    missing = services.missing_calendar_years()
    if missing:
        click.echo("Missing: " + ", ".join(map(str, missing)))


@sla_cli.command("seed-policies")
def seed_policies() -> None:
    """Create the default SLA policies of DOMAIN §3.2 that are missing (edited ones are kept)."""
    created = commit_or_stop(services.seed_policies)
    click.echo(f"SLA policies: {created} created.")
