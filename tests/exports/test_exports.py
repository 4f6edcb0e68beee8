"""Every export and the firm import run as jobs: the page that asks answers with a redirect to
the job's page, which shows progress, then the result and the file; only the requester and the
administrators may download it (others get 404), each download is audited, and the files are
removed after ``EXPORT_KEEP_DAYS``."""

from __future__ import annotations

import csv
import io
import os
from datetime import timedelta

import openpyxl
import pytest
import sqlalchemy as sa

from app.core.audit import AuditEvent
from app.core.permissions import Permission, Role, role_has
from app.extensions import db
from app.jobs import JobState, enqueue
from app.jobs.housekeeping import run_cleanup
from app.jobs.models import Job
from tests.exports import flow
from tests.firms.test_import import row, write_xlsx


def job_of(page) -> Job:
    return db.session.get(Job, flow.job_id(page), populate_existing=True)


def _kept(kind: str, actor, **params) -> Job:
    """A queued job whose message is not sent (no consumer has taken it yet)."""
    record = enqueue(kind, actor=actor, **params)
    db.session.flush()
    db.session.info.pop("jobs_pending")
    db.session.commit()
    return record


def rows_of(response, fmt: str) -> list[list]:
    if fmt == "csv":
        return list(csv.reader(io.StringIO(response.get_data().decode("utf-8-sig"))))
    sheet = openpyxl.load_workbook(io.BytesIO(response.get_data())).active
    return [[c.value for c in line] for line in sheet.iter_rows()]


# --- every job kind ----------------------------------------------------------------------------

@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_firm_export_is_a_job_with_a_file_and_an_audited_count(client, make, login_as, fmt):
    make.firm(name="台资甲有限公司", capital_origin="taiwan")
    make.firm(name="内资丙有限公司")
    user = make.user(Role.HANDLER)
    login_as(user)
    page = flow.start(client, f"/firms/export.{fmt}?origin=taiwan")
    job = job_of(page)
    assert (job.kind, job.state, job.actor_id) == ("firms.export", JobState.SUCCEEDED, user.id)
    assert (job.progress_done, job.progress_total) == (1, 1)
    rows = rows_of(client.get(flow.download_links(page)[0]), fmt)
    assert len(rows) == 2 and "台资甲有限公司" in rows[1]
    audited = db.session.scalars(sa.select(AuditEvent).where(
        AuditEvent.action == "firm.export")).one()
    assert audited.actor_id == user.id and audited.details["rows"] == 1


def test_audit_log_export_is_a_job_that_leaves_out_its_own_row(client, make, login_as):
    from app.core import audit

    auditor = make.user(Role.AUDITOR)
    login_as(auditor)
    audit.record("demo.export_me", actor_name="甲")
    db.session.commit()
    page = flow.start(client, "/audit/export.csv?action=demo.export")
    assert job_of(page).kind == "audit.export"
    rows = rows_of(client.get(flow.download_links(page)[0]), "csv")
    assert [r[1] for r in rows[1:]] == ["甲"]


def test_firm_import_is_a_job_and_its_upload_is_kept_outside_the_web_root(
        client, make, login_as, tmp_path, files_dir):
    login_as(make.user(Role.DISPATCHER))
    path = write_xlsx(tmp_path / "firms.xlsx", [row(1), row(2)])
    response = client.post("/firms/import", data={
        "csrf_token": flow.csrf_token(client, "/firms/import"),
        "file": (io.BytesIO(path.read_bytes()), "firms.xlsx")}, content_type="multipart/form-data")
    page = client.get(response.headers["Location"])
    job = job_of(page)
    assert job.kind == "firms.import" and job.state == JobState.SUCCEEDED
    assert job.result["summary"]["created"] == 2 and job.params["filename"] == "firms.xlsx"
    assert os.path.exists(files_dir / job.params["upload"])
    assert "firms.xlsx" not in os.listdir(files_dir)
    assert (job.progress_done, job.progress_total) == (2, 2)


