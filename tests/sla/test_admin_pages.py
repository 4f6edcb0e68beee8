"""The calendar and SLA admin pages: who may open them, and what each change does."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
import sqlalchemy as sa

from app.core import clock
from app.core.audit import AuditEvent
from app.core.permissions import Role
from app.sla import services
from app.sla.enums import DayKind, DaySource, SlaStep
from app.sla.models import WorkCalendarDay
from tests.helpers import post_form
from tests.sla.conftest import as_local, local

PAGES = ["/admin/calendar", "/admin/calendar?year=2027", "/admin/calendar/days?day=2026-02-14",
         "/admin/sla/policies", "/admin/sla/settings"]


def _policy_path() -> str:
    return f"/admin/sla/policies/{services.policy_for('standard', 'consult', 'normal').id}"


@pytest.mark.parametrize("role", list(Role))
@pytest.mark.parametrize("path", [*PAGES, "policy"])
def test_only_admins_open_the_sla_admin_pages(client, make, login_as, role, path):
    login_as(make.user(role))
    path = _policy_path() if path == "policy" else path
    assert client.get(path).status_code == (200 if role == Role.ADMIN else 403)


@pytest.mark.parametrize("path", ["/admin/calendar/days", "/admin/calendar/years",
                                  "/admin/sla/settings", "policy"])
@pytest.mark.parametrize("role", [r for r in Role if r != Role.ADMIN])
def test_non_admins_cannot_post_changes(client, make, login_as, role, path):
    login_as(make.user(role))
    path = _policy_path() if path == "policy" else path
    response = post_form(client, path, {"first_day": "2026-03-09", "kind": "holiday",
                                        "reason": "x", "year": "2027"}, token_from="/home")
    assert response.status_code == 403
    assert db_day(date(2026, 3, 9)).kind == DayKind.NORMAL


def test_anonymous_users_are_sent_to_sign_in(client):
    response = client.get("/admin/calendar")
    assert response.status_code == 302
    assert "/auth/login" in response.headers["Location"]


def db_day(day: date) -> WorkCalendarDay:
    from app.extensions import db

    return db.session.get(WorkCalendarDay, day)


def _audit(db, action):
    return db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == action)
                              .order_by(AuditEvent.id.desc())).first()


def test_the_year_shows_twelve_months_coloured_by_kind(client, make, login_as):
    login_as(make.user(Role.ADMIN))
    html = client.get("/admin/calendar?year=2026").get_data(as_text=True)
    assert html.count("data-month=") == 12
    assert 'data-day="2026-02-14" data-kind="makeup_workday"' in html
    assert 'data-day="2026-02-17" data-kind="holiday"' in html
    assert 'data-day="2026-03-07" data-kind="weekend"' in html
    assert "248" in html


def test_an_admin_edit_is_audited_and_changes_the_computed_deadline(client, make, login_as, db):
    admin = make.user(Role.ADMIN)
    login_as(admin)
    friday = local(2026, 3, 6, 10)
    assert as_local(services.load_calendar().add_working_days(friday, 1)) == \
        "2026-03-09 23:59:59"
    response = post_form(client, "/admin/calendar/days",
                         {"first_day": "2026-03-09", "last_day": "", "kind": "holiday",
                          "name": "防汛", "reason": "防汛应急停工通知"},
                         token_from="/admin/calendar/days?day=2026-03-09")
    assert response.status_code == 302
    assert "year=2026" in response.headers["Location"]
    event = _audit(db, "calendar.day_change")
    assert event.actor_id == admin.id and event.details["reason"] == "防汛应急停工通知"
    services._forget_request_values()          # the next request in this worker
    assert as_local(services.load_calendar().add_working_days(friday, 1)) == \
        "2026-03-10 23:59:59"


def test_an_edit_without_a_reason_is_refused_with_the_input_kept(client, make, login_as, db):
    login_as(make.user(Role.ADMIN))
    response = post_form(client, "/admin/calendar/days",
                         {"first_day": "2026-03-09", "kind": "holiday", "name": "防汛测试",
                          "reason": ""}, token_from="/admin/calendar/days?day=2026-03-09")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "is-invalid" in html and "防汛测试" in html
    assert db_day(date(2026, 3, 9)).kind == DayKind.NORMAL
    assert _audit(db, "calendar.day_change") is None


def test_a_range_ending_before_it_starts_is_refused(client, make, login_as):
    login_as(make.user(Role.ADMIN))
    response = post_form(client, "/admin/calendar/days",
                         {"first_day": "2026-03-09", "last_day": "2026-03-01",
                          "kind": "holiday", "reason": "x"},
                         token_from="/admin/calendar/days")
    assert response.status_code == 200
    assert "must not be before" in response.get_data(as_text=True)


def test_an_admin_adds_next_year_with_provisional_days(client, make, login_as, db):
    login_as(make.user(Role.ADMIN))
    response = post_form(client, "/admin/calendar/years", {"year": "2027"},
                         token_from="/admin/calendar?year=2027")
    assert response.status_code == 302
    page = client.get("/admin/calendar?year=2027").get_data(as_text=True)
    assert 'data-day="2027-01-02" data-kind="weekend"' in page
    # the Spring Festival by rule (除夕 Fri 02-05 … the 补假 of its weekend days, Wed 02-10)
    assert 'data-day="2027-02-05" data-kind="holiday"' in page
    assert 'data-day="2027-02-10" data-kind="holiday"' in page
    assert 'data-day="2027-02-11" data-kind="normal"' in page
    assert 'data-testid="calendar-provisional"' in page and "is provisional" in page
    assert _audit(db, "calendar.add_year").details == {"year": 2027, "from": "provisional",
                                                       "days": 365}


def test_the_calendar_page_says_next_year_is_provisional_before_any_use(client, make, login_as,
                                                                         frozen_clock):
    login_as(make.user(Role.ADMIN))
    page = client.get("/admin/calendar?year=2027").get_data(as_text=True)
    assert 'data-testid="calendar-provisional"' in page
    assert "made automatically when a deadline first needs 2027" in page
    assert "0 open tickets have provisional deadlines" in page


def test_adding_an_existing_year_says_so(client, make, login_as):
    login_as(make.user(Role.ADMIN))
    response = post_form(client, "/admin/calendar/years", {"year": "2026"},
                         token_from="/admin/calendar", follow_redirects=True)
    assert "already has days for 2026" in response.get_data(as_text=True)


def test_a_year_out_of_range_is_not_found(client, make, login_as):
    login_as(make.user(Role.ADMIN))
    assert client.get("/admin/calendar?year=banana").status_code == 404
    assert client.get("/admin/calendar?year=1800").status_code == 404


class TestHomeWarning:
    """Admins are told on the home page when this or next year has no calendar."""

    def test_admins_see_the_warning_late_in_the_year(self, client, make, login_as):
        clock.freeze(datetime(2026, 11, 26, 2, 0, tzinfo=UTC))
        login_as(make.user(Role.ADMIN))
        html = client.get("/home").get_data(as_text=True)
        assert 'data-testid="calendar-warning"' in html and "2027" in html

    def test_no_warning_early_in_the_year(self, client, make, login_as, frozen_clock):
        login_as(make.user(Role.ADMIN))
        assert 'data-testid="calendar-warning"' not in client.get("/home").get_data(as_text=True)

    def test_supervisors_see_it_too_without_the_admin_link(self, client, make, login_as):
        clock.freeze(datetime(2026, 10, 1, 2, 0, tzinfo=UTC))
        login_as(make.user(Role.SUPERVISOR))
        html = client.get("/home").get_data(as_text=True)
        assert 'data-testid="calendar-warning" data-year="2027"' in html
        assert "Deadlines reaching into 2027 are provisional" in html
        assert "/admin/calendar" not in html

    @pytest.mark.parametrize("role", [r for r in Role if r not in (Role.ADMIN, Role.SUPERVISOR)])
    def test_other_roles_do_not_see_it(self, client, make, login_as, role):
        clock.freeze(datetime(2026, 11, 26, 2, 0, tzinfo=UTC))
        login_as(make.user(role))
        assert 'data-testid="calendar-warning"' not in client.get("/home").get_data(as_text=True)

    def test_the_warning_goes_once_the_official_year_is_entered(self, client, make, login_as):
        clock.freeze(datetime(2026, 11, 26, 2, 0, tzinfo=UTC))
        admin = make.user(Role.ADMIN)
        services.add_year(2027, admin)               # provisional days: the warning stays
        login_as(admin)
        assert 'data-testid="calendar-warning"' in client.get("/home").get_data(as_text=True)
        services._store_year(2027, services.weekday_rule_year(2027), DaySource.GENERATED)
        services._bump(calendar=True)
        assert 'data-testid="calendar-warning"' not in client.get("/home").get_data(as_text=True)


def _policy_form(policy, **overrides) -> dict:
    data = {"same_day_cutoff": "15:00", "due_soon_remaining_days": "1",
            "due_soon_used_percent": "75"}
    for step in SlaStep:
        limit = policy.limit(step)
        data[f"{step.value}_limit"] = f"{limit.value:f}"
        data[f"{step.value}_unit"] = str(limit.unit)
    data.update(overrides)
    return data


def test_policies_are_listed_and_filtered(client, make, login_as):
    login_as(make.user(Role.ADMIN))
    html = client.get("/admin/sla/policies?demand_type=consult&urgency=normal&complex=0"
                      "&service_mode=standard").get_data(as_text=True)
    assert html.count("data-policy=") == 1
    assert "1 in total" in html
    empty = client.get("/admin/sla/policies?demand_type=nonsense").get_data(as_text=True)
    assert "data-policy=" not in empty


def test_an_admin_edits_a_policy_and_it_is_audited(client, make, login_as, db):
    admin = make.user(Role.ADMIN)
    login_as(admin)
    policy = services.policy_for("standard", "consult", "normal")
    path = _policy_path()
    response = post_form(client, path, _policy_form(policy, handle_limit="4"))
    assert response.status_code == 302
    assert services.policy_for("standard", "consult", "normal").handle_limit == 4
    event = _audit(db, "sla.policy_update")
    assert event.actor_id == admin.id
    assert event.details["changes"]["handle"] == ["3 working_days", "4 working_days"]


@pytest.mark.parametrize(("field", "value", "message"), [
    ("handle_limit", "2.3", "whole or half days"),
    ("handle_limit", "0", "overdue at once"),
    ("handle_limit", "abc", "Not a valid decimal"),
    ("acknowledge_unit", "fortnights", "Not a valid choice"),
    ("due_soon_used_percent", "150", "between 1 and 100"),
])
def test_an_invalid_policy_is_refused_next_to_the_field(client, make, login_as, db, field,
                                                        value, message):
    login_as(make.user(Role.ADMIN))
    policy = services.policy_for("standard", "consult", "normal")
    response = post_form(client, _policy_path(), _policy_form(policy, **{field: value}))
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert message in html and "invalid-feedback" in html
    assert services.policy_for("standard", "consult", "normal").handle_limit == 3
    assert _audit(db, "sla.policy_update") is None


def test_office_hours_are_edited_and_validated(client, make, login_as, db):
    login_as(make.user(Role.ADMIN))
    form = {"morning_start": "09:00", "morning_end": "12:00", "afternoon_start": "14:00",
            "afternoon_end": "18:00", "extension_max_requests": "2",
            "extension_max_total_days": "10", "extension_request_lead_days": "1",
            "reopen_limit": "2", "supervision_order_days": "3"}
    bad = post_form(client, "/admin/sla/settings", dict(form, morning_end="15:00"))
    assert bad.status_code == 200 and "must be in order" in bad.get_data(as_text=True)
    assert services.get_settings().morning_start.hour == 8
    good = post_form(client, "/admin/sla/settings", form)
    assert good.status_code == 302
    assert services.get_settings().morning_start.hour == 9
    assert _audit(db, "sla.settings_update") is not None


def test_a_deadline_in_an_unentered_year_gives_a_clear_page_not_a_500(app, make, login_as):
    from app.sla.calendar import CalendarNotConfigured
    from app.sla.views import calendar_not_configured

    with app.test_request_context("/tickets/1/dispatch", method="POST",
                                  headers={"Accept-Language": "en"}):
        body, status = calendar_not_configured(CalendarNotConfigured(2027))
    assert status == 503
    assert "no days for 2027" in body and "Nothing was saved" in body


def test_the_handlers_are_registered_for_the_whole_application(app):
    from app.sla.calendar import CalendarNotConfigured

    handlers = app.error_handler_spec[None][None]
    assert CalendarNotConfigured in handlers
    assert services.PolicyNotConfigured in handlers


def test_a_worked_saturday_entered_as_normal_is_refused_next_to_the_kind(client, make, login_as):
    login_as(make.user(Role.ADMIN))
    response = post_form(client, "/admin/calendar/days",
                         {"first_day": "2026-03-07", "kind": "normal", "reason": "调休"},
                         token_from="/admin/calendar/days")
    assert response.status_code == 200
    assert "is a make-up working day" in response.get_data(as_text=True)
    assert db_day(date(2026, 3, 7)).kind == DayKind.WEEKEND
