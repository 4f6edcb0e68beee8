"""Domain errors and the HTTP error pages (HTML in the user's language, or JSON for APIs)."""

from __future__ import annotations

import contextlib
import logging

from flask import Flask, Response, current_app, g, jsonify, render_template, request, session
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import InterfaceError, OperationalError
from werkzeug.exceptions import HTTPException

from app.extensions import db

logger = logging.getLogger("ruyi.errors")


class DomainError(Exception):
    """A business rule refused an action; the message is safe to show to the user."""


class PermissionDenied(DomainError):
    """The actor may not perform this action on this object."""


class ValidationFailed(DomainError):
    """Input was well-formed but breaks a domain rule."""


#: RFC 9457 problem details: the media type of every error of the machine interface.
PROBLEM_JSON = "application/problem+json"


def problem(status: int, title: str | None = None, detail: str | None = None, *,
            kind: str | None = None, errors: list[dict] | None = None,
            headers: dict | None = None) -> Response:
    """An RFC 9457 problem: ``type`` names the kind of problem (``about:blank`` for a plain
    HTTP status), ``title`` says it for people, ``detail`` this occurrence, and ``errors``
    lists the fields that failed (``{"pointer": "/title", "detail": ...}``)."""
    default_title, default_detail = _messages().get(status, (None, None))
    body = {"type": f"urn:ruyi:problem:{kind}" if kind else "about:blank",
            "title": title or default_title or str(status), "status": status}
    detail = detail or default_detail
    if detail:
        body["detail"] = detail
    if errors:
        body["errors"] = errors
    response = jsonify(body)
    response.status_code = status
    response.mimetype = PROBLEM_JSON
    response.headers.extend(headers or {})
    return response


def wants_problem() -> bool:
    """Errors of token-authenticated paths (the machine interface) are problem details."""
    from app.core.security import token_prefix

    return token_prefix(request.path) is not None


def wants_json() -> bool:
    """JSON for API paths and clients that prefer it over HTML."""
    if wants_problem():
        return True
    best = request.accept_mimetypes.best_match(["application/json", "text/html"])
    return best == "application/json" and request.accept_mimetypes[best] > request.accept_mimetypes[
        "text/html"
    ]


def _messages() -> dict[int, tuple[str, str]]:
    return {
        400: (_("Bad request"), _("The request could not be understood.")),
        401: (_("Please sign in"), _("You need to sign in to see this page.")),
        403: (_("Access denied"), _("You do not have permission to do this.")),
        404: (_("Page not found"), _("The page does not exist, or you may not see it.")),
        405: (_("Method not allowed"), _("This address does not accept that kind of request.")),
        406: (_("Not acceptable"), _("This address cannot answer in the format asked for.")),
        409: (_("Conflict"), _("The request conflicts with the current state of the object.")),
        412: (_("Changed meanwhile"),
              _("Someone changed this since you read it: read it again, then retry.")),
        413: (_("File too large"), _("The uploaded content is larger than allowed.")),
        415: (_("Unsupported media type"), _("Send the content in a format this address "
                                              "accepts.")),
        422: (_("Invalid data"), _("Some fields are missing or not valid.")),
        428: (_("Precondition required"),
              _("Send If-Match with the ETag you read, so no change is overwritten.")),
        429: (_("Too many requests"), _("Too many attempts. Please wait a moment and try again.")),
        500: (_("Something went wrong"), _("An unexpected error occurred. Nothing was saved.")),
    }


def render_error(code: int, title: str | None = None, text: str | None = None):
    """Render an error in the negotiated language and format."""
    default_title, default_text = _messages().get(code, _messages()[500])
    title, text = title or default_title, text or default_text
    if wants_problem():
        return problem(code, title, text)
    if wants_json():
        return jsonify(error=title, message=text, status=code), code
    return render_template("errors/error.html", code=code, title=title, text=text), code


def field_errors(data) -> list[dict] | None:
    """The fields a request's validation refused (webargs' ``messages``: location → field →
    messages, nested for objects), as ``{"pointer", "detail", "in"}`` entries."""
    messages = (data or {}).get("messages") if isinstance(data, dict) else None
    if not messages:
        return None
    errors: list[dict] = []

    def walk(value, path: str, where: str) -> None:
        if isinstance(value, dict):
            for key, inner in value.items():
                walk(inner, f"{path}/{key}", where)
        elif isinstance(value, list) and all(isinstance(item, str) for item in value):
            errors.extend({"pointer": path or "/", "detail": item, "in": where}
                          for item in value)
        elif isinstance(value, list):
            for index, inner in enumerate(value):
                walk(inner, f"{path}/{index}", where)
        else:
            errors.append({"pointer": path or "/", "detail": str(value), "in": where})

    for location, fields in messages.items():
        walk(fields, "", location)
    return errors


