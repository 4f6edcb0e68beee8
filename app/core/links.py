"""Links stored or sent by business code: always built from the routes, never typed out.

In a request this is :func:`flask.url_for`. Outside one — the SLA scan, a background job, the
demo seed — Flask cannot build a URL without ``SERVER_NAME``, so the path is built from the
same URL map at ``APPLICATION_ROOT``: a renamed route changes every link at once.
"""

from __future__ import annotations

from flask import current_app, has_request_context, url_for


def path_for(endpoint: str, **values) -> str:
    """The path of ``endpoint`` with ``values`` (no scheme or host), in or out of a request."""
    if has_request_context():
        return url_for(endpoint, **values)
    root = current_app.config.get("APPLICATION_ROOT") or "/"
    return current_app.url_map.bind("localhost", script_name=root).build(endpoint, values)
