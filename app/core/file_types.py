"""What an uploaded file really is: the one type check for every upload of a ticket (issue 4 §6).

Exactly five kinds are accepted — PDF, JPEG, PNG, Word (.docx) and Excel (.xlsx) — decided by
the file's content and required to agree with the name's extension. A .docx or .xlsx is a ZIP
package, so the ZIP's directory is read (no member is decompressed, so a ZIP bomb costs
nothing): a Word document must contain ``[Content_Types].xml`` and ``word/document.xml``, a
workbook ``[Content_Types].xml`` and ``xl/workbook.xml``. Any other ZIP, a package with macros
(``vbaProject.bin``), the legacy OLE formats (.doc, .xls), and anything else — a renamed
program, a web page — is refused with a message saying why.

Pure functions, no Flask: the staff page and the public portal both call :func:`identify`.
"""

from __future__ import annotations

import io
import os
import zipfile
from dataclasses import dataclass

from flask_babel import gettext as _

from app.core.errors import ValidationFailed


@dataclass(frozen=True)
class FileKind:
    """One accepted kind: its name, the extensions that may declare it, its content type."""

    name: str
    extensions: tuple[str, ...]
    content_type: str


PDF = FileKind("PDF", ("pdf",), "application/pdf")
JPEG = FileKind("JPEG", ("jpg", "jpeg"), "image/jpeg")
PNG = FileKind("PNG", ("png",), "image/png")
DOCX = FileKind("Word (.docx)", ("docx",),
                "application/vnd.openxmlformats-officedocument.wordprocessingml.document")
XLSX = FileKind("Excel (.xlsx)", ("xlsx",),
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
KINDS = (PDF, JPEG, PNG, DOCX, XLSX)
ALLOWED_EXTENSIONS = tuple(ext for kind in KINDS for ext in kind.extensions)
#: The file pickers' ``accept`` attribute: a hint for the browser, never the check itself.
ACCEPT = ",".join(f".{ext}" for ext in ALLOWED_EXTENSIONS)

_ZIP_MAGIC = b"PK\x03\x04"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_CONTENT_TYPES = "[Content_Types].xml"


def safe_name(filename: str) -> str:
    """The bare file name as typed (no directory part, from either slash), at most 255 chars."""
    return os.path.basename((filename or "").replace("\\", "/"))[-255:]


def extension(filename: str) -> str:
    """The lower-case extension without its dot (``""`` when there is none)."""
    return os.path.splitext(safe_name(filename))[1].lower().lstrip(".")


def identify(filename: str, content: bytes) -> FileKind:
    """The accepted kind of this file, checked by content and against its extension.

    :raises ValidationFailed: with a message for the user saying what is wrong.
    """
    declared = extension(filename)
    if declared not in ALLOWED_EXTENSIONS:
        raise ValidationFailed(_("%(name)s: only PDF, JPG, PNG, DOCX and XLSX files are "
                                 "accepted.", name=safe_name(filename)))
    kind = _kind_of(content, safe_name(filename))
    if declared not in kind.extensions:
        raise ValidationFailed(_("%(name)s: the name says .%(ext)s but the content is "
                                 "%(kind)s. Rename it or choose the right file.",
                                 name=safe_name(filename), ext=declared, kind=kind.name))
    return kind


def _kind_of(content: bytes, name: str) -> FileKind:
    if content.startswith(b"%PDF-"):
        return PDF
    if content.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if content.startswith(b"\xff\xd8\xff"):
        return JPEG
    if content.startswith(_ZIP_MAGIC):
        return _office_package(content, name)
    if content.startswith(_OLE_MAGIC):
        raise ValidationFailed(_("%(name)s: old Word or Excel files (.doc, .xls) are not "
                                 "accepted. Save it as .docx or .xlsx and attach it again.",
                                 name=name))
    raise ValidationFailed(_("%(name)s: the content is not a PDF, JPG, PNG, DOCX or XLSX file, "
                             "so it was not accepted.", name=name))


def _office_package(content: bytes, name: str) -> FileKind:
    """A ZIP is accepted only as a Word document or an Excel workbook without macros."""
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as package:
            members = set(package.namelist())
    except (zipfile.BadZipFile, ValueError, OSError):
        members = set()
    if any(member.lower().endswith("vbaproject.bin") for member in members):
        raise ValidationFailed(_("%(name)s: documents with macros are not accepted.", name=name))
    if _CONTENT_TYPES in members and "word/document.xml" in members:
        return DOCX
    if _CONTENT_TYPES in members and "xl/workbook.xml" in members:
        return XLSX
    raise ValidationFailed(_("%(name)s: ZIP archives are not accepted; only Word (.docx) and "
                             "Excel (.xlsx) documents.", name=name))
