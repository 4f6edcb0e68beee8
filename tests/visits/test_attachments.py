"""Visit photos and files: type checked by content, size limited, stored outside the web root."""

from __future__ import annotations

import io
import os

import pytest

from app.core.errors import ValidationFailed
from app.extensions import db
from app.visits import services
from app.visits.models import VisitAttachment
from tests.helpers import csrf_token

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.fixture(autouse=True)
def upload_dir(app, tmp_path):
    app.config["VISIT_UPLOAD_DIR"] = str(tmp_path)
    yield tmp_path
    app.config.pop("VISIT_UPLOAD_DIR", None)


def test_a_photo_is_stored_under_a_random_name_outside_static(crew, make, upload_dir, app):
    visit = make.visit(crew.firm, crew.handler)
    row = services.store_attachment(visit, "../../现场照片.png", PNG, crew.handler)
    assert row.content_type == "image/png" and row.original_name == "现场照片.png"
    assert os.path.exists(upload_dir / row.stored_name)
    assert "static" not in services.attachment_path(row)
    assert row.stored_name != row.original_name


@pytest.mark.parametrize("content", [b"<script>alert(1)</script>", b"MZ\x90\x00binary"])
def test_files_are_refused_by_content_whatever_their_name(crew, make, content):
    visit = make.visit(crew.firm, crew.handler)
    with pytest.raises(ValidationFailed):
        services.store_attachment(visit, "photo.jpg", content, crew.handler)


def test_files_over_the_limit_are_refused(crew, make, app):
    visit = make.visit(crew.firm, crew.handler)
    app.config["VISIT_MAX_ATTACHMENT_BYTES"] = 1024
    try:
        with pytest.raises(ValidationFailed):
            services.store_attachment(visit, "big.png", PNG + b"\x00" * 2048, crew.handler)
    finally:
        app.config.pop("VISIT_MAX_ATTACHMENT_BYTES")


def test_download_needs_visibility_of_the_visit(client, login_as, crew, make):
    visit = make.visit(crew.firm, crew.handler)
    login_as(crew.handler)
    token = csrf_token(client, f"/visits/{visit.id}")
    client.post(f"/visits/{visit.id}/attachments",
                data={"csrf_token": token, "attachments": (io.BytesIO(PNG), "门头.png")},
                content_type="multipart/form-data")
    row = db.session.scalar(db.select(VisitAttachment).where(VisitAttachment.visit_id == visit.id))
    response = client.get(f"/visits/attachments/{row.id}")
    assert response.status_code == 200 and response.data == PNG
    assert "attachment" in response.headers["Content-Disposition"]
    login_as(crew.stranger)
    assert client.get(f"/visits/attachments/{row.id}").status_code == 404
