"""The one way a boundary commits: a view (or request hook) runs a service through
:func:`commit_or_explain`, a command through :func:`commit_or_stop`.

Every mutation is one transaction: the service flushes, the boundary commits once — or, when a
domain rule refuses, rolls back everything the service did and shows the refusal: to the user,
as a flashed message or next to the form field the refusal names; to the operator, as the
command's error. No view commits in any other way (a test walks the views).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import click
from flask import flash, g, has_request_context
from sqlalchemy import event
from sqlalchemy.orm import Session

from app.core.errors import DomainError
from app.extensions import db

T = TypeVar("T")


class Refused:
    """What :func:`commit_or_explain` returns when a rule refused: false in a test, and the
    refusal itself for a view whose answer depends on it (a conflict is a 409)."""

    __slots__ = ("error",)

    def __init__(self, error: DomainError):
        self.error = error

    def __bool__(self) -> bool:
        return False


def explain(error: DomainError, form=None, field: str | None = None) -> None:
    """Show a refusal next to the form field it names (``error.field``), else next to
    ``field``, else as a flashed message — so the user sees it where they can fix it."""
    name = getattr(error, "field", None)
    if form is None or not (name and name in form):
        name = field
    if form is not None and name and name in form:
        form[name].errors = [*form[name].errors, str(error)]
    else:
        flash(str(error), "danger")


def commit_or_explain(call: Callable[[], T], success: Callable[[T], str] | str | None = None,
                      *, form=None, field: str | None = None, keep_refused: bool = False):
    """Run ``call``; commit and flash ``success``, or roll back and explain the refusal.

    Without ``form`` the refusal is flashed. With ``form`` (the one the user submitted), a
    refusal that names one of its fields goes next to that field, one that names none goes
    next to ``field`` when given, and is flashed otherwise (:func:`explain`); the view then
    re-renders the form. ``keep_refused`` commits what the service wrote before it refused
    (the audit row of a failed sign-in, which counts towards the lock-out).

    :returns: the service's result (``True`` if it returned ``None``), or a false
        :class:`Refused` when it was refused (nothing was written, unless ``keep_refused``).
    """
    try:
        result = call()
    except DomainError as error:
        if keep_refused:
            db.session.commit()
        else:
            db.session.rollback()
        explain(error, form, field)
        return Refused(error)
    db.session.commit()
    message = success(result) if callable(success) else success
    if message:
        flash(message, "success")
    return result if result is not None else True


def commit_or_stop(call: Callable[[], T]) -> T:
    """The command-line boundary: run ``call`` and commit, or roll back and stop the command
    with the refusal as its error message (exit status 1)."""
    try:
        result = call()
    except DomainError as error:
        db.session.rollback()
        raise click.ClickException(str(error)) from error
    db.session.commit()
    return result


def commit_or_raise(call: Callable[[], T]) -> T:
    """The machine interface's boundary: run ``call`` and commit, or roll back and raise the
    refusal again (the API answers it as a problem document; nothing was written)."""
    try:
        result = call()
    except Exception:
        db.session.rollback()
        raise
    db.session.commit()
    return result


def begin_write(session=None) -> None:
    """Start the transaction as a writer (SQLite: ``BEGIN IMMEDIATE``).

    Many submissions (or jobs) at once would otherwise fail with "database is locked" on
    SQLite: a transaction that has read cannot wait for a busy writer. So what was read
    before (the signed-in user, a refresh of the form's category cache) is ended first — it
    only read — and the writer's turn starts fresh. Call it before anything is changed. On
    PostgreSQL this changes nothing.
    """
    session = session if session is not None else db.session()
    if session.get_bind().dialect.name != "sqlite":
        return
    if session.in_transaction():
        if session.new or session.dirty or session.deleted:
            raise RuntimeError("begin_write() after changes: they would be committed early")
        session.commit()
    session.connection(execution_options={"sqlite_begin_immediate": True})


@event.listens_for(Session, "after_commit")
def _note_commit(_session) -> None:
    """Remember that the current request has committed, so an error page shown afterwards
    never claims that nothing was saved."""
    if has_request_context():
        g.committed_in_request = True


def committed_in_request() -> bool:
    """Whether the current request has already committed a change (false outside one)."""
    return has_request_context() and bool(g.get("committed_in_request"))
