"""Backups that restore: ``flask backup`` writes one archive, ``flask restore`` puts it back.

The archive is one uncompressed tar file (what it holds is compressed already or small):

* ``database.dump`` — ``pg_dump --format=custom`` on PostgreSQL (consistent: one snapshot,
  taken while the site runs), or ``database.sqlite3`` — a copy made with SQLite's online backup
  API (consistent while other processes write);
* ``files/…`` — every file Ruyi keeps in ``INSTANCE_PATH`` (uploads, visit attachments, import
  files and reports) and in ``TICKET_UPLOAD_DIR`` when it is set elsewhere; not the databases'
  own files (the database is in the dump), nor the development ``secret_key`` (configuration,
  not data: an archive that leaks must not also hand out the key that signs sessions);
* ``manifest.json`` — the SHA-256 and size of every other member, the schema revision and the
  row count of every table when it was written.

:func:`restore` reads the whole archive and checks every checksum **before** it touches
anything: a damaged archive (truncated, a byte changed, a member missing or added) is refused
and nothing is written. It restores into an **empty** database (no tables) and refuses a
database that has tables unless told to replace it (``--replace``), and it never overwrites a
file that differs unless told the same. After the restore it counts the rows of every table
again and compares them with the manifest.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import click
import sqlalchemy as sa
from flask import current_app
from flask.cli import with_appcontext

from app.core.clock import now_utc
from app.extensions import db

FORMAT = 1
MANIFEST = "manifest.json"
PG_DUMP = "database.dump"
SQLITE_COPY = "database.sqlite3"
CHUNK = 1024 * 1024

Say = Callable[[str], None]


class BackupError(click.ClickException):
    """The archive cannot be written or restored; nothing was changed."""


# --- where things are ----------------------------------------------------------------------


def _dialect() -> str:
    return db.engine.dialect.name


def _sqlite_path(url: str | sa.URL) -> Path | None:
    url = sa.make_url(url)
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        return None
    return Path(url.database).resolve()


def _file_roots() -> list[Path]:
    """The folders whose files go into the archive: the instance folder, and the upload
    folder when it is configured outside it."""
    roots = [Path(current_app.instance_path).resolve()]
    uploads = current_app.config.get("TICKET_UPLOAD_DIR")
    if uploads and not Path(uploads).resolve().is_relative_to(roots[0]):
        roots.append(Path(uploads).resolve())
    return roots


def _database_files() -> set[Path]:
    """Files never copied as files: SQLite's databases with their journals, the secret key."""
    found = {Path(current_app.instance_path).resolve() / "secret_key"}
    for url in (current_app.config["SQLALCHEMY_DATABASE_URI"],
                current_app.config.get("JOBS_URL") or ""):
        path = _sqlite_path(url) if url.startswith("sqlite") else None
        if path:
            found |= {path, Path(f"{path}-wal"), Path(f"{path}-shm"), Path(f"{path}-journal")}
    return found


def _kept_files() -> Iterator[tuple[str, Path]]:
    """``(name in the archive, path)`` of every file to back up, in a stable order."""
    skip = _database_files()
    for n, root in enumerate(_file_roots()):
        if not root.is_dir():
            continue
        for path in sorted(p for p in root.rglob("*") if p.is_file() and not p.is_symlink()):
            if path.resolve() not in skip:
                yield f"files/{n}/{path.relative_to(root).as_posix()}", path


def _target_of(name: str) -> Path:
    """Where an archived file goes back: the same folder of this installation."""
    _, root_index, relative = name.split("/", 2)
    roots = _file_roots()
    root = roots[int(root_index)] if int(root_index) < len(roots) else roots[0]
    target = (root / relative).resolve()
    if not target.is_relative_to(root):
        raise BackupError(f"refused: {name} would be written outside {root}")
    return target


