"""A streaming reader for the first worksheet of an .xlsx workbook.

openpyxl's read-only mode streams too, but builds a cell object per cell and spent most of a
100,000-row import parsing XML. This reader walks the sheet with lxml's ``iterparse`` and
drops every row once read, so memory depends on the distinct strings (the shared-string
table) and never on the number of rows.

**Every cell comes out as text, never through a number** (DOMAIN §8: imports read codes as
text): a text cell as its text, a number cell as the digits stored in the file, marked
:class:`NumberText` so the importer can tell that the spreadsheet held a *number* there —
Excel keeps 15 significant digits, so an 18-digit USCC typed into a number cell has already
lost its last digits and must not be accepted as a code. Booleans read ``TRUE``/``FALSE``,
error values (``#N/A``) and a formula's cached text as written, ``None`` for a missing cell;
rows are padded and bounded by the sheet's ``<dimension>`` like openpyxl does.
"""

from __future__ import annotations

import posixpath
import re
import zipfile
from collections.abc import Iterator

from lxml import etree

from app.core.caches import memo

MAIN_NAMESPACES = ("http://schemas.openxmlformats.org/spreadsheetml/2006/main",
                   "http://purl.oclc.org/ooxml/spreadsheetml/main")
REL_NAMESPACE = "http://schemas.openxmlformats.org/package/2006/relationships"
DOC_REL_NAMESPACES = ("http://schemas.openxmlformats.org/officeDocument/2006/relationships",
                      "http://purl.oclc.org/ooxml/officeDocument/relationships")
CELL_REF = re.compile(r"([A-Z]{1,3})(\d+)")
CHUNK_BYTES = 64 * 1024
#: Untrusted files: no entity expansion, no network, no huge-tree mode.
PARSER_OPTIONS = {"resolve_entities": False, "no_network": True, "huge_tree": False}


class UnreadableWorkbook(Exception):
    """The archive is not a workbook this reader understands (damaged, or parts missing)."""


def _parse(archive: zipfile.ZipFile, name: str) -> etree._Element:
    with archive.open(name) as part:
        return etree.parse(part, etree.XMLParser(**PARSER_OPTIONS)).getroot()


def _namespace(root: etree._Element) -> str:
    namespace = etree.QName(root).namespace
    if namespace not in MAIN_NAMESPACES:
        raise UnreadableWorkbook(f"unexpected namespace {namespace}")
    return namespace


def _relationships(archive: zipfile.ZipFile, part: str) -> list[tuple[str, str, str]]:
    """(id, type, absolute target) of a part's relationships; empty when it has none."""
    folder, base = posixpath.split(part)
    rels = posixpath.join(folder, "_rels", base + ".rels")
    if rels not in archive.NameToInfo:
        return []
    found = []
    for rel in _parse(archive, rels).iter(f"{{{REL_NAMESPACE}}}Relationship"):
        target = rel.get("Target", "")
        target = target.lstrip("/") if target.startswith("/") else posixpath.normpath(
            posixpath.join(folder, target))
        found.append((rel.get("Id"), rel.get("Type", ""), target))
    return found


def _by_type(rels: list[tuple[str, str, str]], suffix: str) -> str | None:
    return next((target for _id, kind, target in rels if kind.endswith(suffix)), None)


def _text(item: etree._Element, ns: str) -> str:
    """The text of an ``<si>`` or ``<is>``: plain or rich-text runs, without phonetic hints."""
    plain = item.find(f"{{{ns}}}t")
    if plain is not None:
        return plain.text or ""
    return "".join(t.text or "" for t in item.iterfind(f"{{{ns}}}r/{{{ns}}}t"))


def _shared_strings(archive: zipfile.ZipFile, name: str | None, ns: str) -> list[str]:
    """The shared-string table: bounded by the distinct strings, not by the rows."""
    if not name or name not in archive.NameToInfo:
        return []
    strings = []
    with archive.open(name) as part:
        for _event, item in etree.iterparse(part, tag=f"{{{ns}}}si", **PARSER_OPTIONS):
            strings.append(_text(item, ns))
            item.clear()
    return strings


@memo("firms.xlsx_columns", maxsize=1024)
def _column_index(letters: str) -> int:
    index = 0
    for letter in letters:
        index = index * 26 + ord(letter) - 64
    return index


class NumberText(str):
    """The text of a cell the spreadsheet stored as a number (``"913205834308878980"``,
    ``"9.1320583430887898E+17"``, ``"120"``): the digits as written in the file, never read
    as a float."""

    __slots__ = ()