def test_a_requester_who_lost_the_permission_gets_a_refused_job(client, make, login_as):
    user = make.user(Role.HANDLER)
    job = _kept("firms.export", user, fmt="csv", filters={})
    user.role = Role.AUDITOR  # may export the audit log, not the firms
    db.session.commit()
    from app.jobs.runner import run

    run(job.id)
    job = db.session.get(Job, job.id, populate_existing=True)
    assert job.state == JobState.FAILED and job.error  # in the requester's language
    assert not job.result


# --- the pages ---------------------------------------------------------------------------------

def test_a_waiting_job_shows_a_bar_a_poll_and_a_refresh_without_javascript(client, make,
                                                                           login_as):
    user = make.user(Role.HANDLER)
    login_as(user)
    job = _kept("firms.export", user, fmt="csv", filters={})
    body = client.get(f"/my/files/{job.id}").get_data(as_text=True)
    assert '<noscript><meta http-equiv="refresh" content="2"></noscript>' in body
    assert f'data-job-progress="/my/files/{job.id}/progress"' in body
    assert 'src="/static/progress.js"' in body and "<script>" not in body
    assert 'data-testid="reload"' in body
    assert client.get(f"/my/files/{job.id}/progress").get_json() == {
        "state": "queued", "finished": False, "done": None, "total": None}


def test_the_poll_reads_the_live_progress_of_a_running_job(client, make, login_as):
    from app.jobs import services

    user = make.user(Role.HANDLER)
    login_as(user)
    job = _kept("firms.export", user, fmt="csv", filters={})
    job.state, job.started_at = JobState.RUNNING, job.queued_at
    db.session.commit()
    services.write_progress(job.id, 40, 100)
    assert client.get(f"/my/files/{job.id}/progress").get_json() == {
        "state": "running", "finished": False, "done": 40, "total": 100}
    body = client.get(f"/my/files/{job.id}").get_data(as_text=True)
    assert 'value="40"' in body and "40 of 100 rows" in body


def test_a_finished_job_page_does_not_refresh(client, make, login_as):
    make.firm()
    login_as(make.user(Role.HANDLER))
    page = flow.start(client, "/firms/export.csv").get_data(as_text=True)
    assert "http-equiv" not in page and 'data-finished="true"' in page
    assert 'data-testid="download-export"' in page


def test_my_list_shows_only_my_jobs_with_filters_pagination_and_empty_state(
        app, client, make, login_as, monkeypatch):
    me, other = make.user(Role.HANDLER), make.user(Role.HANDLER)
    login_as(me)
    assert "No exports or imports yet." in client.get("/my/files/").get_data(as_text=True)
    mine = [_kept("firms.export", me, fmt="csv", filters={}) for _ in range(3)]
    theirs = _kept("firms.export", other, fmt="csv", filters={})
    monkeypatch.setitem(app.config, "PAGE_SIZE", 2)
    first = client.get("/my/files/").get_data(as_text=True)
    assert f'href="/my/files/{mine[2].id}"' in first
    assert f'href="/my/files/{mine[0].id}"' not in first
    second = client.get("/my/files/?page=2").get_data(as_text=True)
    assert f'href="/my/files/{mine[0].id}"' in second
    for body in (first, second):
        assert f'href="/my/files/{theirs.id}"' not in body
    filtered = client.get("/my/files/?state=failed").get_data(as_text=True)
    assert "No exports or imports match these filters." in filtered
    assert f'href="/my/files/{mine[2].id}"' in client.get(
        "/my/files/?kind=firms.export&state=queued").get_data(as_text=True)


def test_the_list_reads_a_constant_number_of_statements(app, client, make, login_as,
                                                        monkeypatch):
    from tests.helpers import count_queries

    me = make.user(Role.HANDLER)
    login_as(me)
    _kept("firms.export", me, fmt="csv", filters={})
    client.get("/my/files/")
    with count_queries() as few:
        client.get("/my/files/")
    for _ in range(5):
        _kept("firms.export", me, fmt="csv", filters={})
    with count_queries() as many:
        client.get("/my/files/")
    assert many.count == few.count


# --- who may download --------------------------------------------------------------------------