# --- checksums and counts ------------------------------------------------------------------


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def table_counts(connection: sa.Connection | None = None) -> dict[str, int]:
    """Rows of every table of the schema, by name."""
    connection = connection or db.session.connection()
    names = sorted(sa.inspect(connection).get_table_names())
    return {name: connection.execute(
        sa.select(sa.func.count()).select_from(sa.table(name))).scalar_one() for name in names}


def _revision(connection) -> str | None:
    if "alembic_version" not in sa.inspect(connection).get_table_names():
        return None
    return connection.execute(sa.text("SELECT version_num FROM alembic_version")).scalar()


# --- PostgreSQL tools ----------------------------------------------------------------------


def _pg_tool(name: str) -> str:
    """``pg_dump``/``pg_restore``: the newest installed (Debian's layout), else on the PATH.
    They must be at least as new as the server (pg_dump refuses a newer server)."""
    candidates = sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"),
                         key=lambda p: int(p.parts[-3]) if p.parts[-3].isdigit() else 0,
                         reverse=True)
    for candidate in candidates:
        if candidate.is_file():
            return str(candidate)
    found = shutil.which(name)
    if not found:
        raise BackupError(f"{name} not found: install the PostgreSQL client programs")
    return found


def _pg_args(url: sa.URL) -> tuple[list[str], dict[str, str]]:
    """Connection options for the PostgreSQL tools; the password goes in the environment,
    never on the command line (other users can read that)."""
    args = ["--no-password"]
    if url.host:
        args += ["--host", url.host]
    if url.port:
        args += ["--port", str(url.port)]
    if url.username:
        args += ["--username", url.username]
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    return args, env


def _run(args: list[str], env: dict[str, str], what: str) -> None:
    done = subprocess.run(args, env=env, capture_output=True, text=True)  # noqa: S603
    if done.returncode != 0:
        raise BackupError(f"{what} failed: {done.stderr.strip()[-2000:]}")


# --- backup --------------------------------------------------------------------------------


def _dump_database(folder: Path, say: Say) -> Path:
    """The database into one file in ``folder``, consistently, while the site runs."""
    if _dialect() == "postgresql":
        url = db.engine.url
        target = folder / PG_DUMP
        args, env = _pg_args(url)
        say("  database: pg_dump (custom format)…")
        _run([_pg_tool("pg_dump"), *args, "--format=custom", "--no-owner", "--no-privileges",
              "--file", str(target), "--dbname", url.database], env, "pg_dump")
        return target
    source = _sqlite_path(db.engine.url)
    if source is None:
        raise BackupError("an in-memory SQLite database cannot be backed up")
    target = folder / SQLITE_COPY
    say("  database: SQLite online backup…")
    with sqlite3.connect(source) as src, sqlite3.connect(target) as dst:
        src.backup(dst, pages=1024)
    return target


def write_backup(output: Path, say: Say = click.echo) -> dict:
    """Write the archive to ``output`` (written beside it first, renamed when complete)."""
    with db.engine.connect() as connection:
        counts, revision = table_counts(connection), _revision(connection)
    manifest = {"format": FORMAT, "created_at": now_utc().isoformat(), "database": _dialect(),
                "revision": revision, "tables": counts, "members": {}}
    partial = output.with_name(output.name + ".partial")
    with tempfile.TemporaryDirectory() as work:
        dump = _dump_database(Path(work), say)
        with tarfile.open(partial, "w") as archive:
            _add(archive, dump.name, dump, manifest)
            files = list(_kept_files())
            say(f"  files: {len(files)}…")
            for n, (name, path) in enumerate(files, 1):
                _add(archive, name, path, manifest)
                if n % 200 == 0:
                    say(f"    {n}/{len(files)}")
            data = json.dumps(manifest, ensure_ascii=False, indent=1, sort_keys=True).encode()
            info = tarfile.TarInfo(MANIFEST)
            info.size, info.mtime = len(data), int(now_utc().timestamp())
            archive.addfile(info, io.BytesIO(data))
    os.replace(partial, output)
    return manifest


