"""``flask calendar …`` and ``flask sla …``: seeding the calendar and the default policies.

Other packages add their own SLA commands to :data:`sla_cli` (for instance ``flask sla scan``).
"""

from __future__ import annotations

import click
from flask.cli import AppGroup

from app.core.clock import to_local
from app.core.errors import DomainError
from app.core.transactions import commit_or_stop
from app.extensions import db
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


_DRY_RUN = click.option("--dry-run", is_flag=True, help="Show what would change (days, "
                        "recomputed deadlines, firms told), then change nothing.")


def _run(call, dry_run: bool):
    """Run a calendar change: commit it, or with ``dry_run`` show it and roll it back."""
    if not dry_run:
        result = commit_or_stop(call)
        _outcomes(services.last_change())
        return result
    try:
        result = call()
    except DomainError as error:
        db.session.rollback()
        raise click.ClickException(str(error)) from error
    _outcomes(services.last_change())
    db.session.rollback()
    click.echo("Dry run: nothing was changed, nobody was told.")
    return result


def _outcomes(change: services.CalendarChange | None) -> None:
    """What the change did to the tickets and the report facts, ticket by ticket."""
    if change is None:
        return
    recomputed = change.outcomes.get("tickets")
    if recomputed is not None:
        click.echo(f"Official days for {', '.join(map(str, recomputed.years))}: "
                   f"{len(recomputed.tickets)} open tickets recomputed, "
                   f"{len(recomputed.moved)} with deadlines moved, {recomputed.told} firms "
                   f"told of a new date; {recomputed.finished_cleared} finished tickets "
                   f"keep their deadlines (provisional marks cleared).")
        for ticket in recomputed.tickets:
            moves = "; ".join(f"{column} {_local(a)} → {_local(b)}"
                              for column, (a, b) in ticket.moved.items()) or "no change"
            told = (f" (firm told: {_local(ticket.promise_before)} → "
                    f"{_local(ticket.promise_after)})" if ticket.promise_moved else "")
            click.echo(f"  {ticket.reference}: {moves}{told}")
    if change.outcomes.get("facts"):
        click.echo(f"Report facts rewritten for {change.outcomes['facts']} tickets.")


def _local(value) -> str:
    return to_local(value).strftime("%Y-%m-%d %H:%M") if value else "-"


@calendar_cli.command("seed")
@click.option("--year", type=int, default=None, help="Only this year (default: every year the "
              "chinese-calendar package knows).")
@click.option("--from-file", "notice", type=click.File(encoding="utf-8"), default=None,
              help="The year's official days from the State Council's notice, one a line: "
                   "YYYY-MM-DD,holiday|makeup_workday,name (needs --year).")
@_DRY_RUN
def seed(year: int | None, notice, dry_run: bool) -> None:
    """Fill the working calendar from the chinese-calendar package (safe to run again).

    Official days replacing provisional ones recompute every open ticket's deadlines counted
    over them, in the same transaction (see --dry-run).
    """
    if notice is not None and not year:
        raise click.UsageError("--from-file needs --year.")
    click.echo("Seeding the working calendar…")

    def call():
        days = services.read_notice(notice, year) if notice is not None else None
        return services.seed_calendar([year] if year else None, progress=_report, notice=days)

    results = _run(call, dry_run)
    if year and results[0].unavailable:
        raise click.ClickException(f"No calendar data for {year} in the installed package.")
    if not dry_run:
        _warn(services.calendar_alert())


@calendar_cli.command("publish")
@click.option("--year", type=int, required=True)
@click.option("--reason", required=True, help="The State Council notice the days follow.")
@_DRY_RUN
def publish(year: int, reason: str, dry_run: bool) -> None:
    """Confirm a provisional year, as now entered, as the official schedule (after entering
    its holidays and make-up working days on the admin calendar page), recomputing what was
    counted over it."""
    days = _run(lambda: services.publish_year(year, reason, None), dry_run)
    click.echo(f"{year}: {days} provisional days confirmed as official.")


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
