"""Attachments on the staff ticket page: type by content, staff size limit, random stored names,
downloads only for users who may see the ticket (firms: public files only), and an audit trail."""

from __future__ import annotations

import io
import os
import re

import pytest
import sqlalchemy as sa

from app.core.audit import AuditEvent
from app.extensions import db
from app.tickets.models import Attachment, CommentVisibility, TicketStatus
from tests.core.test_file_types import OLE, docx, jpeg, png, xlsx, zip_of
from tests.helpers import csrf_token

S = TicketStatus
PDF = b"%PDF-1.7 minutes of the site visit"
CONTENTS = {
    "note.pdf": PDF,
    "photo.jpg": jpeg(),
    "scan.png": png(),
    "letter.docx": docx(),
    "figures.xlsx": xlsx(),
}


@pytest.fixture(autouse=True)
def upload_dir(tmp_path, app, monkeypatch):
    """Uploads in a scratch directory, so the test can see exactly what was written."""
    path = tmp_path / "uploads"
    monkeypatch.setitem(app.config, "TICKET_UPLOAD_DIR", str(path))
    return path


def upload(client, ticket, name, content, visibility="public"):
    page = f"/tickets/{ticket.reference}"
    return client.post(f"{page}/attachments", data={
        "csrf_token": csrf_token(client, page), "visibility": visibility,
        "file": (io.BytesIO(content), name)}, content_type="multipart/form-data",
        follow_redirects=True)


def stored_files(path) -> list[str]:
    return os.listdir(path) if os.path.isdir(path) else []


def attachment_rows() -> list[Attachment]:
    return db.session.scalars(sa.select(Attachment)).all()


@pytest.mark.parametrize("name", sorted(CONTENTS))
def test_allowed_types_are_stored_and_listed(name, ticket_in, cast, login_as, upload_dir):
    ticket = ticket_in(S.IN_PROGRESS)
    response = upload(login_as(cast.handler), ticket, name, CONTENTS[name])
    assert "File attached." in response.get_data(as_text=True)
    [row] = attachment_rows()
    assert row.original_name == name and row.uploaded_by_id == cast.handler.id
    assert stored_files(upload_dir) == [row.stored_name]
    assert name in response.get_data(as_text=True)


def test_renamed_executable_is_refused_and_nothing_is_stored(ticket_in, cast, login_as,
                                                             upload_dir):
    ticket = ticket_in(S.IN_PROGRESS)
    response = upload(login_as(cast.handler), ticket, "report.pdf", b"MZ\x90\x00\x03 program")
    assert "not a PDF, JPG, PNG, DOCX or XLSX" in response.get_data(as_text=True)
    assert attachment_rows() == [] and stored_files(upload_dir) == []


@pytest.mark.parametrize(("name", "content", "message"), [
    ("old.doc", OLE, "only PDF, JPG, PNG, DOCX and XLSX"),
    ("old.docx", OLE, "old Word or Excel"),
    ("bundle.docx", zip_of({"readme.txt": "x"}), "ZIP archives are not accepted"),
    ("letter.xlsx", docx(), "the name says .xlsx"),
])
def test_the_staff_page_refuses_what_the_shared_check_refuses(name, content, message, ticket_in,
                                                              cast, login_as, upload_dir):
    ticket = ticket_in(S.IN_PROGRESS)
    response = upload(login_as(cast.handler), ticket, name, content)
    assert message in response.get_data(as_text=True)
    assert attachment_rows() == [] and stored_files(upload_dir) == []


def test_oversized_file_is_refused_and_nothing_is_stored(ticket_in, cast, login_as, app,
                                                         upload_dir, monkeypatch):
    monkeypatch.setitem(app.config, "TICKET_UPLOAD_MAX_BYTES", 2 * 2**20)
    ticket = ticket_in(S.IN_PROGRESS)
    response = upload(login_as(cast.handler), ticket, "big.pdf", PDF + b"0" * (2 * 2**20))
    assert "Each file may be at most 2 MB." in response.get_data(as_text=True)
    assert attachment_rows() == [] and stored_files(upload_dir) == []


def test_staff_limit_is_twenty_megabytes_by_default(app):
    assert app.config["TICKET_UPLOAD_MAX_BYTES"] == 20 * 1024 * 1024


def test_path_traversal_name_is_stored_under_a_random_name(ticket_in, cast, login_as,
                                                           upload_dir, tmp_path):
    ticket = ticket_in(S.IN_PROGRESS)
    upload(login_as(cast.handler), ticket, "../../evil.pdf", PDF)
    [row] = attachment_rows()
    assert re.fullmatch(r"[0-9a-f]{32}", row.stored_name)
    assert "/" not in row.original_name and ".." not in row.original_name
    assert stored_files(upload_dir) == [row.stored_name]
    assert not (tmp_path / "evil.pdf").exists()


def test_download_sends_the_file_as_an_attachment_and_is_audited(ticket_in, cast, login_as):
    ticket = ticket_in(S.IN_PROGRESS)
    client = login_as(cast.handler)
    upload(client, ticket, "note.pdf", PDF)
    [row] = attachment_rows()
    response = client.get(f"/tickets/{ticket.reference}/attachments/{row.id}")
    assert response.status_code == 200 and response.data == PDF
    assert response.headers["Content-Disposition"].startswith("attachment;")
    actions = db.session.scalars(sa.select(AuditEvent.action).where(
        AuditEvent.action.like("ticket.attachment%"), AuditEvent.object_id == str(row.id),
        AuditEvent.actor_id == cast.handler.id).order_by(AuditEvent.id)).all()
    assert actions == ["ticket.attachment_upload", "ticket.attachment_download"]


def test_refused_upload_leaves_no_audit_row(ticket_in, cast, login_as):
    ticket = ticket_in(S.IN_PROGRESS)
    upload(login_as(cast.handler), ticket, "a.pdf", b"<html>not a pdf</html>")
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent).where(
        AuditEvent.action == "ticket.attachment_upload")) == 0


def test_handler_of_another_unit_gets_404_on_download(ticket_in, cast, login_as):
    ticket = ticket_in(S.IN_PROGRESS)
    upload(login_as(cast.handler), ticket, "note.pdf", PDF)
    [row] = attachment_rows()
    response = login_as(cast.stranger).get(f"/tickets/{ticket.reference}/attachments/{row.id}")
    assert response.status_code == 404


def test_firm_user_gets_public_files_but_not_internal_ones(ticket_in, cast, login_as):
    ticket = ticket_in(S.IN_PROGRESS)
    staff = login_as(cast.handler)
    upload(staff, ticket, "public.pdf", PDF, "public")
    upload(staff, ticket, "internal.pdf", PDF, "internal")
    rows = {row.visibility: row for row in attachment_rows()}
    firm = login_as(cast.firm_user)
    base = f"/tickets/{ticket.reference}/attachments"
    assert firm.get(f"{base}/{rows[CommentVisibility.PUBLIC].id}").status_code == 200
    assert firm.get(f"{base}/{rows[CommentVisibility.INTERNAL].id}").status_code == 404
    page = firm.get(f"/tickets/{ticket.reference}").get_data(as_text=True)
    assert "public.pdf" in page and "internal.pdf" not in page


def test_firm_user_cannot_upload_on_the_staff_page(ticket_in, cast, login_as):
    ticket = ticket_in(S.IN_PROGRESS)
    response = upload(login_as(cast.firm_user), ticket, "note.pdf", PDF)
    assert response.status_code == 403
    assert attachment_rows() == []
