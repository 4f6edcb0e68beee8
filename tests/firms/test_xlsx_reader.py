"""The streaming XLSX reader gives the rows openpyxl's read-only mode gives, part by part —
every cell as text: number cells as the digits stored in the file, never through a float."""

import zipfile

import pytest
import sqlalchemy as sa
from flask_babel import gettext as _
from openpyxl import load_workbook

from app.extensions import db as _db
from app.firms import importer
from app.firms.models import Firm
from app.firms.xlsx_reader import FirstSheet, NumberText, UnreadableWorkbook
from tests.firms.test_import import HEADER, row, write_xlsx

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
DOC_RELS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG_RELS = "http://schemas.openxmlformats.org/package/2006/relationships"
SHEET_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"


def build_xlsx(path, sheets, shared=(), styles=None, sheet_parts_first=False):
    """A workbook written part by part, so each test controls exactly what the XML says.

    ``sheets`` are (name, sheetData inner XML, dimension or None) in workbook order.
    """
    overrides = "".join(
        f'<Override PartName="/xl/worksheets/sheet{n}.xml" ContentType="{SHEET_TYPE}"/>'
        for n in range(1, len(sheets) + 1))
    parts = {
        "[Content_Types].xml": (
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" '
            'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            '<Override PartName="/xl/workbook.xml" ContentType="application/'
            'vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
            '<Override PartName="/xl/sharedStrings.xml" ContentType="application/'
            'vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>'
            '<Override PartName="/xl/styles.xml" ContentType="application/'
            'vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
            f"{overrides}</Types>"),
        "_rels/.rels": (
            f'<Relationships xmlns="{PKG_RELS}"><Relationship Id="rId1" '
            f'Type="{DOC_RELS}/officeDocument" Target="xl/workbook.xml"/></Relationships>'),
    }
    # Worksheets are numbered in reverse of the workbook order, so "the first sheet" is never
    # simply sheet1.xml.
    numbers = list(range(len(sheets), 0, -1))
    rels = "".join(f'<Relationship Id="rId{n}" Type="{DOC_RELS}/worksheet" '
                   f'Target="worksheets/sheet{n}.xml"/>' for n in numbers)
    rels += (f'<Relationship Id="rIdS" Type="{DOC_RELS}/sharedStrings" '
             f'Target="sharedStrings.xml"/>')
    if styles:
        rels += f'<Relationship Id="rIdY" Type="{DOC_RELS}/styles" Target="styles.xml"/>'
    entries = "".join(f'<sheet name="{name}" sheetId="{n}" r:id="rId{n}"/>'
                      for n, (name, _data, _dim) in zip(numbers, sheets, strict=True))
    sheet_parts = {}
    for n, (_name, data, dimension) in sorted(zip(numbers, sheets, strict=True)):
        dim = f'<dimension ref="{dimension}"/>' if dimension else ""
        sheet_parts[f"xl/worksheets/sheet{n}.xml"] = (
            f'<worksheet xmlns="{MAIN}">{dim}<sheetData>{data}</sheetData></worksheet>')
    rest = {
        "xl/workbook.xml": (f'<workbook xmlns="{MAIN}" xmlns:r="{DOC_RELS}">'
                            f"<sheets>{entries}</sheets></workbook>"),
        "xl/_rels/workbook.xml.rels": f'<Relationships xmlns="{PKG_RELS}">{rels}</Relationships>',
        "xl/sharedStrings.xml": (f'<sst xmlns="{MAIN}">' + "".join(shared) + "</sst>"),
    }
    if styles:
        rest["xl/styles.xml"] = f'<styleSheet xmlns="{MAIN}">{styles}</styleSheet>'
    ordered = {**sheet_parts, **parts, **rest} if sheet_parts_first else {
        **parts, **rest, **sheet_parts}
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in ordered.items():
            archive.writestr(name, '<?xml version="1.0" encoding="UTF-8"?>' + text)
    return str(path)


def read(path) -> list[list]:
    sheet = FirstSheet(str(path))
    try:
        return list(sheet.rows())
    finally:
        sheet.close()


