"""Bulk import of firms from XLSX or CSV (``flask firms import`` and the upload page).

The file is read as a stream (:mod:`app.firms.xlsx_reader`, or the csv module), validated row by
row and written in chunks inside ONE transaction that the caller commits — or rolls back for a
dry run or a refused file, so a bad file never leaves half an import behind. Rows are matched
to existing firms by USCC, so importing the same file twice changes nothing the second time.
"""

from __future__ import annotations

import csv
import io
import os
import re
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

import sqlalchemy as sa
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from openpyxl import Workbook

from app.auth.models import User
from app.core import audit, sheets, storage
from app.core.clock import now_utc
from app.core.errors import DomainError
from app.core.validators import is_mainland_mobile, normalise_mobile
from app.extensions import db
from app.firms import uscc as uscc_rules
from app.firms.models import (
    Area,
    CapitalOrigin,
    Contact,
    Firm,
    FirmNameChange,
    LegacyUscc,
    LegalForm,
    can_be_commissioner,
)
from app.firms.search import search_key
from app.firms.services import FieldError, parse_industry, sections
from app.firms.uscc import USCC_PROBLEM_MESSAGES
from app.firms.xlsx_reader import FirstSheet, NumberText, UnreadableWorkbook

CHUNK = 1000


@dataclass(frozen=True)
class ImportColumn:
    """One column of the import format: its key, template header and accepted spellings."""

    key: str
    header: str
    label: object
    required: bool = False


COLUMNS = [
    ImportColumn("uscc", "统一社会信用代码", _l("Unified social credit code"), True),
    ImportColumn("name", "企业名称", _l("Legal name"), True),
    ImportColumn("english_name", "英文名称", _l("English name")),
    ImportColumn("area", "所属区镇", _l("Area"), True),
    ImportColumn("industry", "行业代码", _l("Industry (GB/T 4754)"), True),
    ImportColumn("legal_form", "企业类型", _l("Legal form")),
    ImportColumn("capital_origin", "资本来源", _l("Capital origin"), True),
    ImportColumn("address", "地址", _l("Address")),
    ImportColumn("employees", "从业人数", _l("Employees")),
    ImportColumn("is_key_firm", "重点企业", _l("Key firm")),
    ImportColumn("commissioner", "服务专员账号", _l("Service commissioner (username)")),
    ImportColumn("contact_name", "联系人", _l("Contact name")),
    ImportColumn("contact_title", "联系人职务", _l("Contact title")),
    ImportColumn("contact_mobile", "联系人手机", _l("Contact mobile")),
    ImportColumn("contact_email", "联系人邮箱", _l("Contact e-mail")),
]

LEGAL_FORM_WORDS = {
    "有限责任公司": LegalForm.LIMITED_LIABILITY, "股份有限公司": LegalForm.JOINT_STOCK,
    "个人独资企业": LegalForm.SOLE_PROPRIETORSHIP, "合伙企业": LegalForm.PARTNERSHIP,
    "个体工商户": LegalForm.INDIVIDUAL_BUSINESS, "分公司": LegalForm.BRANCH,
    "其他": LegalForm.OTHER,
}
CAPITAL_ORIGIN_WORDS = {
    "内资": CapitalOrigin.DOMESTIC, "台资": CapitalOrigin.TAIWAN, "港资": CapitalOrigin.HONG_KONG,
    "澳资": CapitalOrigin.MACAO, "外资": CapitalOrigin.FOREIGN, "合资": CapitalOrigin.MIXED,
    "中外合资": CapitalOrigin.MIXED,
}
YES = {"是", "y", "yes", "true", "1", "√"}
NO = {"否", "n", "no", "false", "0", ""}
YES_OR_NO = YES | NO


class ImportRefused(DomainError):
    """The whole file is unusable (type, size, headers, empty); nothing is written."""


@dataclass
class RowError:
    """A rejected row: its number in the file, its cells as read, and why."""

    row_number: int
    cells: list
    reason: str


