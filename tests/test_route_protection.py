"""Deny by default: every endpoint not listed here refuses anonymous users."""

import pytest

#: The only endpoints an anonymous visitor may reach. Adding one here is a security decision.
PUBLIC_ENDPOINTS = {
    "static",
    "bootstrap.static",
    "main.index",
    "auth.login",
    "auth.set_language",
    "reports.transparency",
    # The public portal (issue 5): request form, receipt, lookup, tracking link and its
    # actions and files (the secret token is the credential), and firm account requests.
    "portal.new_request",
    "portal.received",
    "portal.lookup",
    "portal.track",
    "portal.track_action",
    "portal.track_file",
    "portal.register",
    # The machine interface (issue 18): its OpenAPI document and the page describing it.
    "api-docs.openapi_json",
    "api.docs",
    # Open311 GeoReport v2 (issue 18): discovery and the services (the categories the public
    # form offers anyway); its requests need a client's api_key.
    "open311.discovery",
    "open311.services_list",
    "open311.service_definition",
}


def _sample_path(rule) -> str:
    """A concrete URL for the rule: 1 for ids, the first choice for ``any(...)`` parts."""
    values = {}
    for arg, converter in rule._converters.items():
        choices = getattr(converter, "items", None)
        values[arg] = sorted(choices)[0] if choices else 1
    return rule.build(values, append_unknown=False)[1]


def protected_rules(app):
    return [r for r in app.url_map.iter_rules() if r.endpoint not in PUBLIC_ENDPOINTS]


def _token_only(app, rule) -> bool:
    """Paths of the machine interface: authenticated by token only, never by the cookie."""
    from app.core.security import token_prefix

    return token_prefix(rule.rule) is not None


def test_public_list_matches_the_views_marked_public(app):
    from app.core.security import is_public_endpoint

    marked = {e for e in app.view_functions if is_public_endpoint(app, e)}
    assert marked == PUBLIC_ENDPOINTS


@pytest.mark.parametrize("as_json", [False, True])
def test_every_protected_endpoint_refuses_anonymous_users(app, client, as_json):
    headers = {"Accept": "application/json"} if as_json else {}
    for rule in protected_rules(app):
        path = _sample_path(rule)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            response = client.open(path, method=method, headers=headers)
            if _token_only(app, rule):
                # no CSRF there (no cookie is read): an anonymous call is a 401 problem
                assert response.status_code == 401, (rule.endpoint, method)
                if rule.rule.startswith("/open311/"):  # the GeoReport error document
                    assert response.json[0]["code"] == 401, rule.endpoint
                else:
                    assert response.mimetype == "application/problem+json", rule.endpoint
                assert response.headers["WWW-Authenticate"].startswith("Bearer")
                continue
            if as_json:
                assert response.status_code in (400, 401), (rule.endpoint, method)
                if response.status_code == 400:
                    # CSRF is checked before the view; it also refuses, with no content.
                    assert method == "POST", (rule.endpoint, method)
            else:
                assert response.status_code in (302, 400), (rule.endpoint, method)
                if response.status_code == 302:
                    assert "/auth/login" in response.headers["Location"], rule.endpoint
            assert b"csrf" not in response.data.lower() or response.status_code == 400


def test_anonymous_post_with_valid_csrf_token_is_still_refused(app, client):
    from tests.helpers import csrf_token

    token = csrf_token(client)
    for rule in protected_rules(app):
        if "POST" not in rule.methods:
            continue
        response = client.post(_sample_path(rule), data={"csrf_token": token})
        if _token_only(app, rule):
            assert response.status_code == 401, rule.endpoint
            continue
        assert response.status_code == 302, rule.endpoint
        assert "/auth/login" in response.headers["Location"]
