"""The machine interface (DOMAIN §3 channel ``api``): a REST API under ``/api/v1/`` described
by OpenAPI 3.1, Open311 GeoReport v2 under ``/open311/v2/``, tokens and integration clients.

It is an upper layer: every route calls the domains' services and asks the same permissions
and predicates as the pages; nothing here is a second set of rules.
"""

from __future__ import annotations

from flask import Blueprint, Flask
from flask_babel import lazy_gettext as _l
from flask_smorest import Api
from flask_smorest import Blueprint as SmorestBlueprint
from webargs.flaskparser import FlaskParser

from app.core.navigation import register_nav
from app.core.permissions import Permission

#: Web pages: a person's own tokens, administrators' clients; the documentation page.
bp = Blueprint("api", __name__)

register_nav("api.tokens", _l("API tokens"), Permission.API_TOKEN_OWN, order=90, group="admin")
register_nav("api.clients", _l("API clients"), Permission.API_CLIENT_MANAGE, order=91,
             group="admin")


def openapi_settings(url_prefix: str) -> dict:
    """The OpenAPI document's settings (flask-smorest reads them from the configuration):
    served at ``<url_prefix>/openapi.json``."""
    return {"API_TITLE": "Ruyi API", "API_VERSION": "v1", "OPENAPI_VERSION": "3.1.0",
            "OPENAPI_URL_PREFIX": url_prefix, "OPENAPI_JSON_PATH": "openapi.json"}


class ApiBlueprint(SmorestBlueprint):
    """A blueprint of the REST API: each schema says whether unknown fields are refused
    (query parameters) or ignored (bodies), whatever the location."""

    ARGUMENTS_PARSER = FlaskParser(unknown=None)


class RuyiApi(Api):
    """flask-smorest's Api without its error handler: the application's own answers every
    error, as problem details on the API's paths."""

    #: Every answer a route gives is documented with its own schema (no catch-all).
    DEFAULT_ERROR_RESPONSE_NAME = None

    def _register_error_handlers(self):
        return None


def init_app(app: Flask) -> None:
    """Register the API's blueprints, its spec and its token gate on ``app``."""
    from app.api import auth, open311, registry, schemas, tickets, views  # noqa: F401 - routes
    from app.core.security import public, register_token_authenticator
    from app.extensions import csrf

    for name, value in openapi_settings(url_prefix="/api").items():
        app.config.setdefault(name, value)
    api = RuyiApi(app, spec_kwargs={
        "info": {"description": "The machine interface of Ruyi. Authenticate with "
                                "`Authorization: Bearer <token>`; errors are RFC 9457 "
                                "problem details."},
        "servers": [{"url": "/"}],
        "security": [{"bearer": []}],
    })
    api.spec.components.security_scheme("bearer", {"type": "http", "scheme": "bearer"})
    for blueprint in (tickets.blp, registry.blp):
        api.register_blueprint(blueprint)
        csrf.exempt(blueprint)
    api.spec.components.schemas["TicketCreate"].update(schemas.TICKET_CREATE_ONE_OF)
    app.extensions["ruyi-api"] = api
    spec_view = app.view_functions["api-docs.openapi_json"]
    app.view_functions["api-docs.openapi_json"] = public(lambda: spec_view())
    app.register_blueprint(bp)
    register_token_authenticator(url_prefix="/api/", authenticate=auth.authenticate_api)
    app.register_blueprint(open311.bp)
    csrf.exempt(open311.bp)
    register_token_authenticator(url_prefix="/open311/", authenticate=auth.authenticate_open311)
    app.after_request(open311.as_open311_errors)
