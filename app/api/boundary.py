"""Where an API request meets the services: refusals as problem documents, the one commit of
a write, ``Idempotency-Key`` and ``ETag`` / ``If-Match``.

A write view is load → authorise → one service call, like a web view; :func:`writes` wraps
it: starts the transaction as a writer, records the idempotency key in the same transaction as
the work, commits once, or rolls everything back and answers the refusal.
"""

from __future__ import annotations

import hashlib
import json
from functools import wraps

import sqlalchemy as sa
from flask import Response, abort, request
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.exc import IntegrityError

from app.api.models import IdempotencyKey
from app.core.clock import now_utc
from app.core.errors import DomainError, PermissionDenied, ValidationFailed, problem
from app.core.transactions import begin_write, commit_or_raise
from app.extensions import db

#: Headers of a first answer that a replay repeats (what was made, and its version).
REPLAYED_HEADERS = ("Location", "ETag")


def problem_for(error: DomainError) -> Response:
    """A refused service call as a problem document: 403 not allowed, 412 changed meanwhile,
    422 invalid data (with the field that failed), 409 any other rule of the state."""
    from app.tickets.errors import ConcurrentChange

    if isinstance(error, PermissionDenied):
        return problem(403, detail=str(error), kind="forbidden")
    if isinstance(error, ConcurrentChange):
        return problem(412, detail=str(error), kind="changed-meanwhile")
    field = getattr(error, "field", None)
    errors = [{"pointer": f"/{field}", "detail": str(error)}] if field else None
    if isinstance(error, ValidationFailed):
        return problem(422, detail=str(error), kind="invalid", errors=errors)
    return problem(409, _("Not possible now"), str(error), kind="refused", errors=errors)


def writes(view):
    """The boundary of a write: one transaction, committed once, refusals answered as
    problems, and an ``Idempotency-Key`` honoured: the first answer is stored with the work,
    and a retry with the same key gets it again (``Idempotent-Replayed: true``)."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        key = _idempotency_key()
        begin_write()
        user_id = current_user.id
        fingerprint = _fingerprint()
        if key is not None:
            stored = _stored(user_id, key)
            if stored is not None:
                return _replay(stored, fingerprint)
        def work():
            row = _claim(user_id, key, fingerprint) if key is not None else None
            response = view(*args, **kwargs)
            if row is not None:
                _remember(row, response)
            return response

        try:
            return commit_or_raise(work)  # rolled back whole on any exception
        except IntegrityError:
            stored = _stored(user_id, key) if key is not None else None
            if stored is None:
                raise
            return _replay(stored, fingerprint)  # a concurrent twin committed first
        except DomainError as error:
            return problem_for(error)

    return wrapped


def _idempotency_key() -> str | None:
    key = request.headers.get("Idempotency-Key")
    if key is None:
        return None
    key = key.strip()
    if not 1 <= len(key) <= 255:
        abort(problem(400, detail=_("An Idempotency-Key has 1 to 255 characters."),
                      kind="invalid-idempotency-key"))
    return key


def _fingerprint() -> str:
    digest = hashlib.sha256()
    for part in (request.method, request.path, request.get_data()):
        digest.update(part if isinstance(part, bytes) else part.encode())
        digest.update(b"\0")
    return digest.hexdigest()


_STORED = sa.select(IdempotencyKey).where(IdempotencyKey.user_id == sa.bindparam("user_id"),
                                          IdempotencyKey.key == sa.bindparam("key"))


def _stored(user_id: int, key: str) -> IdempotencyKey | None:
    return db.session.scalar(_STORED, {"user_id": user_id, "key": key})


def _claim(user_id: int, key: str, fingerprint: str) -> IdempotencyKey:
    """Insert the key before the work: a concurrent request with the same key waits on the
    unique index (PostgreSQL) or the write lock (SQLite) until this one ends."""
    row = IdempotencyKey(user_id=user_id, key=key, fingerprint=fingerprint, status_code=0,
                         body="", headers={}, created_at=now_utc())
    db.session.add(row)
    db.session.flush()
    return row


def _remember(row: IdempotencyKey, response: Response) -> None:
    row.status_code = response.status_code
    row.body = response.get_data(as_text=True)
    row.headers = {name: response.headers[name] for name in REPLAYED_HEADERS
                   if name in response.headers}
    row.headers["Content-Type"] = response.content_type
    db.session.flush()


def _replay(stored: IdempotencyKey, fingerprint: str) -> Response:
    if stored.fingerprint != fingerprint:
        return problem(409, _("Idempotency key reused"),
                       _("This Idempotency-Key was used for another request."),
                       kind="idempotency-key-reused")
    headers = dict(stored.headers)
    content_type = headers.pop("Content-Type", "application/json")
    response = Response(stored.body, status=stored.status_code, content_type=content_type,
                        headers=headers)
    response.headers["Idempotent-Replayed"] = "true"
    return response


# -- ETag / If-Match ---------------------------------------------------------------------------


def etag(kind: str, row_id: int, version: int) -> str:
    """A strong entity tag naming a row's version."""
    return f'"{kind}-{row_id}-v{version}"'


def check_if_match(current: str) -> None:
    """A write to an existing object names the version it read: none → 428, another → 412."""
    header = request.headers.get("If-Match")
    if header is None:
        abort(problem(428, kind="if-match-required"))
    tags = {tag.strip().removeprefix("W/") for tag in header.split(",")}
    if "*" not in tags and current not in tags:
        abort(problem(412, kind="changed-meanwhile"))


def json_body(data, status: int = 200, headers: dict | None = None) -> Response:
    """A JSON answer (the schemas' dump), compact and in UTF-8."""
    response = Response(json.dumps(data, ensure_ascii=False, separators=(",", ":")),
                        status=status, mimetype="application/json")
    response.headers.extend(headers or {})
    return response