class FirstSheet:
    """Rows of the first worksheet as lists of texts; ``max_row`` once the sheet is open."""

    def __init__(self, path: str):
        try:
            self._archive = zipfile.ZipFile(path)
            self._open_parts()
        except UnreadableWorkbook:
            self.close()
            raise
        except (zipfile.BadZipFile, KeyError, OSError, ValueError, etree.LxmlError) as error:
            self.close()
            raise UnreadableWorkbook(str(error)) from error
        self.max_row: int | None = None
        self.max_column: int | None = None

    def _open_parts(self) -> None:
        archive = self._archive
        workbook = _by_type(_relationships(archive, ""), "/officeDocument") or "xl/workbook.xml"
        root = _parse(archive, workbook)
        ns = self._ns = _namespace(root)
        rels = _relationships(archive, workbook)
        targets = {rel_id: target for rel_id, kind, target in rels
                   if kind.endswith("/worksheet")}
        sheet_ids = [sheet.get(f"{{{doc_ns}}}id")
                     for sheet in root.iterfind(f"{{{ns}}}sheets/{{{ns}}}sheet")
                     for doc_ns in DOC_REL_NAMESPACES if sheet.get(f"{{{doc_ns}}}id")]
        first = next((targets[i] for i in sheet_ids if i in targets), None)
        if first is None or first not in archive.NameToInfo:
            raise UnreadableWorkbook("the workbook has no worksheet")
        self._sheet = first
        self._strings = _shared_strings(archive, _by_type(rels, "/sharedStrings"), ns)

    def close(self) -> None:
        archive = getattr(self, "_archive", None)
        if archive is not None:
            archive.close()

    def rows(self) -> Iterator[list]:
        """Each row from row 1 on (missing rows as empty lists), cells as text (or ``None``)."""
        try:
            yield from self._rows()
        except (zipfile.BadZipFile, KeyError, OSError, ValueError, IndexError,
                etree.LxmlError) as error:
            raise UnreadableWorkbook(str(error)) from error

    def _rows(self) -> Iterator[list]:
        target = _SheetEvents(self._ns)
        parser = etree.XMLParser(target=target, **PARSER_OPTIONS)
        expected = 1
        with self._archive.open(self._sheet) as part:
            while True:
                chunk = part.read(CHUNK_BYTES)
                if chunk:
                    parser.feed(chunk)
                else:
                    parser.close()
                if target.dimension is not None and self.max_row is None:
                    self._read_dimension(target.dimension)
                for number, cells in target.take_rows():
                    number = int(number or expected)
                    if self.max_row is not None and number > self.max_row:
                        return
                    for _missing in range(expected, number):
                        yield [None] * (self.max_column or 0)
                    expected = number + 1
                    yield self._row_values(cells)
                if not chunk:
                    return

    def _read_dimension(self, ref: str) -> None:
        last = ref.split(":")[-1]
        match = CELL_REF.fullmatch(last)
        if match:
            self.max_column, self.max_row = _column_index(match[1]), int(match[2])

    def _row_values(self, cells: list[tuple]) -> list:
        values: list = []
        for ref, kind, _style, text in cells:
            column = _column_index(ref.rstrip("0123456789")) if ref else len(values) + 1
            if self.max_column is not None and column > self.max_column:
                break
            if column > len(values) + 1:
                values.extend([None] * (column - 1 - len(values)))
            values.append(None if text is None else self._value(kind, text))
        if self.max_column is not None and len(values) < self.max_column:
            values.extend([None] * (self.max_column - len(values)))
        return values

    def _value(self, kind: str, text: str) -> str:
        if kind == "inlineStr":
            return text
        if kind == "s":
            return self._strings[int(text)]
        if kind == "n":
            return NumberText(text.strip())  # a date-formatted number too: no column is a date
        if kind == "b":
            return "TRUE" if text.strip() in ("1", "true") else "FALSE"
        return text  # "str" (a formula's cached text), "d" (an ISO date), "e" (#N/A…)


class _SheetEvents:
    """lxml parser target: collects each row's raw cells without building an element tree.

    Callbacks instead of elements roughly halve the parsing cost, and only the rows of the
    last fed chunk are ever held.
    """

    def __init__(self, ns: str):
        self.c, self.v, self.t = f"{{{ns}}}c", f"{{{ns}}}v", f"{{{ns}}}t"
        self.row, self.phonetic = f"{{{ns}}}row", f"{{{ns}}}rPh"
        self.dimension_tag = f"{{{ns}}}dimension"
        self.dimension: str | None = None
        self.rows: list[tuple[str | None, list[tuple]]] = []
        self.cells: list[tuple] = []
        self.row_number: str | None = None
        self.cell: tuple = (None, "n", None)
        self.value: str | None = None
        self.text: list[str] | None = None
        self.in_phonetic = False

    def start(self, tag, attrib) -> None:
        if tag == self.c:
            self.cell = (attrib.get("r"), attrib.get("t", "n"), attrib.get("s"))
            self.value = None
        elif tag == self.v or (tag == self.t and not self.in_phonetic):
            self.text = []
        elif tag == self.row:
            self.row_number, self.cells = attrib.get("r"), []
        elif tag == self.phonetic:
            self.in_phonetic = True
        elif tag == self.dimension_tag:
            self.dimension = attrib.get("ref", "")

    def data(self, text: str) -> None:
        if self.text is not None:
            self.text.append(text)

    def end(self, tag) -> None:
        if self.text is not None and (tag == self.v or tag == self.t):
            text = "".join(self.text)
            self.value = text if tag == self.v or self.value is None else self.value + text
            self.text = None
        elif tag == self.c:
            self.cells.append((*self.cell, self.value))
        elif tag == self.row:
            self.rows.append((self.row_number, self.cells))
        elif tag == self.phonetic:
            self.in_phonetic = False

    def take_rows(self) -> list[tuple[str | None, list[tuple]]]:
        rows, self.rows = self.rows, []
        return rows

    def close(self) -> None:
        """Nothing to return: rows are taken as they complete."""