def openpyxl_rows(path) -> list[list]:
    """openpyxl's read-only values, integers as their digits (what this reader gives)."""
    workbook = load_workbook(str(path), read_only=True, data_only=True)
    try:
        return [[str(v) if isinstance(v, int) else v for v in r]
                for r in workbook.worksheets[0].iter_rows(values_only=True)]
    finally:
        workbook.close()


def test_shared_and_inline_strings_read_as_the_same_text(tmp_path):
    shared = ["<si><t>昆山开发区</t></si>",
              "<si><r><t>鼎鑫</t></r><r><rPr><b/></rPr><t>电子</t></r>"
              "<rPh sb=\"0\" eb=\"2\"><t>ディンシン</t></rPh></si>"]
    data = ('<row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>1</v></c></row>'
            '<row r="2"><c r="A2" t="inlineStr"><is><t>昆山开发区</t></is></c>'
            '<c r="B2" t="inlineStr"><is><r><t>鼎鑫</t></r><r><t>电子</t></r></is></c></row>')
    path = build_xlsx(tmp_path / "strings.xlsx", [("企业", data, "A1:B2")], shared)

    assert read(path) == [["昆山开发区", "鼎鑫电子"], ["昆山开发区", "鼎鑫电子"]]
    assert read(path) == openpyxl_rows(path)


def test_missing_cells_and_rows_are_filled_as_openpyxl_does(tmp_path):
    data = ('<row r="1"><c r="A1" t="inlineStr"><is><t>a</t></is></c>'
            '<c r="C1" t="inlineStr"><is><t>c</t></is></c></row>'
            '<row r="4"><c r="B4"><v>7</v></c></row>')
    with_dimension = build_xlsx(tmp_path / "dim.xlsx", [("s", data, "A1:D4")])
    without = build_xlsx(tmp_path / "nodim.xlsx", [("s", data, None)])

    assert read(with_dimension) == [["a", None, "c", None], [None] * 4, [None] * 4,
                                    [None, "7", None, None]]
    assert read(with_dimension) == openpyxl_rows(with_dimension)
    assert read(without) == [["a", None, "c"], [], [], [None, "7"]]


def test_number_cells_read_as_the_digits_in_the_file_marked_as_numbers(tmp_path):
    data = ('<row r="1"><c r="A1"><v>913205831234567890</v></c><c r="B1"><v>120</v></c>'
            '<c r="C1"><v>1.5</v></c><c r="D1"><v>9.1320583123456794E+17</v></c>'
            '<c r="E1" t="b"><v>1</v></c><c r="F1" t="e"><v>#N/A</v></c>'
            '<c r="G1" t="str"><f>A1&amp;""</f><v>913205831234567890</v></c>'
            '<c r="H1" t="inlineStr"><is><t>913205831234567890</t></is></c></row>')
    path = build_xlsx(tmp_path / "numbers.xlsx", [("s", data, "A1:H1")])

    values = read(path)[0]
    assert values == ["913205831234567890", "120", "1.5", "9.1320583123456794E+17", "TRUE",
                      "#N/A", "913205831234567890", "913205831234567890"]
    assert [isinstance(v, NumberText) for v in values] == [True] * 4 + [False] * 4
    cleaned = [importer._clean_cell(v) for v in values]
    # plain digits by decimal arithmetic: the float 9.132058312345679e17 never appears
    assert cleaned[:4] == ["913205831234567890", "120", "1.5", "913205831234567940"]
    assert [isinstance(v, NumberText) for v in cleaned] == [True] * 4 + [False] * 4


def test_a_date_formatted_number_reads_as_its_number(tmp_path):
    styles = ('<cellXfs count="2"><xf numFmtId="0"/><xf numFmtId="14" applyNumberFormat="1"/>'
              "</cellXfs>")
    data = '<row r="1"><c r="A1" s="1"><v>45000</v></c><c r="B1" s="0"><v>45000</v></c></row>'
    path = build_xlsx(tmp_path / "dates.xlsx", [("s", data, "A1:B1")], styles=styles)

    assert read(path) == [["45000", "45000"]]


