"""A ticket's files: stored, listed to whoever may see them, downloaded with an audit trail.

The checks (type by content, size, random stored name outside ``static/``) live in
:mod:`app.core.storage`; this module records the files on their ticket and adds who may see
which file. Firm users see public files only; everyone else who may view the ticket sees all
of them. The public portal stores its requesters' files through :func:`store` as well.
"""

from __future__ import annotations

import sqlalchemy as sa
from flask_babel import gettext as _

from app.core import audit, storage
from app.core.clock import now_utc
from app.core.errors import ValidationFailed
from app.core.permissions import Permission
from app.extensions import db
from app.tickets.models import Attachment, CommentVisibility


def store(ticket, checked, uploaded_by=None,
          visibility: CommentVisibility = CommentVisibility.PUBLIC) -> list[Attachment]:
    """Write checked files (:func:`app.core.storage.check_files`) under random names and
    record them on the ticket (public unless staff mark them internal)."""
    rows = []
    for original_name, content, content_type in checked:
        saved = storage.save(content)
        row = Attachment(ticket_id=ticket.id, uploaded_by_id=getattr(uploaded_by, "id", None),
                         visibility=visibility, original_name=original_name,
                         stored_name=saved.stored_name, content_type=content_type,
                         size_bytes=saved.size_bytes, sha256=saved.sha256,
                         created_at=now_utc())
        db.session.add(row)
        rows.append(row)
    db.session.flush()
    return rows


def path_of(row: Attachment) -> str:
    """The file of an attachment row on disk."""
    return storage.path_of(row.stored_name)


def sees_internal(user) -> bool:
    """Whether the user may download internal files (staff who comment on tickets)."""
    return user.can(Permission.TICKET_COMMENT)


def _visible(ticket, user):
    return visible_statement(ticket.id, sees_internal(user))


def visible_statement(ticket_id, internal: bool) -> sa.Select:
    """The ticket's files, only the public ones unless ``internal`` (:func:`sees_internal`);
    ``ticket_id`` may be a bound parameter (the ticket page's cached statement)."""
    statement = sa.select(Attachment).where(Attachment.ticket_id == ticket_id)
    if not internal:
        statement = statement.where(Attachment.visibility == CommentVisibility.PUBLIC)
    return statement


def get_visible(ticket, user, attachment_id: int) -> Attachment | None:
    """One file of this ticket the user may download, or ``None``."""
    return db.session.scalar(_visible(ticket, user).where(Attachment.id == attachment_id))


def attach(ticket, user, upload, visibility: str) -> Attachment:
    """Check and store one file; refused files raise before anything is written.

    :raises ValidationFailed: no file, wrong type by content, or larger than the staff limit.
    """
    checked = storage.check_files([upload], limit_setting="TICKET_UPLOAD_MAX_BYTES")
    if not checked:
        raise ValidationFailed(_("Choose a file to attach."))
    [row] = store(ticket, checked, uploaded_by=user, visibility=CommentVisibility(visibility))
    audit.record("ticket.attachment_upload", actor=user, obj=row,
                 details={"ticket": ticket.reference, "name": row.original_name,
                          "size": row.size_bytes, "visibility": row.visibility.value})
    return row


def record_download(row: Attachment, user) -> None:
    """Every download is audited: who fetched which file of which ticket."""
    audit.record("ticket.attachment_download", actor=user, obj=row,
                 details={"ticket_id": row.ticket_id, "name": row.original_name})
