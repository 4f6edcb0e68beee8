"""``flask audit seal`` and ``flask audit verify``: the audit chain from the command line."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from app.audit import chain
from app.audit.jobs import verify_and_record
from app.core.transactions import commit_or_stop

audit_cli = AppGroup("audit", help="The tamper-evident audit log.")


@audit_cli.command("seal")
def seal() -> None:
    """Seal the audit rows committed since the last seal (the job does it every 5 minutes)."""
    total = chain.seal_all(on_batch=lambda n: click.echo(f"  {n} rows sealed"))
    click.echo(f"Sealed {total} audit rows.")


@audit_cli.command("verify")
def verify() -> None:
    """Check the whole chain; exit 1 naming the first broken row if any row was changed,
    removed or re-ordered."""
    result = commit_or_stop(lambda: verify_and_record("cli"))
    if result["ok"]:
        click.echo(f"Audit chain intact: {result['checked']} rows checked in "
                   f"{result['seconds']:.2f} s.")
        return
    raise click.ClickException(
        f"Audit chain broken: {result['broken']} of {result['checked']} rows; first broken: "
        f"audit event #{result['first_broken_event']} ({result['reason']}).")
