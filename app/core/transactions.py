"""The one way a view runs a service: commit on success, roll back and explain on refusal.

Every mutation is one transaction: the service flushes, this commits once — or, when a domain
rule refuses, rolls back everything the service did and shows the refusal to the user, either
as a flashed message or, on a form, next to the field the refusal names.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from flask import flash

from app.core.errors import DomainError
from app.extensions import db

T = TypeVar("T")


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
                      *, form=None, field: str | None = None):
    """Run ``call``; commit and flash ``success``, or roll back and explain the refusal.

    Without ``form`` the refusal is flashed. With ``form`` (the one the user submitted), a
    refusal that names one of its fields goes next to that field, one that names none goes
    next to ``field`` when given, and is flashed otherwise (:func:`explain`); the view then
    re-renders the form.

    :returns: the service's result (``True`` if it returned ``None``), or ``None`` when it was
        refused (nothing was written).
    """
    try:
        result = call()
    except DomainError as error:
        db.session.rollback()
        explain(error, form, field)
        return None
    db.session.commit()
    message = success(result) if callable(success) else success
    if message:
        flash(message, "success")
    return result if result is not None else True