@dataclass
class ImportReport:
    """What an import did (or, for a dry run, would do)."""

    filename: str
    dry_run: bool
    total: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: list[RowError] = field(default_factory=list)
    headers: list[str] = field(default_factory=list)

    @property
    def accepted(self) -> int:
        """Rows that passed validation."""
        return self.created + self.updated + self.unchanged


# --- reading -----------------------------------------------------------------------------------

def _check_file(path: str, filename: str, max_bytes: int) -> str:
    """The file's kind (``xlsx`` or ``csv``), or :class:`ImportRefused`."""
    extension = os.path.splitext(filename)[1].lower().lstrip(".")
    if extension not in ("xlsx", "csv"):
        raise ImportRefused(_("Upload an .xlsx or .csv file."))
    size = os.path.getsize(path)
    if size == 0:
        raise ImportRefused(_("The file is empty."))
    if size > max_bytes:
        raise ImportRefused(_("The file is larger than the limit of %(mb)s MB.",
                              mb=round(max_bytes / 1024 / 1024, 1)))
    with open(path, "rb") as handle:
        head = handle.read(4096)
    if extension == "xlsx" and not (head.startswith(b"PK\x03\x04") and zipfile.is_zipfile(path)):
        raise ImportRefused(_("The file is not a real Excel (.xlsx) workbook."))
    if extension == "csv" and (head.startswith(b"PK\x03\x04") or b"\x00" in head):
        raise ImportRefused(_("The file is not a text CSV file."))
    return extension


def store_upload(stream, filename: str, max_bytes: int) -> str:
    """Keep an uploaded file for the import job (:mod:`app.core.storage`, random name), once
    its type and size pass :func:`_check_file`; returns the stored name.

    :raises ImportRefused: wrong type, empty or too large (nothing is kept).
    """
    stored, handle = storage.new_file()
    try:
        with handle:
            written = 0
            while chunk := stream.read(1024 * 1024):
                written += len(chunk)
                if written > max_bytes:
                    raise ImportRefused(_("The file is larger than the limit of %(mb)s MB.",
                                          mb=round(max_bytes / 1024 / 1024, 1)))
                handle.write(chunk)
        _check_file(storage.path_of(stored), filename, max_bytes)
    except BaseException:
        storage.remove(stored)
        raise
    return stored


def _clean_cell(value) -> str:
    """A cell as text, stripped; a number cell keeps its mark (:class:`NumberText`) and is
    written out in plain digits (``1.3812345678E10`` → ``13812345678``) by decimal
    arithmetic, never through a float."""
    if value is None:
        return ""
    if isinstance(value, NumberText):
        return NumberText(_plain_number(value))
    return str(value).strip()


def _plain_number(text: str) -> str:
    try:
        number = Decimal(text)
    except InvalidOperation:
        return text
    if not number.is_finite():
        return text
    if number == number.to_integral_value():
        return str(int(number))
    return format(number.normalize(), "f")


#: A number as a spreadsheet shows (and saves to CSV) a long one: ``9.13206E+17``.
_SCIENTIFIC = re.compile(r"^[+-]?\d+(\.\d*)?[eE][+-]?\d+$")


def _stored_as_number(value: str) -> bool:
    """Whether a code cell held a number (XLSX) or its scientific display (a CSV saved from a
    sheet): its digits are lost, so it can never be taken as a code."""
    return isinstance(value, NumberText) or bool(_SCIENTIFIC.match(value))


def _xlsx_rows(path: str) -> tuple[Iterator[list[str]], Callable[[], int | None],
                                   Callable[[], None]]:
    try:
        sheet = FirstSheet(path)
    except UnreadableWorkbook as error:
        raise ImportRefused(_("The workbook cannot be read: it may be damaged.")) from error
    return _refusing_damage(sheet), lambda: sheet.max_row, sheet.close


