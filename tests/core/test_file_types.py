"""The one upload type check (issue 4 §6): exactly PDF, JPG, PNG, DOCX and XLSX by content, the
extension agreeing with the content; every other file refused with a message that says why.

The files are built here, small but real: a workbook written by openpyxl, a Word package with
the parts Word needs, a PNG with valid chunks, an OLE header, a Windows program header.
"""

from __future__ import annotations

import io
import struct
import zipfile
import zlib

import pytest

from app.core import file_types
from app.core.errors import ValidationFailed

CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="xml" ContentType="application/xml"/></Types>')


def zip_of(members: dict[str, bytes | str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as package:
        for name, data in members.items():
            package.writestr(name, data)
    return buffer.getvalue()


def docx(**extra) -> bytes:
    return zip_of({"[Content_Types].xml": CONTENT_TYPES,
                   "_rels/.rels": "<Relationships/>",
                   "word/document.xml": "<w:document><w:body><w:p/></w:body></w:document>",
                   **extra})


def xlsx() -> bytes:
    from openpyxl import Workbook

    book = Workbook()
    book.active["A1"] = "企业名称"
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def png() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(b"\x00\x80")) + chunk(b"IEND", b""))


def jpeg() -> bytes:
    app0 = b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
    return b"\xff\xd8\xff\xe0" + struct.pack(">H", len(app0) + 2) + app0 + b"\xff\xd9"


PDF = b"%PDF-1.4\n1 0 obj <</Type /Catalog>> endobj\ntrailer <</Root 1 0 R>>\n%%EOF\n"
OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 504
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00" + b"\x00" * 50 + b"PE\x00\x00"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"

ACCEPTED = [
    ("申请表.pdf", PDF, "application/pdf"),
    ("现场.JPG", jpeg(), "image/jpeg"),
    ("现场.jpeg", jpeg(), "image/jpeg"),
    ("营业执照.png", png(), "image/png"),
    ("情况说明.docx", docx(), DOCX_TYPE),
    ("用工需求.xlsx", xlsx(), XLSX_TYPE),
]

REFUSED = [
    # (name, content, words the message must contain)
    ("情况说明.doc", OLE, "only PDF, JPG, PNG, DOCX and XLSX"),
    ("情况说明.docx", OLE, "old Word or Excel"),
    ("报表.xlsx", OLE, "old Word or Excel"),
    ("setup.pdf", EXE, "not a PDF, JPG, PNG, DOCX or XLSX"),
    ("setup.docx", EXE, "not a PDF, JPG, PNG, DOCX or XLSX"),
    ("setup.exe", EXE, "only PDF, JPG, PNG, DOCX and XLSX"),
    ("page.pdf", b"<html><script>alert(1)</script></html>", "not a PDF"),
    ("archive.docx", zip_of({"readme.txt": "hello"}), "ZIP archives are not accepted"),
    ("archive.xlsx", zip_of({"word/document.xml": "<w/>"}), "ZIP archives are not accepted"),
    ("slides.docx", zip_of({"[Content_Types].xml": CONTENT_TYPES,
                            "ppt/presentation.xml": "<p/>"}), "ZIP archives are not accepted"),
    ("archive.zip", zip_of({"word/document.xml": "<w/>"}), "only PDF, JPG, PNG, DOCX and XLSX"),
    ("macro.docx", docx(**{"word/vbaProject.bin": b"\x00" * 16}), "macros"),
    ("broken.docx", b"PK\x03\x04 truncated", "ZIP archives are not accepted"),
    ("letter.xlsx", docx(), "the name says .xlsx but the content is Word (.docx)"),
    ("figures.docx", xlsx(), "the name says .docx but the content is Excel (.xlsx)"),
    ("photo.png", jpeg(), "the name says .png but the content is JPEG"),
    ("scan.jpg", PDF, "the name says .jpg but the content is PDF"),
    ("no-extension", PDF, "only PDF, JPG, PNG, DOCX and XLSX"),
    ("empty.pdf", b"", "not a PDF"),
]


@pytest.mark.parametrize(("name", "content", "content_type"), ACCEPTED,
                         ids=[row[0] for row in ACCEPTED])
def test_the_five_kinds_are_accepted_by_content(app, name, content, content_type):
    with app.test_request_context(headers={"Accept-Language": "en"}):
        assert file_types.identify(name, content).content_type == content_type


@pytest.mark.parametrize(("name", "content", "message"), REFUSED,
                         ids=[row[0] + "-" + str(i) for i, row in enumerate(REFUSED)])
def test_everything_else_is_refused_with_a_reason(app, name, content, message):
    with (app.test_request_context(headers={"Accept-Language": "en"}),
          pytest.raises(ValidationFailed) as refused):
        file_types.identify(name, content)
    assert message in str(refused.value) and name in str(refused.value)


@pytest.mark.parametrize(("typed", "kept"), [("../../evil.pdf", "evil.pdf"),
                                             ("..\\..\\evil.pdf", "evil.pdf"),
                                             ("C:\\Users\\a\\申请.pdf", "申请.pdf")])
def test_directory_parts_of_a_name_are_dropped(typed, kept):
    assert file_types.safe_name(typed) == kept
