"""Behind a reverse proxy the client's address comes from X-Forwarded-For — only when the
deployment says a proxy is there (otherwise anyone could pick the address the per-address
rate limits count)."""

from __future__ import annotations

import pytest
from flask import request

from app import create_app
from app.core.security import public


def _echo_app(hops: int):
    app = create_app("testing", {"TRUSTED_PROXIES": hops})

    @public
    def whoami():
        return f"{request.remote_addr} {request.scheme}"

    app.add_url_rule("/test/whoami", "test_whoami", whoami)
    return app


@pytest.mark.parametrize(("hops", "expected"), [
    (0, "127.0.0.1 http"),          # no proxy configured: the headers are ignored
    (1, "203.0.113.7 https"),       # nginx in front: its view of the client counts
])
def test_forwarded_headers_count_only_behind_a_configured_proxy(hops, expected):
    client = _echo_app(hops).test_client()
    response = client.get("/test/whoami", environ_base={"REMOTE_ADDR": "127.0.0.1"},
                          headers={"X-Forwarded-For": "203.0.113.7",
                                   "X-Forwarded-Proto": "https"})
    assert response.get_data(as_text=True) == expected


def test_a_client_cannot_hide_behind_a_forged_chain():
    """With one proxy only the address it appended counts, not what the client put before."""
    client = _echo_app(1).test_client()
    response = client.get("/test/whoami", environ_base={"REMOTE_ADDR": "127.0.0.1"},
                          headers={"X-Forwarded-For": "10.0.0.1, 198.51.100.9"})
    assert response.get_data(as_text=True).split()[0] == "198.51.100.9"
