"""Job kinds: ``@job("kind", …)`` declares what a job does and under which rules it runs.

A kind is declared once, in its domain package's ``jobs.py`` (imported by ``create_app``), and
names: the permission its requester must still hold when it runs, whether running it twice is
harmless (``idempotent``), and, only then, how often it is retried and with what backoff.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from app.core.permissions import Permission

#: Retries of an idempotent job unless it says otherwise: 4 more tries, 1, 2, 4, 8 minutes
#: after the failures (about a quarter of an hour in all).
DEFAULT_RETRIES = 4
DEFAULT_RETRY_DELAY = 60
DEFAULT_BACKOFF = 2.0


class UnknownJobKind(LookupError):
    """No job of that kind is declared (a typo, or its module is not in ``JOB_MODULES``)."""


@dataclass(frozen=True)
class JobDefinition:
    """A declared job kind. ``func(ctx, **params)`` does the work inside the job's transaction."""

    kind: str
    func: Callable[..., Any]
    label: Any
    permission: Permission | None
    idempotent: bool
    retries: int
    retry_delay: int
    backoff: float
    priority: int | None
    sqlite_writer: bool = True

    def enqueue(self, actor=None, **params):
        """Shorthand for :func:`app.jobs.enqueue` of this kind."""
        from app.jobs.services import enqueue

        return enqueue(self, actor=actor, **params)

    def __call__(self, ctx, **params):
        return self.func(ctx, **params)


_definitions: dict[str, JobDefinition] = {}


def job(kind: str, *, label, permission: Permission | None = None, idempotent: bool = False,
        retries: int | None = None, retry_delay: int = DEFAULT_RETRY_DELAY,
        backoff: float = DEFAULT_BACKOFF, priority: int | None = None,
        sqlite_writer: bool = True):
    """Declare a job kind.

    :param kind: a stable name, ``<package>.<verb>`` (``firms.import``); stored in job records.
    :param label: what people call it (``_l("Firm import")``), shown on ``/admin/jobs``.
    :param permission: what the requester must still be allowed when the job runs; a job asked
        by the system (a schedule, the command line) has no requester and is not checked.
    :param idempotent: running it again after a failure (or twice) does no harm. Only such jobs
        are retried automatically; any other job fails once and waits for a person.
    :param retries: automatic retries after a failure (idempotent jobs only; default 4).
    :param retry_delay: seconds before the first retry, multiplied by ``backoff`` each time.
    :param sqlite_writer: on SQLite the job's transaction starts as the writer (``BEGIN
        IMMEDIATE``): a transaction that has read cannot wait for another writer, so jobs
        running side by side would otherwise fail with "database is locked". A long job that
        mostly reads (an export) passes ``False``, so it does not keep the web's writes waiting,
        and calls ``ctx.begin_write()`` before its first write. PostgreSQL ignores it.
    """
    if retries is None:
        retries = DEFAULT_RETRIES if idempotent else 0
    if retries and not idempotent:
        raise ValueError(f"job {kind!r}: only an idempotent job may be retried automatically")
    if retries < 0 or retry_delay < 0 or backoff < 1:
        raise ValueError(f"job {kind!r}: retries and delay must be >= 0, backoff >= 1")

    def decorator(func: Callable[..., Any]) -> JobDefinition:
        definition = JobDefinition(kind, func, label, permission, idempotent, retries,
                                   retry_delay, backoff, priority, sqlite_writer)
        known = _definitions.get(kind)
        if known is not None and known.func.__qualname__ != func.__qualname__:
            raise ValueError(f"job kind {kind!r} is declared twice")
        _definitions[kind] = definition
        return definition

    return decorator


def definition_of(kind: str | JobDefinition) -> JobDefinition:
    """The declaration of a kind (or the declaration itself)."""
    if isinstance(kind, JobDefinition):
        return kind
    try:
        return _definitions[kind]
    except KeyError:
        raise UnknownJobKind(kind) from None


def all_definitions() -> list[JobDefinition]:
    """Every declared kind, by name."""
    return [_definitions[k] for k in sorted(_definitions)]
