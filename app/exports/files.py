"""The files a job leaves for its requester: written under random names, named in the job's
result, downloadable until they expire, then removed by the daily clean-up.

A job's result holds ``{"files": [{"key": "export", "stored": "<random hex>", "name":
"firms-20261205.xlsx", "mimetype": …, "size": …, "rows": …}], …}``. The bytes live in the
upload storage (:mod:`app.core.storage`, outside the web root), which every web server and
consumer must share (one machine: the instance folder; several: a shared mount).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app

from app.core import sheets, storage
from app.core.clock import now_utc, to_local
from app.extensions import db
from app.jobs import cleanup
from app.jobs.models import FINISHED_STATES, Job

logger = logging.getLogger("ruyi.exports")

#: The job kinds that leave files (and, for the import, an upload) behind.
FILE_KINDS = frozenset({"firms.export", "firms.import", "reports.export_breakdown",
                        "reports.export_drill", "reports.monthly", "audit.export"})


def stamped_name(stem: str, fmt: str) -> str:
    """A download name with the local date: ``firms-20261205.xlsx``."""
    return f"{stem}-{to_local(now_utc()):%Y%m%d}.{fmt}"


@contextmanager
def new_file(key: str, name: str, mimetype: str):
    """Open a new stored file for writing; yields ``(handle, entry)``. The entry (for the job's
    result) gets the size when the block ends; if the block fails, the file is removed."""
    stored, handle = storage.new_file()
    entry = {"key": key, "stored": stored, "name": name, "mimetype": mimetype}
    try:
        with handle:
            yield handle, entry
    except BaseException:
        storage.remove(stored)
        raise
    entry["size"] = os.path.getsize(storage.path_of(stored))


def write_sheet(ctx, fmt: str, *, stem: str, title: str, headers, rows: Iterable,
                total: int | None, widths=None, float_format: str | None = None) -> dict:
    """Write a table as an export file, reporting progress per row; returns the file entry."""
    with new_file("export", stamped_name(stem, fmt), sheets.MIMETYPES[fmt]) as (handle, entry):
        writer = sheets.SheetWriter(handle, fmt, title=title, headers=headers, widths=widths,
                                    float_format=float_format)
        writer.extend(counted(ctx, rows, total))
        entry["rows"] = writer.close()
    return entry


def counted(ctx, rows: Iterable, total: int | None) -> Iterator:
    """The rows, reporting ``done of total`` to the job as they pass."""
    ctx.progress(0, total)
    done = 0
    for row in rows:
        yield row
        done += 1
        ctx.progress(done, total)
    if total is None or done < total:
        ctx.progress(done, done)


def files_of(job: Job) -> list[dict]:
    """The files a finished job left (none once they expired)."""
    return list((job.result or {}).get("files") or []) if job.result else []


def file_of(job: Job, key: str) -> dict | None:
    """One of the job's files by its key (``export``, ``errors``)."""
    return next((f for f in files_of(job) if f.get("key") == key), None)


def expires_at(job: Job) -> datetime | None:
    """When the job's files are removed."""
    if job.finished_at is None:
        return None
    return job.finished_at + timedelta(days=current_app.config["EXPORT_KEEP_DAYS"])


@cleanup("exports.files")
def remove_expired(now: datetime) -> int:
    """Remove the files (and uploads) of jobs finished more than ``EXPORT_KEEP_DAYS`` ago; the
    job keeps its summary and says the files expired. Safe to run twice."""
    before = now - timedelta(days=current_app.config["EXPORT_KEEP_DAYS"])
    removed = 0
    jobs = db.session.scalars(sa.select(Job).where(
        Job.kind.in_(FILE_KINDS), Job.state.in_(FINISHED_STATES), Job.finished_at < before)
        .order_by(Job.id)).all()
    for job in jobs:
        removed += _expire(job)
    db.session.flush()
    return removed


def _expire(job: Job) -> int:
    removed = 0
    for entry in files_of(job):
        removed += storage.remove(entry["stored"])
    if files_of(job):
        job.result = {**job.result, "files": [], "expired": True}
    upload = (job.params or {}).get("upload")
    if upload and storage.remove(upload):
        removed += 1
    if removed:
        logger.info("job %s: %d expired file(s) removed", job.id, removed)
    return removed
