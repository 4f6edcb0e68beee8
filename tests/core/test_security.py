"""Security baseline: headers, cookies, CSRF, error pages (DOMAIN §8)."""

import pytest

from app import create_app
from config import ConfigError


def test_security_headers_on_every_page(client):
    headers = client.get("/auth/login").headers
    csp = headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "'unsafe-inline'" not in csp
    assert "frame-ancestors 'none'" in csp
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert "Strict-Transport-Security" not in headers


def test_no_inline_scripts_in_pages(client, make, login_as):
    login_as(make.user("admin"))
    html = client.get("/admin/users").get_data(as_text=True)
    assert "<script>" not in html and "onclick=" not in html


def test_session_cookie_is_httponly_and_samesite_lax(client):
    client.get("/auth/login")
    cookie = client.get_cookie("session")
    assert cookie.http_only and cookie.same_site == "Lax"


def test_form_without_csrf_token_is_refused_with_the_expired_form_page(client, make):
    response = client.post("/auth/login", data={"username": "x", "password": "y"})
    assert response.status_code == 400
    assert "The form has expired" in response.get_data(as_text=True)


def test_unknown_page_gets_the_404_page_in_the_users_language(client):
    response = client.get("/no-such-page", headers={"Accept-Language": "en"})
    assert response.status_code == 404
    assert "Page not found" in response.get_data(as_text=True)


def test_json_clients_get_json_errors(client):
    response = client.get("/home", headers={"Accept": "application/json"})
    assert response.status_code == 401
    assert response.json["status"] == 401


def test_production_refuses_to_start_without_secret_and_database(monkeypatch):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.setenv("DATABASE_URL", "postgresql+psycopg://x@127.0.0.1/x")
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        create_app("production")
    monkeypatch.setenv("SECRET_KEY", "s" * 40)
    monkeypatch.delenv("DATABASE_URL")
    with pytest.raises(ConfigError, match="DATABASE_URL"):
        create_app("production")


def test_production_sends_hsts_and_secure_cookies(monkeypatch):
    monkeypatch.setenv("SECRET_KEY", "s" * 40)
    monkeypatch.setenv("DATABASE_URL", "sqlite://")
    app = create_app("production")
    assert app.config["SESSION_COOKIE_SECURE"] and app.config["REMEMBER_COOKIE_SECURE"]
    response = app.test_client().get("/auth/login")
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")


def test_unexpected_error_gives_the_500_page_and_rolls_back(app, client):
    from app.core.errors import render_error

    with app.test_request_context("/", headers={"Accept-Language": "en"}):
        body, code = render_error(500)
    assert code == 500 and "Nothing was saved" in body


def test_oversized_request_gets_the_413_page(app, client):
    limit = app.config["MAX_CONTENT_LENGTH"]
    app.config["MAX_CONTENT_LENGTH"] = 1024
    try:
        response = client.post("/auth/login", data={"username": "x" * 4096})
    finally:
        app.config["MAX_CONTENT_LENGTH"] = limit
    assert response.status_code == 413
    assert "File too large" in response.get_data(as_text=True)