def _refusing_damage(sheet: FirstSheet) -> Iterator[list[str]]:
    """The sheet's rows as cleaned text; damage found part-way refuses the whole file."""
    try:
        for row in sheet.rows():
            yield [_clean_cell(v) for v in row]
    except UnreadableWorkbook as error:
        raise ImportRefused(_("The workbook cannot be read: it may be damaged.")) from error


def _csv_rows(path: str) -> tuple[Iterator[list[str]], Callable[[], int | None],
                                  Callable[[], None]]:
    encoding = "utf-8-sig"
    try:
        with open(path, encoding=encoding) as probe:
            lines = sum(1 for _line in probe)
    except UnicodeDecodeError:
        encoding = "gb18030"
        try:
            with open(path, encoding=encoding) as probe:
                lines = sum(1 for _line in probe)
        except UnicodeDecodeError as error:
            raise ImportRefused(_("The CSV file is neither UTF-8 nor GB18030 text.")) from error
    handle = open(path, encoding=encoding, newline="")  # noqa: SIM115 - closed by the caller
    rows = ([cell.strip() for cell in row] for row in csv.reader(handle))
    return rows, lambda: lines, handle.close


def _header_map(header: list[str]) -> dict[str, int]:
    """Column key → index; unknown, repeated or missing required columns refuse the file."""
    spellings = {}
    for column in COLUMNS:
        for spelling in (column.header, column.key, str(column.label)):
            spellings[spelling.strip().lower()] = column.key
    found: dict[str, int] = {}
    unknown = []
    for index, title in enumerate(header):
        if not title:
            continue
        key = spellings.get(title.strip().lower())
        if key is None or key in found:
            unknown.append(title)
        else:
            found[key] = index
    missing = [c.header for c in COLUMNS if c.required and c.key not in found]
    if unknown or missing:
        parts = []
        if missing:
            parts.append(_("missing: %(cols)s", cols="、".join(missing)))
        if unknown:
            parts.append(_("not recognised or repeated: %(cols)s", cols="、".join(unknown)))
        raise ImportRefused(_("The header row does not match the template (%(details)s). "
                              "Download the template and copy your data into it.",
                              details="; ".join(parts)))
    return found


# --- validating --------------------------------------------------------------------------------

@dataclass
class _Context:
    areas: dict[str, int]
    sections: list
    legacy: set[str]
    commissioners: dict[str, int | None]
    seen_uscc: dict[str, int] = field(default_factory=dict)
    seen_name: dict[str, str] = field(default_factory=dict)
    industries: dict[str, tuple[str, str] | FieldError] = field(default_factory=dict)


def _context() -> _Context:
    areas = {a.name: a.id for a in db.session.scalars(sa.select(Area))}
    legacy = set(db.session.scalars(sa.select(LegacyUscc.uscc)))
    return _Context(areas=areas, sections=sections(), legacy=legacy, commissioners={})


def _commissioner_id(username: str, ctx: _Context) -> int | None:
    key = username.strip().lower()
    if key not in ctx.commissioners:
        user = db.session.scalar(sa.select(User).where(User.username == key))
        ctx.commissioners[key] = user.id if user is not None and can_be_commissioner(user) else None
    return ctx.commissioners[key]


def _industry(raw: str, ctx: _Context) -> tuple[str, str]:
    """parse_industry, once per distinct spelling: a file repeats a few hundred codes."""
    if raw not in ctx.industries:
        try:
            ctx.industries[raw] = parse_industry(raw, ctx.sections)
        except FieldError as error:
            ctx.industries[raw] = error
    known = ctx.industries[raw]
    if isinstance(known, FieldError):
        raise FieldError(known.field, str(known))
    return known


def _choice(text: str, words: dict, enum_cls, default=None):
    if not text:
        return default
    if text in words:
        return words[text]
    try:
        return enum_cls(text.lower())
    except ValueError:
        return None


