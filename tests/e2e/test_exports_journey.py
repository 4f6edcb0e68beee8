"""Long work in the browser: the job page's progress bar follows the job by a small poll
(static/progress.js, no inline script: the CSP holds), the page shows the result when the job
ends, and "My exports and imports" finds it again — on a desktop and on a 390 px phone."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from app.auth.models import User
from app.core.clock import now_utc
from app.extensions import db
from app.jobs import JobState, enqueue, services
from app.jobs.models import Job
from tests.e2e.pages import sign_in
from tests.firms.test_import import row, write_xlsx


def _queued_export(app, username: str) -> int:
    """A firm export asked for by ``username`` that no consumer has taken yet."""
    with app.app_context():
        user = db.session.scalar(sa.select(User).where(User.username == username))
        record = enqueue("firms.export", actor=user, fmt="csv", filters={})
        db.session.flush()
        db.session.info.pop("jobs_pending")
        db.session.commit()
        job_id = record.id
        db.session.remove()
    return job_id


def _set(app, job_id: int, **values) -> None:
    with app.app_context():
        db.session.execute(sa.update(Job).where(Job.id == job_id).values(**values))
        db.session.commit()
        db.session.remove()


@pytest.fixture
def csp_errors(page):
    """Console errors of the page (a script blocked by the CSP would show here)."""
    errors = []
    page.on("console", lambda message: errors.append(message.text)
            if message.type == "error" and "Content Security Policy" in message.text
            else None)
    return errors


def test_the_bar_follows_the_job_and_the_result_replaces_it(page, live_app, csp_errors):
    sign_in(page, "dispatcher")
    job_id = _queued_export(live_app, "dispatcher")
    page.goto(f"/my/files/{job_id}")
    bar = page.get_by_test_id("job-bar")
    expect(bar).to_be_visible()
    expect(bar).not_to_have_attribute("value", re.compile(".*"))  # waiting: indeterminate

    _set(live_app, job_id, state=JobState.RUNNING, started_at=now_utc())
    services.write_progress(job_id, 30, 120)
    expect(bar).to_have_js_property("value", 30, timeout=5000)  # polled, not reloaded
    expect(page.get_by_test_id("job-count")).to_contain_text("30")
    expect(page.get_by_test_id("job-count")).to_contain_text("120")
    services.write_progress(job_id, 90, 120)
    expect(bar).to_have_js_property("value", 90, timeout=5000)

    _set(live_app, job_id, state=JobState.SUCCEEDED, finished_at=now_utc(),
         progress_done=120, progress_total=120, result={"files": []})
    services.forget_live_state(job_id)
    expect(page.locator("[data-job-progress]")).to_have_attribute("data-finished", "true",
                                                                  timeout=5000)
    expect(bar).to_have_js_property("value", 120)
    assert not csp_errors, csp_errors


def test_an_import_shows_its_result_and_is_found_again_on_a_phone(browser, base_url, live_app,
                                                                 tmp_path):
    context = browser.new_context(base_url=base_url, locale="zh-CN",
                                  viewport={"width": 390, "height": 844}, is_mobile=True,
                                  has_touch=True)
    page = context.new_page()
    try:
        sign_in(page, "dispatcher")
        path = write_xlsx(tmp_path / "firms.xlsx", [row(901), row(902, area="火星镇")])
        page.goto("/firms/import")
        page.set_input_files("input[name=file]", str(path))
        page.click("[data-testid=import-form] button[type=submit]")
        expect(page).to_have_url(re.compile(r"/my/files/\d+$"))
        expect(page.get_by_test_id("import-report")).to_be_visible()
        expect(page.get_by_test_id("import-report")).to_contain_text("2")
        with page.expect_download() as download:
            page.get_by_test_id("download-errors").click()
        assert download.value.suggested_filename == "firms-import-errors.xlsx"
        page.screenshot(path=str(tmp_path / "import-result-phone.png"), full_page=True)

        page.goto("/my/files/")
        table = page.get_by_test_id("my-jobs")
        expect(table).to_contain_text("firms.xlsx")
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, width  # no sideways scrolling on a phone
    finally:
        context.close()


@pytest.mark.parametrize("locale,word", [("zh-CN", "下载"), ("zh-TW", "下載"),
                                         ("en", "Download")])
def test_an_export_from_the_firm_list_in_each_language(browser, base_url, tmp_path, locale,
                                                      word):
    context = browser.new_context(base_url=base_url, locale=locale)
    page = context.new_page()
    try:
        sign_in(page, "dispatcher")
        page.goto("/firms/?origin=taiwan")
        page.get_by_test_id("export-xlsx").click()
        expect(page).to_have_url(re.compile(r"/my/files/\d+$"))
        link = page.get_by_test_id("download-export")
        expect(link).to_contain_text(word)
        with page.expect_download() as download:
            link.click()
        assert download.value.suggested_filename.startswith("firms-")
        page.screenshot(path=str(tmp_path / f"export-{locale}.png"), full_page=True)
    finally:
        context.close()
