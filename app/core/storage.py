"""Uploaded files: checked, then kept outside the web root under random names.

The type is decided by :func:`app.core.file_types.identify` — the file's content, which must
agree with its extension; never the browser's claim — and the file is saved under a random name
in ``TICKET_UPLOAD_DIR`` (default ``instance/uploads``), so nothing uploaded can be served as a
page or reach another path. Every check runs before anything is written.

This module knows bytes and names only; which record a file belongs to, and who may fetch it,
is the owning domain's business (:mod:`app.tickets.attachment_files`).
"""

from __future__ import annotations

import hashlib
import os
import secrets
from dataclasses import dataclass

from flask import current_app
from flask_babel import gettext as _

from app.core import file_types
from app.core.errors import ValidationFailed

MAX_FILES = 5


@dataclass(frozen=True)
class StoredFile:
    """A file written by :func:`save`: its random name on disk, size and SHA-256."""

    stored_name: str
    size_bytes: int
    sha256: str


def storage_dir() -> str:
    """Where uploads live: configurable, never under ``static/``."""
    path = current_app.config.get("TICKET_UPLOAD_DIR") or os.path.join(
        current_app.instance_path, "uploads")
    os.makedirs(path, exist_ok=True)
    return path


def check_files(files, limit_setting: str = "PORTAL_UPLOAD_MAX_BYTES"
                ) -> list[tuple[str, bytes, str]]:
    """Read and check every non-empty upload; ``(name, content, type)`` for each.

    Staff pages pass ``TICKET_UPLOAD_MAX_BYTES``: the same checks, their own size limit.

    :raises ValidationFailed: too many files, a file too large, or not one of the accepted
        kinds (:func:`app.core.file_types.identify`).
    """
    limit = current_app.config.get(limit_setting, 10 * 1024 * 1024)
    checked = []
    for upload in files or []:
        if upload is None or not getattr(upload, "filename", ""):
            continue
        content = upload.read(limit + 1)
        if len(content) > limit:
            raise ValidationFailed(_("Each file may be at most %(mb)d MB.", mb=limit // 2**20))
        kind = file_types.identify(upload.filename, content)
        checked.append((file_types.safe_name(upload.filename), content, kind.content_type))
    if len(checked) > MAX_FILES:
        raise ValidationFailed(_("Attach at most %(n)d files.", n=MAX_FILES))
    return checked


def save(content: bytes) -> StoredFile:
    """Write checked content under a new random name (never overwriting a file)."""
    stored = secrets.token_hex(16)
    with open(os.path.join(storage_dir(), stored), "xb") as handle:
        handle.write(content)
    return StoredFile(stored, len(content), hashlib.sha256(content).hexdigest())


def new_file() -> tuple[str, object]:
    """A new empty file under a random name, open for binary writing: ``(name, handle)``.
    For files written row by row (exports), which never sit whole in memory."""
    stored = secrets.token_hex(16)
    return stored, open(os.path.join(storage_dir(), stored), "xb")


def remove(stored_name: str) -> bool:
    """Delete a stored file; ``False`` if it was already gone."""
    try:
        os.remove(path_of(stored_name))
    except FileNotFoundError:
        return False
    return True


def path_of(stored_name: str) -> str:
    """The file on disk (a stored name is random hex, so it cannot escape the directory)."""
    return os.path.join(storage_dir(), stored_name)