def _error_headers(error: HTTPException) -> dict:
    """Headers an HTTP error carries (``Allow`` of a 405, ``WWW-Authenticate``)."""
    response = error.get_response()
    return {name: value for name, value in response.headers.items()
            if name in ("Allow", "WWW-Authenticate", "Retry-After")}


def register_error_handlers(app: Flask) -> None:
    """Attach handlers so no error reaches the user as a bare server page."""

    @app.errorhandler(CSRFError)
    def csrf_error(_error):
        return render_template("errors/csrf.html"), 400

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        if error.code == 413:
            _drain_refused_body()
        if wants_problem():
            return problem(error.code or 500, headers=_error_headers(error),
                           errors=field_errors(getattr(error, "data", None)),
                           kind="invalid" if error.code == 422 else None)
        return render_error(error.code or 500)

    @app.errorhandler(OperationalError)
    @app.errorhandler(InterfaceError)
    def database_unavailable(error: Exception):
        return unavailable_page(error)

    @app.errorhandler(Exception)
    def unexpected_error(error: Exception):
        if isinstance(error, HTTPException):
            return http_error(error)
        db.session.rollback()
        logger.exception("Unhandled error on %s %s", request.method, request.path)
        return render_error(500)


#: Seconds a client is asked to wait when the database does not answer.
RETRY_AFTER = 15


def _locale_without_database() -> str:
    """The page's language from the session cookie or the browser (a signed-in user's own
    preference is in the database, which is not answering)."""
    from app.core.i18n import negotiate

    supported = current_app.config["LANGUAGES"]
    try:
        chosen = session.get("lang")
    except Exception:  # the session may live in the database too
        chosen = None
    if chosen in supported:
        return chosen
    return negotiate(request.accept_languages) or current_app.config["BABEL_DEFAULT_LOCALE"]


def unavailable_page(error: Exception):
    """503 while the database cannot be reached (restart, fail-over, network): a page made
    without the database, saying that nothing was saved and to try again. The pool checks
    each connection before use (``pool_pre_ping``), so the site recovers by itself."""
    with contextlib.suppress(Exception):
        db.session.rollback()
    with contextlib.suppress(Exception):
        db.session.remove()
    logger.warning("database unavailable on %s %s: %s", request.method, request.path,
                   str(error).splitlines()[0][:300] if str(error) else type(error).__name__)
    headers = {"Retry-After": str(RETRY_AFTER)}
    if "_login_user" not in g:  # the page is made as for a visitor: the user is not loaded
        g._login_user = current_app.login_manager.anonymous_user()
    with force_locale(_locale_without_database()):
        title = _("Service temporarily unavailable")
        text = _("The database is not answering right now. Nothing was saved: please try "
                 "again in a moment.")
        if wants_problem():
            return problem(503, title, text, headers=headers)
        if wants_json():
            return jsonify(error=title, message=text, status=503), 503, headers
        return render_template("errors/unavailable.html", title=title, text=text), 503, headers


#: A refused body up to this much over ``MAX_CONTENT_LENGTH`` is read to its end before the
#: 413 page is sent (nginx lets through 1 MB more than the application, deploy/nginx/ruyi.conf).
DRAIN_MARGIN = 2 * 2**20


def _drain_refused_body() -> None:
    """Read and drop the rest of a too-large body before answering. nginx sends the whole
    body before it reads the answer: a server that answers and closes with the body unread
    resets the connection, and the user would get the proxy's 502 instead of the 413 page.
    A body far over the limit is not read (the connection is closed, as before)."""
    length = request.content_length or 0
    stream = request.environ.get("wsgi.input")
    if stream is None or length > (current_app.config["MAX_CONTENT_LENGTH"] or 0) + DRAIN_MARGIN:
        return
    while length > 0:
        chunk = stream.read(min(length, 2**16))
        if not chunk:
            return
        length -= len(chunk)
