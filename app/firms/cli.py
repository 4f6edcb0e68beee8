"""``flask firms import FILE [--dry-run]`` and ``flask firms template FILE``."""

from __future__ import annotations

import click
import sqlalchemy as sa
from flask import current_app
from flask.cli import AppGroup

from app.core.transactions import commit_or_stop
from app.extensions import db
from app.firms import importer
from app.firms.models import Firm

firms_cli = AppGroup("firms", help="Firms registry.")


@firms_cli.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--dry-run", is_flag=True, help="Check every row and write nothing.")
@click.option("--errors", "errors_path", type=click.Path(dir_okay=False),
              help="Where to write the XLSX error report (default: beside the file, "
                   "FILE-xlsx-errors.xlsx or FILE-csv-errors.xlsx, never over another file).")
def import_command(path: str, dry_run: bool, errors_path: str | None) -> None:
    """Import firms from an XLSX or CSV file; existing firms are updated by USCC."""
    bar = None

    def start(total):
        nonlocal bar
        bar = click.progressbar(length=total or 0, label="Rows", show_pos=True, file=None)
        bar.__enter__()

    try:  # a dry run wrote nothing: committing it changes nothing
        report = commit_or_stop(lambda: importer.run_import(
            path, path, None, dry_run=dry_run,
            max_bytes=current_app.config["FIRM_IMPORT_MAX_BYTES"], on_total=start,
            progress=lambda n: bar.update(n)))
    finally:
        if bar is not None:
            bar.__exit__(None, None, None)
    click.echo(("Dry run, nothing written. " if dry_run else "Imported. ")
               + f"{report.total} rows: {report.created} new, {report.updated} updated, "
               f"{report.unchanged} unchanged, {len(report.rejected)} rejected.")
    if report.rejected:
        target = errors_path or importer.error_report_path(path)
        with open(target, "wb" if errors_path else "xb") as handle:
            importer.error_report(report, handle)
        click.echo(f"Rejected rows with reasons: {target}")


@firms_cli.command("template")
@click.argument("path", type=click.Path(dir_okay=False))
def template_command(path: str) -> None:
    """Write the import template (XLSX with the expected headers and an example row)."""
    with open(path, "wb") as handle:
        handle.write(importer.template_workbook())
    click.echo(f"Template written to {path}")


@firms_cli.command("reindex")
def reindex_command() -> None:
    """Recompute every firm's search key (after upgrading the conversion tables, for example)."""
    ids = list(db.session.scalars(sa.select(Firm.id).order_by(Firm.id)))
    with click.progressbar(length=len(ids), label="Firms") as bar:
        commit_or_stop(lambda: _reindex(ids, bar.update))
    click.echo(f"Search keys recomputed for {len(ids)} firms.")


def _reindex(ids: list[int], progress) -> None:
    for start in range(0, len(ids), importer.CHUNK):
        batch = ids[start:start + importer.CHUNK]
        importer.refresh_search_keys(batch)
        db.session.flush()
        progress(len(batch))