def _validate_row(cells: dict[str, str], ctx: _Context) -> dict:
    """Column values for one row, or :class:`FieldError` naming the first problem."""
    if _stored_as_number(cells.get("uscc", "")):
        raise FieldError("uscc", _(
            "The code was stored as a number, which loses its last digits: format the "
            "column as text and enter the codes again."))
    result = uscc_rules.validate(cells.get("uscc"))
    if not result.is_valid and not (result.fails_only_check and result.code in ctx.legacy):
        raise FieldError("uscc", str(USCC_PROBLEM_MESSAGES[result.problem]))
    for column in COLUMNS:
        if column.required and not cells.get(column.key):
            raise FieldError(column.key, _("The column %(col)s is required.", col=column.header))
    name = " ".join(cells["name"].split())
    area_id = ctx.areas.get(cells["area"])
    if area_id is None:
        raise FieldError("area", _("Unknown area %(name)s.", name=cells["area"]))
    industry_code, section = _industry(cells["industry"], ctx)
    legal_form = _choice(cells.get("legal_form", ""), LEGAL_FORM_WORDS, LegalForm,
                         LegalForm.OTHER)
    if legal_form is None:
        raise FieldError("legal_form", _("Unknown legal form %(value)s.",
                                         value=cells["legal_form"]))
    origin = _choice(cells["capital_origin"], CAPITAL_ORIGIN_WORDS, CapitalOrigin)
    if origin is None:
        raise FieldError("capital_origin", _("Unknown capital origin %(value)s.",
                                             value=cells["capital_origin"]))
    employees = cells.get("employees", "")
    if employees and not employees.isdigit():
        raise FieldError("employees", _("Employees must be a whole number."))
    key_text = cells.get("is_key_firm", "").lower()
    if key_text not in YES_OR_NO:
        raise FieldError("is_key_firm", _("Key firm must be 是 or 否 (yes or no)."))
    commissioner_id = None
    if cells.get("commissioner"):
        commissioner_id = _commissioner_id(cells["commissioner"], ctx)
        if commissioner_id is None:
            raise FieldError("commissioner", _("%(user)s is not an active staff member.",
                                               user=cells["commissioner"]))
    if key_text in YES and commissioner_id is None:
        raise FieldError("commissioner", _("A key firm must have a service commissioner."))
    mobile = normalise_mobile(cells.get("contact_mobile")) or None
    if mobile and not is_mainland_mobile(mobile):
        raise FieldError("contact_mobile",
                         _("Enter an 11-digit mainland mobile number, e.g. 13812345678."))
    return {
        "uscc": result.code, "name": name, "english_name": cells.get("english_name") or None,
        "area_id": area_id, "industry_code": industry_code, "industry_section": section,
        "legal_form": legal_form.value, "capital_origin": origin.value,
        "address": cells.get("address") or None,
        "employees": int(employees) if employees else None,
        "is_key_firm": key_text in YES, "commissioner_id": commissioner_id,
        "contact": {"name": cells.get("contact_name") or None,
                    "title": cells.get("contact_title") or None, "mobile": mobile,
                    "email": cells.get("contact_email") or None},
    }


def _check_duplicates(values: dict, row_number: int, ctx: _Context) -> None:
    first = ctx.seen_uscc.get(values["uscc"])
    if first is not None:
        raise FieldError("uscc", _("Duplicate: the same code is on row %(row)d.", row=first))
    other = ctx.seen_name.get(values["name"])
    if other is not None and other != values["uscc"]:
        raise FieldError("name", _("Duplicate: another row has this name with a different code."))
    ctx.seen_uscc[values["uscc"]] = row_number
    ctx.seen_name[values["name"]] = values["uscc"]


# --- writing -----------------------------------------------------------------------------------

FIRM_COLUMNS = ("name", "english_name", "area_id", "industry_code", "industry_section",
                "legal_form", "capital_origin", "address", "employees", "is_key_firm",
                "commissioner_id")
CONTACT_COLUMNS = ("name", "title", "mobile", "email")