def test_the_first_sheet_in_the_workbook_is_read_wherever_its_part_is_in_the_zip(tmp_path):
    first = '<row r="1"><c r="A1" t="inlineStr"><is><t>first</t></is></c></row>'
    second = '<row r="1"><c r="A1" t="inlineStr"><is><t>second</t></is></c></row>'
    path = build_xlsx(tmp_path / "order.xlsx", [("企业", first, "A1"), ("其他", second, "A1")],
                      sheet_parts_first=True)
    with zipfile.ZipFile(path) as archive:
        # the second sheet's part comes first in the archive
        assert archive.namelist()[:2] == ["xl/worksheets/sheet1.xml", "xl/worksheets/sheet2.xml"]

    assert read(path) == [["first"]]
    assert read(path) == openpyxl_rows(path)


def test_a_workbook_written_by_openpyxl_reads_identically(tmp_path):
    path = write_xlsx(tmp_path / "openpyxl.xlsx", [row(1), row(2, employees=35, english_name=None)])

    assert read(path) == openpyxl_rows(path)
    assert len(read(path)) == 3


def test_a_zip_without_a_workbook_is_unreadable(tmp_path):
    path = tmp_path / "nobook.xlsx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("hello.txt", "not a workbook")

    with pytest.raises(UnreadableWorkbook):
        FirstSheet(str(path))


def _damaged_sheet(tmp_path):
    """A valid archive whose sheet XML breaks off after the first data row."""
    rows = "".join(f'<row r="{n}">' + "".join(
        f'<c r="{chr(65 + i)}{n}" t="inlineStr"><is><t>{v}</t></is></c>'
        for i, v in enumerate(values)) + "</row>"
        for n, values in enumerate([HEADER, row(1)], start=1))
    path = build_xlsx(tmp_path / "broken.xlsx", [("企业", rows + '<row r="3"><c r="A3"', None)])
    return path


def test_damaged_workbooks_get_the_same_clear_refusal_and_write_nothing(app, tmp_path):
    no_book = tmp_path / "nobook.xlsx"
    with zipfile.ZipFile(no_book, "w") as archive:
        archive.writestr("hello.txt", "not a workbook")
    for path in (no_book, _damaged_sheet(tmp_path)):
        with pytest.raises(importer.ImportRefused) as refused:
            importer.run_import(str(path), str(path), None, dry_run=False,
                                max_bytes=10 * 1024 * 1024)
        assert str(refused.value) == _("The workbook cannot be read: it may be damaged.")
        _db.session.rollback()
        assert _db.session.scalar(sa.select(sa.func.count()).select_from(Firm)) == 0


def _as_rows_xml(rows: list[list], shared: list[str] | None) -> str:
    """sheetData rows with every text cell either shared (appended to ``shared``) or inline."""
    out = []
    for n, values in enumerate(rows, start=1):
        cells = []
        for i, value in enumerate(values):
            ref = f"{chr(65 + i)}{n}"
            if value in ("", None):
                continue
            if shared is None:
                cells.append(f'<c r="{ref}" t="inlineStr"><is><t>{value}</t></is></c>')
            else:
                shared.append(f"<si><t>{value}</t></si>")
                cells.append(f'<c r="{ref}" t="s"><v>{len(shared) - 1}</v></c>')
        out.append(f'<row r="{n}">{"".join(cells)}</row>')
    return "".join(out)


def test_an_import_from_shared_strings_matches_one_from_inline_strings(app, tmp_path):
    rows, shared = [HEADER, row(1), row(2)], []
    dimension = f"A1:{chr(64 + len(HEADER))}3"
    inline_path = build_xlsx(tmp_path / "inline.xlsx",
                             [("企业", _as_rows_xml(rows, None), dimension)])
    shared_path = build_xlsx(tmp_path / "shared.xlsx",
                             [("企业", _as_rows_xml(rows, shared), dimension)], shared)

    assert read(inline_path) == read(shared_path) == openpyxl_rows(shared_path)
    report = importer.run_import(str(shared_path), "shared.xlsx", None, dry_run=False,
                                 max_bytes=10 * 1024 * 1024)
    _db.session.commit()
    assert (report.created, report.rejected) == (2, [])
    names = set(_db.session.scalars(sa.select(Firm.name)))
    assert names == {"昆山导入1电子有限公司", "昆山导入2电子有限公司"}
