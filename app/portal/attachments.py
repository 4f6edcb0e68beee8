"""Files attached to a ticket by a requester or by staff: checked, then stored outside web root.

The type is decided by :func:`app.core.file_types.identify` — the file's content, which must
agree with its extension; never the browser's claim — and the file is saved under a random name
in ``TICKET_UPLOAD_DIR`` (default ``instance/uploads``), so nothing uploaded can be served as a
page or reach another path. Every check runs before anything is written.
"""

from __future__ import annotations

import hashlib
import os
import secrets

from flask import current_app
from flask_babel import gettext as _

from app.core import file_types
from app.core.clock import now_utc
from app.core.errors import ValidationFailed
from app.extensions import db
from app.tickets.models import Attachment, CommentVisibility

MAX_FILES = 5


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


def store(ticket, checked, uploaded_by=None,
          visibility: CommentVisibility = CommentVisibility.PUBLIC) -> list[Attachment]:
    """Write checked files under random names and record them on the ticket (public unless
    staff mark them internal)."""
    rows = []
    for original_name, content, content_type in checked:
        stored = secrets.token_hex(16)
        with open(os.path.join(storage_dir(), stored), "xb") as handle:
            handle.write(content)
        row = Attachment(ticket_id=ticket.id, uploaded_by_id=getattr(uploaded_by, "id", None),
                         visibility=visibility, original_name=original_name,
                         stored_name=stored, content_type=content_type,
                         size_bytes=len(content), sha256=hashlib.sha256(content).hexdigest(),
                         created_at=now_utc())
        db.session.add(row)
        rows.append(row)
    db.session.flush()
    return rows


def path_of(row: Attachment) -> str:
    """The file on disk (the stored name is random hex, so it cannot escape the directory)."""
    return os.path.join(storage_dir(), row.stored_name)
