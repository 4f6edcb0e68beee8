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
    elif result.provisional:
        click.echo(f"  {result.year}: not in the installed chinese-calendar package — "
                   f"provisional days ({result.created} added, {result.updated} updated, "
                   f"{result.kept} kept): weekends and rule-based statutory holidays, no "
                   f"make-up working days; deadlines over them are provisional until the "
                   f"official schedule is entered")
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
    _warn(services.calendar_alert())


def _warn(gaps: list[services.CalendarGap]) -> None:
    for gap in gaps:
        if gap.provisional:
            click.echo(f"Warning: {gap.year} has only provisional days: enter the official "
                       f"holiday schedule (a newer chinese-calendar and 'flask calendar seed', "
                       f"or the admin calendar page)")
        else:
            click.echo(f"Warning: no working calendar yet for {gap.year}")


@calendar_cli.command("status")
def status() -> None:
    """List the configured years, say which are provisional, and warn about gaps."""
    calendar = services.load_calendar()
    official = [y for y in calendar.years if y not in calendar.provisional_years]
    click.echo("Configured years: " + (f"{official[0]}–{official[-1]}" if official else "none"))
    for year in sorted(calendar.provisional_years):
        where = ("computed in memory, made when a deadline first needs them"
                 if year in calendar.unsaved_years else "stored")
        click.echo(f"Provisional: {year} ({where}); open tickets with provisional deadlines: "
                   f"{services.provisional_uses()}")
    _warn(services.calendar_alert())


@sla_cli.command("seed-policies")
def seed_policies() -> None:
    """Create the default SLA policies of DOMAIN §3.2 that are missing (edited ones are kept)."""
    created = commit_or_stop(services.seed_policies)
    click.echo(f"SLA policies: {created} created.")
