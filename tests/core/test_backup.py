"""Backups that restore, on the database of the run: the demo data and a set of kept files
go through ``flask backup`` and ``flask restore`` into a new, empty database and instance
folder, and every row of every table and every file comes back the same; the audit chain
still verifies. A damaged archive and a non-empty database are refused, with nothing written.

The commands run as an operator runs them (``flask`` in a process of its own) on databases made
for the test: a new database on ``TEST_DATABASE_URL``'s PostgreSQL server, or new SQLite files.
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa

ROOT = Path(__file__).resolve().parents[2]
TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL", "")
ON_POSTGRESQL = TEST_DATABASE_URL.startswith("postgresql")

FILES = {
    "uploads/3f/a1b2c3d4e5f6.pdf": b"%PDF-1.4\n" + bytes(range(256)) * 40,
    "visit_attachments/照片 一.jpg": b"\xff\xd8\xff\xe0" + os.urandom(5000),
    "firm-imports/2026/firms.csv": "统一社会信用代码,名称\n".encode() * 50,
}


class Site:
    """One installation: a database and an instance folder, and ``flask`` against them."""

    def __init__(self, url: sa.URL, folder: Path):
        self.url, self.folder = url, folder
        self.engine = sa.create_engine(url, poolclass=sa.pool.NullPool)

    def env(self) -> dict:
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("TEST_DATABASE", "INSTANCE_PATH", "JOBS_", "DATABASE_"))}
        env.update(FLASK_APP="wsgi.py", RUYI_ENV="development", TZ="UTC",
                   DATABASE_URL=self.url.render_as_string(hide_password=False),
                   INSTANCE_PATH=str(self.folder), JOBS_IMMEDIATE="1")
        return env

    def flask(self, *args: str, ok: bool = True) -> subprocess.CompletedProcess:
        done = subprocess.run([sys.executable, "-m", "flask", *args], cwd=ROOT,  # noqa: S603
                              env=self.env(), capture_output=True, text=True, timeout=600)
        if ok:
            assert done.returncode == 0, f"flask {' '.join(args)}\n{done.stdout}\n{done.stderr}"
        return done

    def tables(self) -> dict[str, list[tuple]]:
        """Every row of every table, in a stable order (all columns, as text)."""
        with self.engine.connect() as connection:
            names = sorted(sa.inspect(connection).get_table_names())
            return {name: sorted(tuple(repr(v) for v in row) for row in connection.execute(
                sa.select(sa.text("*")).select_from(sa.table(name)))) for name in names}

    def files(self) -> dict[str, bytes]:
        skip = {"ruyi.db", "ruyi.db-wal", "ruyi.db-shm", "jobs.db", "jobs.db-wal",
                "jobs.db-shm", "secret_key"}
        return {p.relative_to(self.folder).as_posix(): p.read_bytes()
                for p in self.folder.rglob("*") if p.is_file() and p.name not in skip}


@pytest.fixture(scope="module")
def databases():
    """Two new databases (source, target), removed at the end."""
    if not ON_POSTGRESQL:
        yield lambda folder, name: sa.make_url(f"sqlite:///{folder / 'ruyi.db'}")
        return
    server = sa.make_url(TEST_DATABASE_URL)
    admin = sa.create_engine(server, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
    made = []

    def new(folder: Path, name: str) -> sa.URL:
        database = f"ruyi_backup_{name}_{uuid.uuid4().hex[:8]}"
        with admin.connect() as connection:
            connection.exec_driver_sql(f'CREATE DATABASE "{database}"')
        made.append(database)
        return server.set(database=database)

    try:
        yield new
    finally:
        with admin.connect() as connection:
            for database in made:
                connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        admin.dispose()


@pytest.fixture(scope="module")
def source(databases, tmp_path_factory):
    """An installation with the demo data, kept files and a sealed audit chain, backed up."""
    folder = tmp_path_factory.mktemp("source")
    site = Site(databases(folder, "src"), folder)
    site.flask("db", "upgrade")
    site.flask("demo", "seed", "--tickets", "12")
    for name, content in FILES.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(content)
    site.flask("audit", "seal")
    site.archive = tmp_path_factory.mktemp("archives") / "backup.tar"
    done = site.flask("backup", "--output", str(site.archive))
    assert "Done:" in done.stdout
    yield site
    site.engine.dispose()


@pytest.fixture
def target(databases, tmp_path):
    folder = tmp_path / "target"
    folder.mkdir()
    site = Site(databases(folder, "dst"), folder)
    yield site
    site.engine.dispose()


def test_a_backup_restores_every_row_and_every_file(source, target):
    done = target.flask("restore", str(source.archive))
    assert "archive intact" in done.stdout and "row counts match the manifest" in done.stdout
    restored, original = target.tables(), source.tables()
    assert set(restored) == set(original) and len(original) > 40
    for name in original:
        assert restored[name] == original[name], f"table {name} differs"
    assert sum(map(len, original.values())) > 1000
    kept = source.files()
    assert set(FILES) <= set(kept)
    assert target.files() == kept
    verified = target.flask("audit", "verify")
    assert "Audit chain intact" in verified.stdout


def _refused(target: Site, archive: Path, *words: str) -> None:
    done = target.flask("restore", str(archive), ok=False)
    assert done.returncode != 0
    for word in words:
        assert word in done.stderr + done.stdout


def test_a_damaged_archive_is_refused_and_nothing_is_written(source, target, tmp_path):
    data = source.archive.read_bytes()
    truncated = tmp_path / "truncated.tar"
    truncated.write_bytes(data[: len(data) * 2 // 3])
    flipped = tmp_path / "flipped.tar"
    middle = bytearray(data)
    middle[len(data) // 3] ^= 0x01
    flipped.write_bytes(bytes(middle))
    for archive in (truncated, flipped):
        _refused(target, archive, "damaged archive")
    with target.engine.connect() as connection:
        assert sa.inspect(connection).get_table_names() == []
    assert target.files() == {}


def test_a_database_that_is_not_empty_is_refused_unless_replaced(source, target):
    target.flask("db", "upgrade")
    _refused(target, source.archive, "not empty", "--replace")
    done = target.flask("restore", "--replace", str(source.archive))
    assert "row counts match the manifest" in done.stdout
    assert target.tables() == source.tables()