def _existing(codes: list[str]) -> dict[str, dict]:
    table = Firm.__table__
    rows = db.session.execute(
        sa.select(table.c.id, table.c.uscc, table.c.search_key,
                  *[table.c[c] for c in FIRM_COLUMNS]).where(table.c.uscc.in_(codes)))
    return {row.uscc: row._asdict() for row in rows}


def _names_taken(names: list[str], codes: list[str]) -> dict[str, str]:
    """Names in the chunk already used by a firm with another USCC."""
    rows = db.session.execute(sa.select(Firm.name, Firm.uscc).where(
        Firm.name.in_(names), Firm.uscc.not_in(codes)))
    return {row.name: row.uscc for row in rows}


def _primary_contacts(firm_ids: list[int]) -> dict[int, dict]:
    table = Contact.__table__
    rows = db.session.execute(sa.select(table).where(
        table.c.firm_id.in_(firm_ids), table.c.is_primary.is_(True)).order_by(table.c.id))
    found: dict[int, dict] = {}
    for row in rows:
        found.setdefault(row.firm_id, row._asdict())
    return found


class _Writer:
    """Applies validated rows chunk by chunk inside the caller's transaction."""

    def __init__(self, report: ImportReport, actor: User | None):
        self.report, self.actor, self.now = report, actor, now_utc()

    def write(self, chunk: list[tuple[int, list, dict]]) -> None:
        codes = [values["uscc"] for _n, _c, values in chunk]
        existing = _existing(codes)
        taken = _names_taken([values["name"] for _n, _c, values in chunk], codes)
        new, changed = [], []
        for row_number, cells, values in chunk:
            if values["name"] in taken:
                self.report.rejected.append(RowError(row_number, cells, _(
                    "Another registered firm (%(code)s) already has this name.",
                    code=taken[values["name"]])))
            elif values["uscc"] in existing:
                changed.append((values, existing[values["uscc"]]))
            else:
                new.append(values)
        self._insert(new)
        self._update(changed)

    def _insert(self, rows: list[dict]) -> None:
        if not rows:
            return
        records = [{**{c: v[c] for c in FIRM_COLUMNS}, "uscc": v["uscc"],
                    "search_key": search_key(v["name"], v["uscc"], v["english_name"],
                                             [v["contact"]["name"] or ""]),
                    "created_at": self.now, "updated_at": self.now} for v in rows]
        bulk_insert(Firm.__table__, records)
        table = Firm.__table__
        ids = dict(db.session.execute(sa.select(table.c.uscc, table.c.id).where(
            table.c.uscc.in_([v["uscc"] for v in rows]))).all())
        contacts = [{**v["contact"], "firm_id": ids[v["uscc"]], "is_primary": True,
                     "is_legal_representative": False} for v in rows if v["contact"]["name"]]
        bulk_insert(Contact.__table__, contacts)
        self.report.created += len(rows)

    def _update(self, pairs: list[tuple[dict, dict]]) -> None:
        if not pairs:
            return
        contacts = _primary_contacts([old["id"] for _v, old in pairs])
        firm_updates, history, contact_inserts, contact_updates = [], [], [], []
        for values, old in pairs:
            diff = {c: values[c] for c in FIRM_COLUMNS if _differs(old[c], values[c])}
            contact_diff = self._contact_change(values, old["id"], contacts,
                                                contact_inserts, contact_updates)
            if not diff and not contact_diff:
                self.report.unchanged += 1
                continue
            self.report.updated += 1
            if "name" in diff:
                history.append({"firm_id": old["id"], "old_name": old["name"],
                                "new_name": values["name"], "changed_at": self.now,
                                "changed_by_id": getattr(self.actor, "id", None)})
            firm_updates.append({**diff, "b_id": old["id"], "updated_at": self.now})
        table = Firm.__table__
        for update in firm_updates:
            columns = {k: sa.bindparam(k) for k in update if k != "b_id"}
            db.session.execute(table.update().where(table.c.id == sa.bindparam("b_id"))
                               .values(**columns), [update])
        if history:
            db.session.execute(sa.insert(FirmNameChange.__table__), history)
        if contact_inserts:
            db.session.execute(sa.insert(Contact.__table__), contact_inserts)
        contact_table = Contact.__table__
        for update in contact_updates:
            contact_id = update.pop("b_id")
            db.session.execute(contact_table.update().where(contact_table.c.id == contact_id)
                               .values(**update))
        refresh_search_keys([u["b_id"] for u in firm_updates])

    @staticmethod
    def _contact_change(values, firm_id, contacts, inserts, updates) -> bool:
        new = values["contact"]
        if not new["name"]:
            return False
        old = contacts.get(firm_id)
        if old is None:
            inserts.append({**new, "firm_id": firm_id, "is_primary": True,
                            "is_legal_representative": False})
            return True
        diff = {c: new[c] for c in CONTACT_COLUMNS if new[c] and _differs(old[c], new[c])}
        if diff:
            updates.append({**diff, "b_id": old["id"]})
        return bool(diff)


