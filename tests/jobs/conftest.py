"""Job kinds used by the engine's tests, and a clean in-memory job store per test.

The tests run the engine in Huey's immediate mode (``JOBS_IMMEDIATE``): a job runs in the
test's process as soon as the transaction that asked for it commits, through the same
runner a consumer uses.
"""

from __future__ import annotations

import pytest
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from app.core import audit
from app.core.errors import DomainError
from app.core.permissions import Permission
from app.jobs import job
from app.jobs.engine import huey

#: What the test jobs saw when they ran (cleared per test).
calls: list[dict] = []
#: Failures the flaky job still has to produce before it succeeds.
failures_left: list[int] = [0]


@job("tests.write", label=_l("Test job"), permission=Permission.FIRM_EXPORT)
def write(ctx, *, note: str = "", fail: bool = False) -> dict:
    """Writes an audit row as its requester; fails after writing when asked to."""
    calls.append({"actor": getattr(ctx.actor, "id", None), "note": note})
    audit.record("tests.job_wrote", actor=ctx.actor, details={"note": note})
    if fail:
        raise RuntimeError("the test job failed on purpose")
    return {"note": note}


@job("tests.flaky", label=_l("Flaky test job"), idempotent=True, retries=2, retry_delay=30,
     backoff=2)
def flaky(ctx) -> dict:
    """Fails ``failures_left[0]`` times, then succeeds; safe to repeat."""
    calls.append({"attempt": ctx.job.attempts})
    audit.record("tests.flaky_ran", details={"attempt": ctx.job.attempts})
    if failures_left[0] > 0:
        failures_left[0] -= 1
        raise ConnectionError("the gateway is down")
    return {"attempts": ctx.job.attempts}


@job("tests.refuse", label=_l("Refusing test job"), idempotent=True, retries=3)
def refuse(ctx) -> None:
    """A domain rule refuses: retrying cannot help."""
    calls.append({})
    raise DomainError("not allowed by a rule")


@job("tests.long", label=_l("Long test job"))
def long(ctx, *, rows: int, cancel_at: int | None = None) -> dict:
    """Reports progress per row; ``cancel_at`` lets the test cancel it mid-way."""
    from app.jobs import services

    seen = []
    audit.record("tests.long_started")
    for n in range(1, rows + 1):
        if n == cancel_at:
            services.cancel(ctx.job, None)
        ctx.progress(n, rows)
        seen.append(services.progress_of(ctx.job))
    calls.append({"seen": seen})
    return {"rows": rows}


@job("tests.language", label=_l("Language test job"))
def language(ctx) -> dict:
    """Returns a text translated in the job's language."""
    return {"text": _("Access denied")}


@pytest.fixture(autouse=True)
def clean_store():
    """An empty in-memory job store and no recorded calls."""
    assert huey.immediate, "the engine's tests run in immediate mode"
    huey.storage.flush_all()
    calls.clear()
    failures_left[0] = 0
    yield
    huey.storage.flush_all()