def _add(archive: tarfile.TarFile, name: str, path: Path, manifest: dict) -> None:
    manifest["members"][name] = {"sha256": _sha256(path), "size": path.stat().st_size}
    archive.add(str(path), arcname=name, recursive=False)


# --- restore -------------------------------------------------------------------------------


@dataclass
class Checked:
    """An archive whose every member matched its manifest, unpacked in ``folder``."""

    manifest: dict
    folder: Path

    @property
    def database_file(self) -> Path:
        name = PG_DUMP if self.manifest["database"] == "postgresql" else SQLITE_COPY
        return self.folder / name

    @property
    def file_names(self) -> list[str]:
        return sorted(n for n in self.manifest["members"] if n.startswith("files/"))


def check_archive(archive_path: Path, folder: Path, say: Say = click.echo) -> Checked:
    """Unpack into ``folder`` and check every member against the manifest.

    :raises BackupError: unreadable or truncated archive, no or bad manifest, a member missing,
        unexpected, of another size or checksum.
    """
    try:
        with tarfile.open(archive_path, "r:") as archive:
            members = archive.getmembers()
            names = [m.name for m in members]
            if MANIFEST not in names:
                raise BackupError("damaged archive: no manifest")
            manifest = json.loads(archive.extractfile(MANIFEST).read())
            _check_names(manifest, names)
            for n, member in enumerate(members, 1):
                if member.name != MANIFEST:
                    _extract_checked(archive, member, folder, manifest["members"][member.name])
                if n % 200 == 0:
                    say(f"  checked {n}/{len(members)}")
    except (tarfile.TarError, OSError, EOFError, ValueError, KeyError, TypeError) as error:
        raise BackupError(f"damaged archive: {error}") from error
    if manifest.get("format") != FORMAT:
        raise BackupError(f"unknown archive format {manifest.get('format')!r}")
    return Checked(manifest, folder)


def _check_names(manifest: dict, names: list[str]) -> None:
    expected = set(manifest["members"])
    present = set(names) - {MANIFEST}
    if len(names) != len(set(names)) or present != expected:
        missing, extra = sorted(expected - present), sorted(present - expected)
        raise BackupError(f"damaged archive: missing {missing[:5]}, unexpected {extra[:5]}")


def _extract_checked(archive: tarfile.TarFile, member: tarfile.TarInfo, folder: Path,
                     expected: dict) -> None:
    if not member.isfile():
        raise BackupError(f"damaged archive: {member.name} is not a file")
    target = (folder / member.name).resolve()
    if not target.is_relative_to(folder.resolve()):
        raise BackupError(f"damaged archive: {member.name} points outside the archive")
    target.parent.mkdir(parents=True, exist_ok=True)
    digest, size = hashlib.sha256(), 0
    with archive.extractfile(member) as source, open(target, "wb") as out:
        for chunk in iter(lambda: source.read(CHUNK), b""):
            digest.update(chunk)
            size += len(chunk)
            out.write(chunk)
    if size != expected["size"] or digest.hexdigest() != expected["sha256"]:
        raise BackupError(f"damaged archive: {member.name} does not match its checksum")


def database_is_empty() -> bool:
    """No tables at all (a database just created, before ``flask db upgrade``)."""
    with db.engine.connect() as connection:
        return not sa.inspect(connection).get_table_names()


def _clear_database() -> None:
    """``--replace``: drop everything (PostgreSQL: the public schema; SQLite: the file)."""
    if _dialect() == "postgresql":
        with db.engine.begin() as connection:
            connection.exec_driver_sql("DROP SCHEMA public CASCADE")
            connection.exec_driver_sql("CREATE SCHEMA public")
    else:
        db.engine.dispose()
        path = _sqlite_path(db.engine.url)
        for name in (path, Path(f"{path}-wal"), Path(f"{path}-shm"), Path(f"{path}-journal")):
            name.unlink(missing_ok=True)


