"""Migrations build the schema the models describe, and undo it, on SQLite and PostgreSQL."""

from __future__ import annotations

import uuid

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade

from app import create_app
from app.db import include_object, is_unmodelled_table
from app.extensions import db


@pytest.fixture
def scratch_url(app, tmp_path):
    """An empty database of the same kind as the suite's own."""
    url = sa.make_url(app.config["SQLALCHEMY_DATABASE_URI"])
    if url.get_backend_name() != "postgresql":
        yield f"sqlite:///{tmp_path / 'migrations.db'}"
        return
    name = f"ruyi_migr_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


def _differences(engine) -> list:
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={
            "compare_type": True, "include_object": include_object(connection.dialect.name)})
        return compare_metadata(context, db.metadata)


def _tables(engine) -> set[str]:
    return {name for name in sa.inspect(engine).get_table_names()
            if name != "alembic_version" and not is_unmodelled_table(name)}


@pytest.mark.db_scratch
def test_upgrade_matches_models_and_downgrade_removes_everything(scratch_url):
    scratch = create_app("testing", {"SQLALCHEMY_DATABASE_URI": scratch_url})
    with scratch.app_context():
        upgrade()
        assert _differences(db.engine) == []
        assert _tables(db.engine) == set(db.metadata.tables)
        downgrade(revision="base")
        assert _tables(db.engine) == set()
        upgrade()
        assert _differences(db.engine) == []
        db.session.remove()
        db.engine.dispose()


def test_no_migration_imports_the_application():
    """A migration stays what it was when it ran: it copies the constants and rules it needs
    instead of importing them from ``app`` (whose code changes; env.py, the harness, may)."""
    import ast
    from pathlib import Path

    versions = Path(__file__).resolve().parents[1] / "migrations" / "versions"
    offenders = []
    for path in sorted(versions.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = ([alias.name for alias in node.names] if isinstance(node, ast.Import)
                     else [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            offenders += [f"{path.name}:{node.lineno} {name}" for name in names
                          if name == "app" or name.startswith("app.")]
    assert offenders == []
