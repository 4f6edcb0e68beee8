"""Files of the tests' jobs go to a folder of their own, emptied after each test."""

from __future__ import annotations

import pytest

from app.jobs.engine import huey


@pytest.fixture(autouse=True)
def files_dir(app, tmp_path):
    """Uploads and export files under the test's temporary folder; a clean job store."""
    saved = app.config.get("TICKET_UPLOAD_DIR")
    app.config["TICKET_UPLOAD_DIR"] = str(tmp_path / "files")
    huey.storage.flush_all()
    yield tmp_path / "files"
    app.config["TICKET_UPLOAD_DIR"] = saved
    huey.storage.flush_all()