def _restore_database(checked: Checked, say: Say) -> None:
    kind = checked.manifest["database"]
    if kind != _dialect():
        raise BackupError(f"the archive holds a {kind} database; this installation uses "
                          f"{_dialect()}")
    db.engine.dispose()
    if kind == "postgresql":
        url = db.engine.url
        args, env = _pg_args(url)
        say("  database: pg_restore…")
        _run([_pg_tool("pg_restore"), *args, "--no-owner", "--no-privileges",
              "--exit-on-error", "--single-transaction", "--dbname", url.database,
              str(checked.database_file)], env, "pg_restore")
        return
    target = _sqlite_path(db.engine.url)
    say("  database: SQLite online backup into place…")
    target.parent.mkdir(parents=True, exist_ok=True)
    with sqlite3.connect(checked.database_file) as src, sqlite3.connect(target) as dst:
        src.backup(dst, pages=1024)


def _conflicting_files(checked: Checked) -> list[str]:
    """Archived files that exist here with other content."""
    clashes = []
    for name in checked.file_names:
        target = _target_of(name)
        if target.exists() and _sha256(target) != checked.manifest["members"][name]["sha256"]:
            clashes.append(name)
    return clashes


def _restore_files(checked: Checked, say: Say) -> int:
    names = checked.file_names
    say(f"  files: {len(names)}…")
    for n, name in enumerate(names, 1):
        target = _target_of(name)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(checked.folder / name, target)
        if n % 200 == 0:
            say(f"    {n}/{len(names)}")
    return len(names)


def restore_backup(archive_path: Path, replace: bool = False, say: Say = click.echo) -> dict:
    """Check the archive, then restore it (see the module docstring for what is refused)."""
    with tempfile.TemporaryDirectory() as work:
        say(f"Checking {archive_path.name}…")
        checked = check_archive(archive_path, Path(work), say)
        say(f"  archive intact: {len(checked.manifest['members'])} members, made "
            f"{checked.manifest['created_at']} on {checked.manifest['database']}")
        if not database_is_empty() and not replace:
            raise BackupError("the database is not empty: restore into a new, empty database, "
                              "or pass --replace to drop everything in it first")
        clashes = _conflicting_files(checked)
        if clashes and not replace:
            raise BackupError(f"{len(clashes)} files here differ from the archive's (first: "
                              f"{clashes[0]}); pass --replace to overwrite them")
        if not database_is_empty():
            say("  replacing: dropping everything in the database…")
            _clear_database()
        _restore_database(checked, say)
        restored = _restore_files(checked, say)
    with db.engine.connect() as connection:
        counts = table_counts(connection)
    if counts != checked.manifest["tables"]:
        differ = sorted(k for k in set(counts) | set(checked.manifest["tables"])
                        if counts.get(k) != checked.manifest["tables"].get(k))
        raise BackupError(f"restored, but row counts differ from the manifest: {differ[:10]}")
    return {"tables": len(counts), "rows": sum(counts.values()), "files": restored}


# --- commands ------------------------------------------------------------------------------


@click.command("backup")
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path),
              help="The archive to write (default: ruyi-backup-<UTC time>.tar here).")
@with_appcontext
def backup_command(output: Path | None) -> None:
    """Write one archive: the database, every kept file and a manifest with checksums."""
    output = output or Path(f"ruyi-backup-{now_utc():%Y%m%d-%H%M%S}.tar")
    click.echo(f"Backing up to {output}…")
    manifest = write_backup(output)
    rows = sum(manifest["tables"].values())
    click.echo(f"Done: {len(manifest['tables'])} tables, {rows} rows, "
               f"{len(manifest['members']) - 1} files, {output.stat().st_size} bytes.")


@click.command("restore")
@click.argument("archive", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--replace", is_flag=True,
              help="Drop everything in a non-empty database and overwrite differing files.")
@with_appcontext
def restore_command(archive: Path, replace: bool) -> None:
    """Check ARCHIVE and restore it into an empty database (refused if damaged)."""
    result = restore_backup(archive, replace=replace)
    click.echo(f"Restored: {result['tables']} tables, {result['rows']} rows, "
               f"{result['files']} files; row counts match the manifest.")
