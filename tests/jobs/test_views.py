"""``/admin/jobs``: administrators only; filters, search, pagination, empty state; retry and
cancel as confirmed POST forms with CSRF, audited."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from app.core.audit import AuditEvent
from app.core.permissions import Permission, Role, role_has
from app.extensions import db
from app.jobs import JobState, enqueue
from app.jobs.models import Job
from tests.helpers import csrf_token


def _kept(kind: str, actor=None, **params) -> Job:
    """A queued job whose message is not sent (as if a consumer had not taken it yet)."""
    record = enqueue(kind, actor=actor, **params)
    db.session.flush()
    db.session.info.pop("jobs_pending")
    db.session.commit()
    return record


@pytest.fixture
def admin(make, login_as):
    user = make.user(Role.ADMIN)
    login_as(user)
    return user


@pytest.mark.parametrize("role", [r for r in Role if r != Role.ADMIN])
def test_only_administrators_see_the_jobs(client, make, login_as, role):
    login_as(make.user(role))
    assert client.get("/admin/jobs/").status_code == 403
    assert not role_has(role, Permission.JOB_MANAGE)


def test_the_list_shows_what_needs_attention_by_default(client, admin, make):
    requester = make.user(Role.DISPATCHER, display_name="王小明")
    failed = enqueue("tests.write", actor=requester, fail=True)
    done = enqueue("tests.write", actor=requester, note="fine")
    db.session.commit()
    waiting = _kept("tests.write")
    page = client.get("/admin/jobs/").get_data(as_text=True)
    assert f'href="/admin/jobs/{failed.id}"' in page and "failed on purpose" in page
    assert f'href="/admin/jobs/{waiting.id}"' in page
    assert f'href="/admin/jobs/{done.id}"' not in page
    assert "王小明" in page and "System" in page
    everything = client.get("/admin/jobs/?state=").get_data(as_text=True)
    assert f'href="/admin/jobs/{done.id}"' in everything


def test_filters_and_search(client, admin, make):
    requester = make.user(Role.DISPATCHER, username="zhangsan")
    failed = enqueue("tests.write", actor=requester, fail=True)
    db.session.commit()
    flaky = _kept("tests.flaky")

    def shown(query):
        page = client.get("/admin/jobs/?" + query).get_data(as_text=True)
        return {job_id for job_id in (failed.id, flaky.id) if f'/admin/jobs/{job_id}"' in page}

    assert shown("state=failed") == {failed.id}
    assert shown("state=queued") == {flaky.id}
    assert shown("state=&kind=tests.flaky") == {flaky.id}
    assert shown("state=&q=zhangsan") == {failed.id}
    assert shown("state=&q=on+purpose") == {failed.id}
    assert shown(f"state=&q={flaky.id}") == {flaky.id}
    assert shown("state=bogus") == {failed.id, flaky.id}  # unknown: the default view


def test_retried_jobs_have_their_own_filter(client, admin):
    from tests.jobs.conftest import failures_left

    failures_left[0] = 1
    again = enqueue("tests.flaky")
    db.session.commit()
    once = _kept("tests.write")
    db.session.execute(sa.update(Job).where(Job.id == again.id).values(attempts=2))
    page = client.get("/admin/jobs/?state=retried").get_data(as_text=True)
    assert f'/admin/jobs/{again.id}"' in page and f'/admin/jobs/{once.id}"' not in page


def test_empty_state_and_pagination(client, admin, app):
    assert "No jobs match these filters." in client.get("/admin/jobs/").get_data(as_text=True)
    records = [_kept("tests.write", note=str(n)) for n in range(3)]
    app.config["PAGE_SIZE"] = 2
    try:
        first = client.get("/admin/jobs/").get_data(as_text=True)
        second = client.get("/admin/jobs/?page=2").get_data(as_text=True)
    finally:
        app.config["PAGE_SIZE"] = 25
    newest, middle, oldest = records[2], records[1], records[0]
    assert f'/admin/jobs/{newest.id}"' in first and f'/admin/jobs/{middle.id}"' in first
    assert f'/admin/jobs/{oldest.id}"' not in first and f'/admin/jobs/{oldest.id}"' in second
    assert "page=2" in first


def test_the_detail_page_shows_the_parameters_and_the_whole_error(client, admin, make):
    record = enqueue("tests.write", actor=make.user(Role.DISPATCHER), note="见参数", fail=True)
    db.session.commit()
    page = client.get(f"/admin/jobs/{record.id}").get_data(as_text=True)
    assert "见参数" in page and "RuntimeError: the test job failed on purpose" in page
    assert 'data-confirm="Run job' in page and "/retry" in page
    assert client.get("/admin/jobs/999999").status_code == 404


def test_retry_from_the_page_runs_the_job_again_and_is_audited(client, admin, make):
    requester = make.user(Role.DISPATCHER)
    record = enqueue("tests.write", actor=requester, note="x", fail=True)
    db.session.commit()
    record.params = {"note": "fixed"}
    db.session.commit()
    token = csrf_token(client, f"/admin/jobs/{record.id}")
    response = client.post(f"/admin/jobs/{record.id}/retry", data={"csrf_token": token})
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/admin/jobs/{record.id}")
    db.session.refresh(record)
    assert record.state == JobState.SUCCEEDED and record.attempts == 2
    row = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "job.retry")).one()
    assert row.actor_id == admin.id and row.object_id == str(record.id)
    assert "is queued again" in client.get(response.headers["Location"]).get_data(as_text=True)


def test_cancel_from_the_page_and_its_refusal_once_finished(client, admin):
    record = _kept("tests.write")
    token = csrf_token(client, f"/admin/jobs/{record.id}")
    client.post(f"/admin/jobs/{record.id}/cancel", data={"csrf_token": token})
    db.session.refresh(record)
    assert record.state == JobState.CANCELLED
    row = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "job.cancel")).one()
    assert row.actor_id == admin.id
    response = client.post(f"/admin/jobs/{record.id}/cancel", data={"csrf_token": token},
                           follow_redirects=True)
    assert "This job has already finished." in response.get_data(as_text=True)


def test_posts_need_the_csrf_token_and_the_permission(client, make, login_as):
    record = _kept("tests.write")
    assert client.post(f"/admin/jobs/{record.id}/cancel").status_code in (302, 400)
    login_as(make.user(Role.SUPERVISOR))
    token = csrf_token(client, "/")
    assert client.post(f"/admin/jobs/{record.id}/cancel",
                       data={"csrf_token": token}).status_code == 403
    db.session.refresh(record)
    assert record.state == JobState.QUEUED


def test_the_page_speaks_traditional_chinese(client, admin):
    record = enqueue("tests.write", fail=True)
    db.session.commit()
    page = client.get("/admin/jobs/", headers={"Accept-Language": "zh-TW"}).get_data(
        as_text=True)
    assert "任務" in page and "失敗" in page and "重試" in page
    assert f'/admin/jobs/{record.id}"' in page


def test_a_job_is_seen_by_its_requester_and_the_job_administrators(db, make):
    from flask_login import AnonymousUserMixin

    requester = make.user(Role.DISPATCHER)
    record = _kept("tests.write", actor=requester)
    assert record.can_view(requester)
    assert record.can_view(make.user(Role.ADMIN))
    assert not record.can_view(make.user(Role.DISPATCHER))
    assert not record.can_view(AnonymousUserMixin())
