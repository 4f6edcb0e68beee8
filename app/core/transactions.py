"""The one way a view runs a service: commit on success, roll back and explain on refusal.

Every mutation is one transaction: the service flushes, this commits once — or, when a domain
rule refuses, rolls back everything the service did and shows the refusal to the user.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from flask import flash

from app.core.errors import DomainError
from app.extensions import db

T = TypeVar("T")


def commit_or_explain(call: Callable[[], T], success: Callable[[T], str] | str | None = None):
    """Run ``call``; commit and flash ``success``, or roll back and flash the refusal.

    :returns: the service's result, or ``None`` when it was refused (nothing was written).
    """
    try:
        result = call()
    except DomainError as error:
        db.session.rollback()
        flash(str(error), "danger")
        return None
    db.session.commit()
    message = success(result) if callable(success) else success
    if message:
        flash(message, "success")
    return result if result is not None else True
