"""Seeding, editing and caching the calendar and the policies (the database side of the engine)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from decimal import Decimal

import pytest
import sqlalchemy as sa

from app.core import clock
from app.core.audit import AuditEvent
from app.core.errors import ValidationFailed
from app.core.permissions import Role
from app.extensions import db
from app.sla import deadlines, services
from app.sla.calendar import CalendarNotConfigured
from app.sla.enums import DayKind, DaySource, DemandType, LimitUnit, ServiceMode, SlaStep, Urgency
from app.sla.models import Limit, SlaPolicy, SlaSettings, WorkCalendarDay
from tests.sla.conftest import as_local, local


def _year_rows(year: int):
    return sa.select(WorkCalendarDay).where(
        WorkCalendarDay.day.between(date(year, 1, 1), date(year, 12, 31)))


def _audits(action: str) -> list[AuditEvent]:
    return db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == action)).all()


def _at(*parts: int) -> None:
    """Freeze the clock at a Beijing wall-clock time."""
    clock.freeze(datetime(*parts, tzinfo=clock.LOCAL_TZ).astimezone(UTC))


class TestSeedCalendar:
    def test_every_year_the_package_knows_is_seeded(self, frozen_clock):
        calendar = services.load_calendar()
        assert calendar.years[0] == 2004
        assert calendar.years[-1] == 2027       # next year: provisional, in memory
        assert calendar.provisional_years == calendar.unsaved_years == {2027}
        assert calendar.is_workday(date(2026, 2, 14))
        assert not calendar.is_workday(date(2026, 2, 16))

    def test_kinds_and_names_come_from_the_official_calendar(self):
        days = services.year_days(2026)
        assert days[date(2026, 2, 14)].kind == DayKind.MAKEUP_WORKDAY
        assert days[date(2026, 2, 14)].name == "春节"
        assert days[date(2026, 2, 17)].kind == DayKind.HOLIDAY
        assert days[date(2026, 3, 7)].kind == DayKind.WEEKEND
        assert days[date(2026, 3, 9)].kind == DayKind.NORMAL
        assert sum(d.is_workday for d in days.values()) == 248

    def test_seeding_again_changes_nothing(self):
        audited = len(_audits("calendar.seed"))
        revision = services.get_settings().calendar_revision
        results = services.seed_calendar([2025, 2026])
        assert [(r.created, r.updated) for r in results] == [(0, 0), (0, 0)]
        assert len(_audits("calendar.seed")) == audited
        assert services.get_settings().calendar_revision == revision

    def test_a_missing_year_is_filled(self):
        db.session.execute(sa.delete(WorkCalendarDay).where(
            WorkCalendarDay.day.between(date(2025, 1, 1), date(2025, 12, 31))))
        services._bump(calendar=True)
        with pytest.raises(CalendarNotConfigured):
            services.load_calendar().is_workday(date(2025, 6, 2))
        result, = services.seed_calendar([2025])
        assert result.created == 365
        assert services.load_calendar().is_workday(date(2025, 6, 3))
        assert _audits("calendar.seed")[-1].details["years"] == {"2025": [365, 0, 0]}

    def test_a_year_beyond_next_the_package_does_not_know_is_reported_not_guessed(self):
        _at(2026, 12, 10, 10)
        result, = services.seed_calendar([2028])
        assert result.unavailable
        assert db.session.scalars(_year_rows(2028)).first() is None

    def test_next_year_the_package_does_not_know_gets_provisional_days(self):
        _at(2026, 12, 10, 10)
        result, = services.seed_calendar([2027])
        assert result.provisional and not result.unavailable and result.created == 365
        days = services.year_days(2027)
        assert {d.source for d in days.values()} == {DaySource.PROVISIONAL}
        assert days[date(2027, 2, 6)].kind == DayKind.HOLIDAY          # 春节, a Saturday
        assert days[date(2027, 2, 10)].kind == DayKind.HOLIDAY         # its 补假
        assert not any(d.kind == DayKind.MAKEUP_WORKDAY for d in days.values())
        calendar = services.load_calendar()
        assert calendar.provisional_years == {2027} and not calendar.unsaved_years
        assert _audits("calendar.seed")[-1].details["provisional"] == [2027]
        again, = services.seed_calendar([2027])
        assert (again.created, again.updated) == (0, 0)

    def test_a_year_entered_by_hand_is_not_made_provisional(self, make):
        _at(2026, 12, 10, 10)
        services._store_year(2027, services.weekday_rule_year(2027), DaySource.GENERATED)
        services._bump(calendar=True)
        result, = services.seed_calendar([2027])
        assert result.unavailable
        assert {d.source for d in services.year_days(2027).values()} == {DaySource.GENERATED}


class TestProvisionalDays:
    """Next year before its notice: weekends plus the statutory holidays, by rule."""

    def test_the_rule_gives_every_official_day_off_of_2026_without_its_make_up_days(self):
        provisional = {d.day for d in services.provisional_year(2026) if not d.kind.is_workday}
        official = {d.day for d in services.package_year(2026) if not d.kind.is_workday}
        makeup = {d.day for d in services.package_year(2026)
                  if d.kind == DayKind.MAKEUP_WORKDAY}
        # the official days off less the weekdays given in exchange for make-up days
        assert provisional - official == makeup            # the make-up Saturdays stay off
        assert official - provisional == {date(2026, 1, 2), date(2026, 2, 20),
                                          date(2026, 2, 23), date(2026, 5, 5),
                                          date(2026, 10, 6), date(2026, 10, 7)}

    def test_2027_has_the_rule_based_holidays_and_no_make_up_day(self):
        days = {d.day: d for d in services.provisional_year(2027)}
        off = sorted(d for d, data in days.items() if data.kind == DayKind.HOLIDAY)
        assert off[:8] == [date(2027, 1, 1), date(2027, 2, 5), date(2027, 2, 6),
                           date(2027, 2, 7), date(2027, 2, 8), date(2027, 2, 9),
                           date(2027, 2, 10), date(2027, 4, 5)]
        assert days[date(2027, 10, 5)].kind == DayKind.HOLIDAY
        assert days[date(2027, 2, 6)].name == "春节"
        weekdays_off = [d for d, data in days.items()
                        if data.kind == DayKind.HOLIDAY and d.weekday() < 5]
        assert len(weekdays_off) == 13
        assert sum(d.kind.is_workday for d in days.values()) == 261 - 13

    def test_they_exist_in_memory_for_this_and_next_year_only(self):
        _at(2026, 12, 28, 10)
        calendar = services.load_calendar()
        assert calendar.unsaved_years == {2027}
        assert calendar.is_workday(date(2027, 1, 4)) and not calendar.is_workday(date(2027, 1, 1))
        with pytest.raises(CalendarNotConfigured) as error:
            calendar.is_workday(date(2028, 1, 3))
        assert error.value.year == 2028
        _at(2027, 1, 4, 10)
        services._forget_request_values()  # a new request
        assert services.load_calendar().unsaved_years == {2027, 2028}

    def test_storing_them_is_audited_once_and_safe_to_repeat(self, caplog):
        _at(2026, 12, 28, 10)
        before = services.get_settings().calendar_revision
        with caplog.at_level("WARNING", logger="ruyi.sla"):
            assert services.store_provisional_years([2027]) == [2027]
            assert services.store_provisional_years([2027]) == []
        assert len(_audits("calendar.provisional_year")) == 1
        assert _audits("calendar.provisional_year")[0].details["days"] == 365
        assert db.session.scalar(sa.select(sa.func.count()).select_from(WorkCalendarDay).where(
            WorkCalendarDay.source == DaySource.PROVISIONAL)) == 365
        assert services.get_settings().calendar_revision != before
        assert "provisional working days stored for 2027" in caplog.text
        calendar = services.load_calendar()
        assert calendar.provisional_years == {2027} and not calendar.unsaved_years

    def test_a_day_an_admin_changed_is_never_overwritten(self, make):
        admin = make.user(Role.ADMIN)
        services.set_days(date(2026, 3, 9), date(2026, 3, 9), DayKind.HOLIDAY, "防汛",
                          "Emergency closure", admin)
        result, = services.seed_calendar([2026])
        assert result.kept == 1
        assert services.year_days(2026)[date(2026, 3, 9)].kind == DayKind.HOLIDAY


class TestAdminEdits:
    def test_an_edit_is_audited_and_changes_the_computed_deadline(self, make):
        admin = make.user(Role.ADMIN)
        friday = local(2026, 3, 6, 10)
        assert as_local(services.load_calendar().add_working_days(friday, 1)) == \
            "2026-03-09 23:59:59"
        services.set_days(date(2026, 3, 9), date(2026, 3, 9), DayKind.HOLIDAY, None,
                          "Local closure ordered by the city", admin)
        assert as_local(services.load_calendar().add_working_days(friday, 1)) == \
            "2026-03-10 23:59:59"
        event, = _audits("calendar.day_change")
        assert event.actor_id == admin.id
        assert event.details["reason"] == "Local closure ordered by the city"
        assert event.details["changes"][0]["from"]["kind"] == "normal"
        row = services.year_days(2026)[date(2026, 3, 9)]
        assert (row.source, row.updated_by_id, row.note) == (
            DaySource.ADMIN, admin.id, "Local closure ordered by the city")

    def test_a_range_is_changed_at_once(self, make):
        admin = make.user(Role.ADMIN)
        rows = services.set_days(date(2026, 3, 9), date(2026, 3, 13), DayKind.HOLIDAY, "测试",
                                 "Test range", admin)
        assert len(rows) == 5
        assert not any(services.load_calendar().is_workday(date(2026, 3, d))
                       for d in range(9, 14))

    def test_a_reason_is_required(self, make):
        admin = make.user(Role.ADMIN)
        with pytest.raises(ValidationFailed):
            services.set_days(date(2026, 3, 9), date(2026, 3, 9), DayKind.HOLIDAY, None, "  ",
                              admin)
        assert services.year_days(2026)[date(2026, 3, 9)].kind == DayKind.NORMAL

    @pytest.mark.parametrize(("first", "last", "kind"), [
        (date(2026, 3, 7), date(2026, 3, 7), DayKind.NORMAL),          # a Saturday
        (date(2026, 3, 9), date(2026, 3, 9), DayKind.MAKEUP_WORKDAY),  # a Monday
        (date(2026, 3, 9), date(2026, 3, 9), DayKind.WEEKEND),
        (date(2026, 3, 6), date(2026, 3, 9), DayKind.NORMAL),          # Fri–Mon
    ])
    def test_a_kind_that_does_not_fit_the_weekday_is_refused(self, make, first, last, kind):
        with pytest.raises(ValidationFailed):
            services.set_days(first, last, kind, None, "x", make.user(Role.ADMIN))
        assert _audits("calendar.day_change") == []

    def test_a_holiday_may_span_a_weekend(self, make):
        rows = services.set_days(date(2026, 3, 6), date(2026, 3, 9), DayKind.HOLIDAY, "测试",
                                 "x", make.user(Role.ADMIN))
        assert [r.kind for r in rows] == [DayKind.HOLIDAY] * 4

    def test_days_of_an_unconfigured_year_cannot_be_edited(self, make):
        with pytest.raises(ValidationFailed):
            services.set_days(date(2027, 2, 8), date(2027, 2, 8), DayKind.HOLIDAY, None, "x",
                              make.user(Role.ADMIN))

    def test_a_make_up_working_day_is_worked(self, make):
        services.set_days(date(2026, 3, 7), date(2026, 3, 7), DayKind.MAKEUP_WORKDAY, "调休",
                          "Make-up day", make.user(Role.ADMIN))
        assert services.load_calendar().is_workday(date(2026, 3, 7))

    def test_the_database_refuses_a_kind_that_contradicts_is_workday(self):
        row = db.session.get(WorkCalendarDay, date(2026, 3, 9))
        row.kind = DayKind.HOLIDAY           # is_workday still true
        with pytest.raises(sa.exc.IntegrityError):
            db.session.flush()
        db.session.rollback()


class TestAddYear:
    def test_an_unknown_year_starts_with_provisional_days(self, make):
        admin = make.user(Role.ADMIN)
        result = services.add_year(2027, admin)
        assert result.created == 365
        calendar = services.load_calendar()
        assert calendar.covers(date(2027, 1, 1))
        assert not calendar.is_workday(date(2027, 1, 2))      # Saturday
        assert not calendar.is_workday(date(2027, 1, 1))      # 元旦, by rule
        assert calendar.is_workday(date(2027, 1, 4))
        assert services.year_days(2027)[date(2027, 1, 1)].source == DaySource.PROVISIONAL
        assert 2027 in calendar.provisional_years
        assert _audits("calendar.add_year")[0].details["from"] == "provisional"

    def test_generated_days_give_way_to_the_package_but_admin_days_do_not(self, make):
        admin = make.user(Role.ADMIN)
        db.session.execute(sa.delete(WorkCalendarDay).where(
            WorkCalendarDay.day.between(date(2026, 1, 1), date(2026, 12, 31))))
        services._store_year(2026, services.weekday_rule_year(2026), DaySource.GENERATED)
        services.set_days(date(2026, 3, 9), date(2026, 3, 9), DayKind.HOLIDAY, None, "kept",
                          admin)
        result, = services.seed_calendar([2026])
        days = services.year_days(2026)
        assert days[date(2026, 2, 16)].kind == DayKind.HOLIDAY     # from the package
        assert days[date(2026, 2, 14)].kind == DayKind.MAKEUP_WORKDAY
        assert days[date(2026, 3, 9)].kind == DayKind.HOLIDAY      # the admin's
        assert result.kept == 1

    def test_an_existing_year_cannot_be_added_twice(self, make):
        with pytest.raises(ValidationFailed):
            services.add_year(2026, make.user(Role.ADMIN))


class TestCalendarGaps:
    def test_next_year_is_needed_from_1_october(self):
        _at(2026, 10, 1, 9)
        assert services.calendar_gaps() == [services.CalendarGap(2027, provisional=True)]
        _at(2026, 9, 30, 9)
        assert services.calendar_gaps() == []

    def test_the_current_year_is_always_needed(self):
        _at(2027, 3, 1, 9)
        assert services.calendar_gaps() == [services.CalendarGap(2027, provisional=True)]

    def test_a_year_beyond_the_provisional_ones_is_missing(self):
        _at(2026, 10, 1, 9)
        assert services.calendar_gaps(date(2027, 10, 1)) == [
            services.CalendarGap(2027, provisional=True),
            services.CalendarGap(2028, provisional=False)]

    def test_provisional_days_do_not_silence_the_gap_but_official_ones_do(self, make):
        _at(2026, 11, 26, 9)
        services.add_year(2027, make.user(Role.ADMIN))        # provisional: still a gap
        assert services.missing_calendar_years() == [2027]
        services._store_year(2027, services.weekday_rule_year(2027), DaySource.GENERATED)
        services._bump(calendar=True)
        assert services.missing_calendar_years() == []


class TestPolicies:
    def test_every_key_has_a_default_policy(self):
        count = db.session.scalar(sa.select(sa.func.count(SlaPolicy.id)))
        assert count == 3 * 5 * 3 * 2

    @pytest.mark.parametrize(("key", "step", "value", "unit"), [
        (("standard", "consult", "normal", False), SlaStep.HANDLE, 3, LimitUnit.WORKING_DAYS),
        (("standard", "help", "normal", False), SlaStep.HANDLE, 5, LimitUnit.WORKING_DAYS),
        (("lifecycle", "report", "normal", False), SlaStep.HANDLE, 5, LimitUnit.WORKING_DAYS),
        (("standard", "complaint", "normal", True), SlaStep.HANDLE, 15,
         LimitUnit.WORKING_DAYS),
        (("standard", "help", "urgent", False), SlaStep.HANDLE, 0, LimitUnit.SAME_WORKING_DAY),
        (("handle_now", "consult", "normal", False), SlaStep.HANDLE, 0,
         LimitUnit.SAME_WORKING_DAY),
        (("standard", "help", "normal", False), SlaStep.INTAKE, Decimal("0.5"),
         LimitUnit.WORKING_DAYS),
        (("standard", "help", "normal", False), SlaStep.ACKNOWLEDGE, 1, LimitUnit.WORKING_DAYS),
        (("standard", "help", "urgent", False), SlaStep.ACKNOWLEDGE, 120,
         LimitUnit.WORKING_MINUTES),
        (("standard", "help", "critical", False), SlaStep.ACKNOWLEDGE, 30,
         LimitUnit.NATURAL_MINUTES),
        (("standard", "help", "normal", False), SlaStep.RETURN_WINDOW, 1,
         LimitUnit.WORKING_DAYS),
        (("standard", "help", "normal", False), SlaStep.REPLY_REVIEW, 1,
         LimitUnit.WORKING_DAYS),
        (("standard", "help", "normal", False), SlaStep.FOLLOW_UP, 2, LimitUnit.WORKING_DAYS),
        (("standard", "consult", "normal", False), SlaStep.AUTO_URGE_LEAD, 1,
         LimitUnit.WORKING_DAYS),
        (("standard", "help", "normal", False), SlaStep.AUTO_URGE_LEAD, 2,
         LimitUnit.WORKING_DAYS),
        (("standard", "help", "normal", True), SlaStep.AUTO_URGE_LEAD, 3,
         LimitUnit.WORKING_DAYS),
        (("standard", "help", "normal", False), SlaStep.AUTO_SUPERVISE_DELAY, 1,
         LimitUnit.WORKING_DAYS),
    ])
    def test_defaults_match_the_domain_table(self, key, step, value, unit):
        policy = services.policy_for(*key)
        assert policy.limit(step) == Limit(Decimal(value), unit)
        assert policy.due_soon_remaining_days == 1
        assert policy.due_soon_used_percent == 75
        assert policy.same_day_cutoff == time(15, 0)

    def test_lookup_accepts_enums_and_gives_the_same_row(self):
        row = services.policy_for(ServiceMode.STANDARD, DemandType.CONSULT, Urgency.NORMAL)
        assert row.key == (ServiceMode.STANDARD, DemandType.CONSULT, Urgency.NORMAL, False)
        assert services.policy_limits("standard", "consult", "normal").limit(SlaStep.HANDLE) \
            == row.limit(SlaStep.HANDLE)

    def test_a_missing_policy_raises_clearly(self):
        db.session.execute(sa.delete(SlaPolicy).where(SlaPolicy.demand_type == "report"))
        services._bump(policies=True)
        with pytest.raises(services.PolicyNotConfigured):
            services.policy_for("standard", "report", "normal")
        with pytest.raises(services.PolicyNotConfigured):
            services.policy_limits("standard", "report", "normal")

    def test_seeding_policies_again_keeps_edits(self, make):
        policy = services.policy_for("standard", "consult", "normal")
        data = _policy_data(policy, handle=Limit(Decimal(4), LimitUnit.WORKING_DAYS))
        services.update_policy(policy, data, make.user(Role.ADMIN))
        assert services.seed_policies() == 0
        assert services.policy_for("standard", "consult", "normal").handle_limit == 4

    def test_an_edit_is_audited_and_used_for_new_deadlines(self, make):
        admin = make.user(Role.ADMIN)
        start = local(2026, 3, 2, 10)
        before = services.policy_limits("standard", "consult", "normal")
        assert as_local(deadlines.compute_deadline(SlaStep.HANDLE, start, before,
                                                   services.load_calendar())) == \
            "2026-03-05 23:59:59"
        policy = services.policy_for("standard", "consult", "normal")
        services.update_policy(policy, _policy_data(
            policy, handle=Limit(Decimal(4), LimitUnit.WORKING_DAYS)), admin)
        after = services.policy_limits("standard", "consult", "normal")
        assert as_local(deadlines.compute_deadline(SlaStep.HANDLE, start, after,
                                                   services.load_calendar())) == \
            "2026-03-06 23:59:59"
        event, = _audits("sla.policy_update")
        assert event.details["changes"]["handle"] == ["3 working_days", "4 working_days"]

    @pytest.mark.parametrize(("step", "limit"), [
        (SlaStep.HANDLE, Limit(Decimal("2.5"), LimitUnit.WORKING_MINUTES)),
        (SlaStep.HANDLE, Limit(Decimal("0.3"), LimitUnit.WORKING_DAYS)),
        (SlaStep.HANDLE, Limit(Decimal(0), LimitUnit.WORKING_DAYS)),
        (SlaStep.HANDLE, Limit(Decimal(500), LimitUnit.WORKING_DAYS)),
        (SlaStep.AUTO_URGE_LEAD, Limit(Decimal(0), LimitUnit.SAME_WORKING_DAY)),
    ])
    def test_invalid_limits_are_refused_and_nothing_is_written(self, make, step, limit):
        policy = services.policy_for("standard", "consult", "normal")
        with pytest.raises(ValidationFailed):
            services.update_policy(policy, _policy_data(policy, **{step.value: limit}),
                                   make.user(Role.ADMIN))
        assert services.policy_for("standard", "consult", "normal").handle_limit == 3
        assert _audits("sla.policy_update") == []


def _policy_data(policy: SlaPolicy, **changes: Limit) -> services.PolicyData:
    limits = {step: changes.get(step.value, policy.limit(step)) for step in SlaStep}
    return services.PolicyData(limits, policy.same_day_cutoff,
                               Decimal(policy.due_soon_remaining_days),
                               policy.due_soon_used_percent)


class TestSettings:
    def test_default_office_hours(self):
        hours = services.load_office_hours()
        assert hours.periods == ((time(8, 30), time(12, 0)), (time(13, 30), time(17, 30)))
        assert hours.day_minutes == 450

    def test_changed_office_hours_are_audited_and_used(self, make):
        data = services.SettingsData(time(9, 0), time(12, 0), time(14, 0), time(18, 0), 2, 10, 1)
        services.update_settings(data, make.user(Role.ADMIN))
        assert services.load_office_hours().periods[0] == (time(9, 0), time(12, 0))
        assert _audits("sla.settings_update")[0].details["changes"]["morning_start"] == \
            ["08:30:00", "09:00:00"]

    def test_office_hours_out_of_order_are_refused(self, make):
        data = services.SettingsData(time(9, 0), time(14, 0), time(13, 0), time(18, 0), 2, 10, 1)
        with pytest.raises(ValidationFailed):
            services.update_settings(data, make.user(Role.ADMIN))


class TestCache:
    def test_a_worker_notices_an_edit_made_elsewhere(self, make):
        """Another process's edit changes the revision; this process reloads on next use."""
        first = services.load_calendar()
        assert services.load_calendar() is first       # cached
        db.session.execute(sa.update(WorkCalendarDay).where(
            WorkCalendarDay.day == date(2026, 3, 9)).values(is_workday=False, kind="holiday"))
        settings = services.get_settings()
        settings.calendar_revision = "changed-elsewhere"
        db.session.flush()
        services._forget_request_values()               # a new request in this worker
        reloaded = services.load_calendar()
        assert reloaded is not first
        assert not reloaded.is_workday(date(2026, 3, 9))

    def test_settings_are_a_kept_copy_while_the_row_is_unchanged(self):
        """A request reads the row with one plain SELECT; the process reuses its copy until
        the row changes (another worker's edit shows on the next request)."""
        held = db.session.identity_map.get(db.session.identity_key(SlaSettings, 1))
        if held is not None:
            db.session.expunge(held)
        services._forget_request_values()
        first = services.load_settings()
        assert sa.inspect(first).session is None  # not loaded into the session
        services._forget_request_values()
        assert services.load_settings() is first
        db.session.execute(sa.update(SlaSettings).values(reopen_limit=5))  # elsewhere
        services._forget_request_values()
        assert services.load_settings().reopen_limit == 5

    def test_an_edit_in_progress_in_the_session_is_what_is_read(self):
        services.load_settings()  # this request has read the settings already
        services.get_settings().reopen_limit = 7  # and now changes them, not flushed yet
        assert services.load_settings().reopen_limit == 7


def test_a_gap_is_logged_for_operators_once_a_day(caplog):
    services._alerts_logged.clear()
    _at(2026, 11, 26, 9)
    gap = [services.CalendarGap(2027, provisional=True)]
    with caplog.at_level("WARNING", logger="ruyi.sla"):
        assert services.calendar_alert(date(2026, 11, 26)) == gap
        assert services.calendar_alert(date(2026, 11, 26)) == gap
        services.calendar_alert(date(2026, 11, 27))
    warnings = [r for r in caplog.records if "2027 is provisional" in r.getMessage()]
    assert len(warnings) == 2
