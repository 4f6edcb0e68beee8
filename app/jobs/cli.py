"""``flask jobs …``: run a consumer, ask for a job by hand, check that consumers answer."""

from __future__ import annotations

import json
import time

import click
from flask import current_app
from flask.cli import AppGroup

from app.core.transactions import commit_or_stop
from app.extensions import db
from app.jobs import services
from app.jobs.definitions import UnknownJobKind, all_definitions
from app.jobs.engine import application, huey
from app.jobs.models import Job, JobState
from app.jobs.schedules import all_schedules

jobs_cli = AppGroup("jobs", help="Background jobs: consumers, schedules, checks.")


@jobs_cli.command("worker")
@click.option("--workers", "-w", type=int, default=None,
              help="Jobs run at once by this consumer (default JOBS_WORKERS, 2).")
@click.option("--worker-type", type=click.Choice(["thread", "process"]), default="thread",
              show_default=True, help="Threads share one process; processes use every core.")
@click.option("--periodic/--no-periodic", default=True, show_default=True,
              help="Also run the scheduler of periodic jobs (safe on every consumer: each "
                   "period runs once).")
def worker(workers: int | None, worker_type: str, periodic: bool) -> None:
    """Run a consumer: take jobs from the job store and run them until Ctrl-C (or SIGTERM)."""
    if huey.immediate:
        raise click.ClickException("JOBS_IMMEDIATE is on: jobs run where they are asked for; "
                                   "there is nothing for a consumer to do.")
    consumer = huey.create_consumer(
        workers=workers or current_app.config["JOBS_WORKERS"], worker_type=worker_type,
        periodic=periodic, check_worker_health=True)
    click.echo(f"Job consumer on {_store_name()} ({worker_type}s: {consumer.workers}, "
               f"schedules {'on' if periodic else 'off'}).")
    consumer.run()


@huey.on_startup()
def _fresh_connections() -> None:
    """A worker process forked from the consumer must not share its database connections."""
    with application().app_context():
        db.engine.dispose(close=False)


def _store_name() -> str:
    url = current_app.config["JOBS_URL"]
    return url.split("@")[-1] if "@" in url else url  # never print a password


@jobs_cli.command("enqueue")
@click.argument("kind")
@click.option("--param", "-p", multiple=True, metavar="NAME=JSON",
              help="A parameter; the value is read as JSON when it parses, else as text.")
@click.option("--wait", type=float, default=None, metavar="SECONDS",
              help="Wait until a consumer has finished it (exit 1 if it failed or took longer).")
def enqueue(kind: str, param: tuple[str, ...], wait: float | None) -> None:
    """Ask for a job as the system (e.g. ``flask jobs enqueue sla.scan``)."""
    params = {}
    for item in param:
        name, _, value = item.partition("=")
        try:
            params[name] = json.loads(value)
        except ValueError:
            params[name] = value
    try:
        job = commit_or_stop(lambda: services.enqueue(kind, **params))
    except UnknownJobKind as error:
        raise click.ClickException(f"unknown job kind {error}; see `flask jobs kinds`") from None
    click.echo(f"Job {job.id} ({kind}) queued.")
    if wait is not None:
        _wait_for(job.id, wait)


@jobs_cli.command("kinds")
def kinds() -> None:
    """List the declared job kinds and the schedules."""
    for definition in all_definitions():
        retry = (f"idempotent, {definition.retries} retries" if definition.idempotent
                 else "not retried")
        click.echo(f"{definition.kind:28} {retry}")
    for entry in all_schedules():
        click.echo(f"schedule {entry.kind:19} {entry.cron or 'off'} (Beijing time)")


@jobs_cli.command("ping")
@click.option("--timeout", type=float, default=30.0, show_default=True,
              help="Seconds to wait for a consumer.")
def ping(timeout: float) -> None:
    """Ask for a job that does nothing and wait until a consumer has run it (exit 1 if none
    did in time): a health check for deployments."""
    job = commit_or_stop(lambda: services.enqueue("jobs.ping"))
    _wait_for(job.id, timeout)


def _wait_for(job_id: int, timeout: float) -> None:
    """Poll the job's record until it has finished; exit 1 unless it succeeded in time."""
    deadline = time.monotonic() + timeout
    while True:
        state, error = db.session.execute(
            db.select(Job.state, Job.error).where(Job.id == job_id)).one()
        db.session.rollback()  # the next look sees the consumer's commits
        if state == JobState.SUCCEEDED:
            click.echo(f"Job {job_id} was run by a consumer.")
            return
        if state in (JobState.FAILED, JobState.CANCELLED):
            raise click.ClickException(f"job {job_id} {state}: {error}")
        if time.monotonic() >= deadline:
            raise click.ClickException(f"no consumer finished job {job_id} within {timeout:g} s "
                                       f"(it is {state}); is `flask jobs worker` running?")
        time.sleep(0.2)


@jobs_cli.command("sweep")
def sweep() -> None:
    """Resend lost messages and recover jobs of dead consumers now (the consumers do it every
    minute)."""
    counts = services.sweep()
    click.echo(", ".join(f"{name}: {n}" for name, n in counts.items()))
