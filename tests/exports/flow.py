"""Starting an export or import as a user does: POST the page's button (CSRF), follow the
redirect to the job's page (in the tests the job has run by then: immediate mode), and
download its file."""

from __future__ import annotations

import re

from tests.helpers import csrf_token

_DOWNLOAD = re.compile(r'href="(/my/files/\d+/(?:export|errors))"')


def start(client, path: str, token_from: str = "/auth/change-password", **kwargs):
    """POST the button that starts the job; returns the job page's response."""
    data = {"csrf_token": csrf_token(client, token_from), **kwargs.pop("data", {})}
    response = client.post(path, data=data, **kwargs)
    assert response.status_code == 302, response.status_code
    location = response.headers["Location"]
    assert re.search(r"/my/files/\d+$", location), location
    return client.get(location)


def job_id(page) -> int:
    """The job's number, from its page."""
    return int(re.search(r'/my/files/(\d+)/progress', page.get_data(as_text=True)).group(1))


def download_links(page) -> list[str]:
    """The download links on a job's page."""
    return _DOWNLOAD.findall(page.get_data(as_text=True))


def export(client, path: str, **kwargs):
    """Start an export and download its file; returns the download's response."""
    page = start(client, path, **kwargs)
    links = download_links(page)
    assert links, page.get_data(as_text=True)
    return client.get(links[0])