def test_only_the_requester_and_administrators_download_and_each_download_is_audited(
        client, make, login_as):
    make.firm()
    owner = make.user(Role.HANDLER)
    login_as(owner)
    page = flow.start(client, "/firms/export.csv")
    job = job_of(page)
    link = flow.download_links(page)[0]
    assert client.get(link).status_code == 200
    for stranger in (make.user(Role.HANDLER), make.user(Role.SUPERVISOR),
                     make.user(Role.AUDITOR)):
        login_as(stranger)
        for path in (link, f"/my/files/{job.id}", f"/my/files/{job.id}/progress"):
            assert client.get(path).status_code == 404, (stranger.role, path)
    login_as(make.user(Role.ADMIN))
    assert client.get(link).status_code == 200
    downloads = db.session.scalars(sa.select(AuditEvent).where(
        AuditEvent.action == "export.download").order_by(AuditEvent.id)).all()
    assert [d.actor_role for d in downloads] == ["handler", "admin"]
    assert all(d.object_id == str(job.id) and d.details["requester_id"] == owner.id
               for d in downloads)


def test_firm_users_have_no_files_page(client, make, login_as):
    login_as(make.user(Role.FIRM_USER))
    assert client.get("/my/files/").status_code == 403
    assert not role_has(Role.FIRM_USER, Permission.JOB_OWN)


def test_a_job_that_is_not_an_export_is_not_shown_here(client, make, login_as):
    admin = make.user(Role.ADMIN)
    login_as(admin)
    ping = _kept("jobs.ping", admin)
    assert client.get(f"/my/files/{ping.id}").status_code == 404
    assert client.get(f"/my/files/{ping.id}/export").status_code == 404


# --- retention ---------------------------------------------------------------------------------

def test_files_are_removed_after_the_kept_days_by_the_clean_up(client, make, login_as,
                                                               frozen_clock, files_dir,
                                                               tmp_path):
    make.firm()
    user = make.user(Role.DISPATCHER)
    login_as(user)
    export_page = flow.start(client, "/firms/export.xlsx")
    path = write_xlsx(tmp_path / "up.xlsx", [row(1), row(2, area="火星镇")])
    response = client.post("/firms/import", data={
        "csrf_token": flow.csrf_token(client, "/firms/import"),
        "file": (io.BytesIO(path.read_bytes()), "up.xlsx")}, content_type="multipart/form-data")
    import_page = client.get(response.headers["Location"])
    links = flow.download_links(export_page) + flow.download_links(import_page)
    assert len(links) == 2 and len(os.listdir(files_dir)) == 3  # export, errors, upload

    frozen_clock.freeze(frozen_clock.now_utc() + timedelta(days=7) - timedelta(minutes=1))
    assert _cleanup()["exports.files"] == 0
    login_as(user)  # the session of a week ago has timed out
    assert all(client.get(link).status_code == 200 for link in links)

    frozen_clock.freeze(frozen_clock.now_utc() + timedelta(minutes=2))
    assert _cleanup()["exports.files"] == 3
    login_as(user)
    assert os.listdir(files_dir) == []
    assert all(client.get(link).status_code == 404 for link in links)
    body = client.get(f"/my/files/{flow.job_id(export_page)}").get_data(as_text=True)
    assert 'data-testid="job-expired"' in body
    assert job_of(import_page).result["summary"]["created"] == 1  # the summary stays
    assert _cleanup()["exports.files"] == 0  # safe to run again


def test_the_kept_days_are_configurable(app, client, make, login_as, frozen_clock,
                                        monkeypatch):
    monkeypatch.setitem(app.config, "EXPORT_KEEP_DAYS", 1)
    make.firm()
    user = make.user(Role.HANDLER)
    login_as(user)
    link = flow.download_links(flow.start(client, "/firms/export.csv"))[0]
    frozen_clock.freeze(frozen_clock.now_utc() + timedelta(days=1, minutes=1))
    assert _cleanup()["exports.files"] == 1
    login_as(user)
    assert client.get(link).status_code == 404


def _cleanup() -> dict:
    record = enqueue("jobs.cleanup")
    db.session.commit()
    record = db.session.get(Job, record.id, populate_existing=True)
    assert record.state == JobState.SUCCEEDED, record.error
    return record.result["removed"]


def test_the_clean_up_is_a_registered_hook_of_the_daily_job():
    from app.jobs.housekeeping import cleaners

    assert "exports.files" in cleaners() and run_cleanup.kind == "jobs.cleanup"