def refresh_search_keys(firm_ids: list[int]) -> None:
    """Recompute the search keys of these firms from their names, history and contacts."""
    if not firm_ids:
        return
    table = Firm.__table__
    extra: dict[int, list[str]] = {i: [] for i in firm_ids}
    for firm_id, name in db.session.execute(sa.select(
            FirmNameChange.firm_id, FirmNameChange.old_name).where(
            FirmNameChange.firm_id.in_(firm_ids))):
        extra[firm_id].append(name)
    for firm_id, name in db.session.execute(sa.select(Contact.firm_id, Contact.name).where(
            Contact.firm_id.in_(firm_ids))):
        extra[firm_id].append(name)
    for row in db.session.execute(sa.select(table.c.id, table.c.name, table.c.uscc,
                                            table.c.english_name).where(
            table.c.id.in_(firm_ids))):
        db.session.execute(table.update().where(table.c.id == row.id).values(
            search_key=search_key(row.name, row.uscc, row.english_name, extra[row.id])))


def bulk_insert(table: sa.Table, rows: list[dict]) -> None:
    """Insert many plain rows: COPY on PostgreSQL (no per-row statement), executemany elsewhere.

    Values must already be what the column stores (enum values as strings, aware datetimes).
    """
    if not rows:
        return
    connection = db.session.connection()
    if connection.dialect.name != "postgresql":
        db.session.execute(sa.insert(table), rows)
        return
    columns = list(rows[0])
    cursor = connection.connection.driver_connection.cursor()
    with cursor, cursor.copy(f"COPY {table.name} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row([row[c] for c in columns])


def _differs(old, new) -> bool:
    if hasattr(old, "value"):
        old = old.value
    return old != new


# --- the entry point ---------------------------------------------------------------------------

def run_import(path: str, filename: str, actor: User | None, *, dry_run: bool, max_bytes: int,
               progress: Callable[[int], None] | None = None,
               on_total: Callable[[int | None], None] | None = None) -> ImportReport:
    """Validate every row and (unless ``dry_run``) upsert the valid ones by USCC.

    Writes happen in the caller's transaction, which commits (a dry run wrote nothing), or
    rolls back when :class:`ImportRefused` is raised (wrong type, size, headers, or no data
    rows).
    """
    kind = _check_file(path, filename, max_bytes)
    rows, row_count, close = _xlsx_rows(path) if kind == "xlsx" else _csv_rows(path)
    try:
        header = next(rows, None)
        if not header or not any(header):
            raise ImportRefused(_("The file is empty."))
        columns = _header_map(header)
        if on_total:
            total = row_count()  # known once the header row has been read
            on_total(total - 1 if total else None)
        report = ImportReport(filename=os.path.basename(filename), dry_run=dry_run,
                              headers=list(header))
        _process(rows, columns, report, actor, progress)
    finally:
        close()
    if report.total == 0:
        raise ImportRefused(_("The file has a header row but no data rows."))
    if not dry_run:
        audit.record("firm.import", actor=actor, object_type="firms",
                     details={"file": report.filename, "rows": report.total,
                              "created": report.created, "updated": report.updated,
                              "unchanged": report.unchanged, "rejected": len(report.rejected)})
    return report


def _process(rows, columns, report, actor, progress) -> None:
    ctx = _context()
    writer = None if report.dry_run else _Writer(report, actor)
    chunk: list = []
    for row_number, cells in enumerate(rows, start=2):
        if not any(cells):
            continue
        report.total += 1
        named = {key: (cells[i] if i < len(cells) else "") for key, i in columns.items()}
        try:
            values = _validate_row(named, ctx)
            _check_duplicates(values, row_number, ctx)
        except FieldError as error:
            report.rejected.append(RowError(row_number, cells, str(error)))
            continue
        chunk.append((row_number, cells, values))
        if len(chunk) >= CHUNK:
            _flush_chunk(chunk, writer, report, progress)
            chunk = []
    _flush_chunk(chunk, writer, report, progress)


def _flush_chunk(chunk, writer, report, progress) -> None:
    if writer is not None and chunk:
        writer.write(chunk)
    elif chunk:
        _dry_run_counts(chunk, report)
    if progress:
        progress(len(chunk))


def _dry_run_counts(chunk, report) -> None:
    """Count what a real run would do, with the same comparisons, without writing."""
    codes = [values["uscc"] for _n, _c, values in chunk]
    existing = _existing(codes)
    taken = _names_taken([values["name"] for _n, _c, values in chunk], codes)
    contacts = _primary_contacts([old["id"] for old in existing.values()])
    for row_number, cells, values in chunk:
        old = existing.get(values["uscc"])
        if values["name"] in taken:
            report.rejected.append(RowError(row_number, cells, _(
                "Another registered firm (%(code)s) already has this name.",
                code=taken[values["name"]])))
        elif old is None:
            report.created += 1
        elif any(_differs(old[c], values[c]) for c in FIRM_COLUMNS) or \
                _Writer._contact_change(values, old["id"], contacts, [], []):
            report.updated += 1
        else:
            report.unchanged += 1


# --- reports and template ----------------------------------------------------------------------

def error_report(report: ImportReport, handle) -> int:
    """Write the rejected rows, with a reason column, as XLSX to a binary stream (through the
    export cell writer: the cells are the uploader's, formulas and all)."""
    width = len(report.headers)

    def lines():
        for error in sorted(report.rejected, key=lambda e: e.row_number):
            cells = [str(c) for c in error.cells] + [""] * (width - len(error.cells))
            yield [error.row_number, *cells[:width], error.reason]

    return sheets.write_table(handle, "xlsx", title=_("Rejected rows"),
                              headers=[_("Row"), *report.headers, _("Reason")], rows=lines())


def error_report_path(source: str) -> str:
    """Where the command line writes the error report of ``source`` by default: beside it,
    named after the whole file name (``firms.csv`` → ``firms-csv-errors.xlsx``, never the
    same as ``firms.xlsx``'s), and never over an existing file (``-2``, ``-3``…)."""
    stem, extension = os.path.splitext(source)
    base = f"{stem}-{extension.lstrip('.') or 'file'}-errors"
    candidate, n = f"{base}.xlsx", 1
    while os.path.exists(candidate):
        n += 1
        candidate = f"{base}-{n}.xlsx"
    return candidate


def template_workbook() -> bytes:
    """An empty import file with the expected headers and one example row."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "企业"
    sheet.append([c.header for c in COLUMNS])
    sheet.append(["91320583314159268J", "昆山示例精密机械有限公司", "Kunshan Example Precision",
                  "昆山开发区", "C3484", "有限责任公司", "台资", "昆山开发区前进东路1号", 120,
                  "否", "", "林经理", "总经理", "13812345678", "lin@example.com"])
    for index, column in enumerate(COLUMNS):
        sheet.column_dimensions[chr(ord("A") + index)].width = max(12, len(column.header) * 2.5)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
