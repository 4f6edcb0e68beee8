"""Deadlines from policies, pauses, extensions and the SLA status (DOMAIN §3.2)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from app.core import clock
from app.sla import deadlines
from app.sla.enums import DemandType, LimitUnit, ServiceMode, SlaStatus, SlaStep, Urgency
from app.sla.models import PolicyLimits
from app.sla.services import default_limits
from tests.sla.conftest import as_local, local


def policy(mode=ServiceMode.STANDARD, demand=DemandType.HELP, urgency=Urgency.NORMAL,
           is_complex=False) -> PolicyLimits:
    """DOMAIN's default policy for one kind of ticket, without the database."""
    return PolicyLimits(default_limits(mode, demand, urgency, is_complex))


DEADLINES = [
    # (policy, step, start, expected, why)
    (policy(demand=DemandType.CONSULT), SlaStep.HANDLE, local(2026, 3, 2, 10),
     "2026-03-05 23:59:59", "consult: 3 WD"),
    (policy(), SlaStep.HANDLE, local(2026, 3, 2, 10), "2026-03-09 23:59:59", "help: 5 WD"),
    (policy(demand=DemandType.COMPLAINT), SlaStep.HANDLE, local(2026, 2, 13, 10),
     "2026-02-27 23:59:59", "complaint: 5 WD across the Spring Festival"),
    (policy(is_complex=True), SlaStep.HANDLE, local(2026, 3, 2, 10), "2026-03-23 23:59:59",
     "complex: 15 WD"),
    (policy(urgency=Urgency.URGENT), SlaStep.HANDLE, local(2026, 3, 2, 10),
     "2026-03-02 23:59:59", "urgent: end of the same working day"),
    (policy(urgency=Urgency.URGENT), SlaStep.HANDLE, local(2026, 3, 2, 16),
     "2026-03-03 23:59:59", "urgent after 15:00: next working day"),
    (policy(mode=ServiceMode.HANDLE_NOW), SlaStep.HANDLE, local(2026, 3, 6, 16),
     "2026-03-09 23:59:59", "handle now, Friday after 15:00: Monday"),
    (policy(), SlaStep.INTAKE, local(2026, 3, 2, 10), "2026-03-02 15:15:00",
     "intake: 0.5 WD = 225 office minutes"),
    (policy(), SlaStep.INTAKE, local(2026, 3, 2, 16), "2026-03-03 10:45:00",
     "intake: half a day across the night"),
    (policy(), SlaStep.ACKNOWLEDGE, local(2026, 3, 2, 10), "2026-03-03 23:59:59",
     "acknowledge: 1 WD"),
    (policy(urgency=Urgency.URGENT), SlaStep.ACKNOWLEDGE, local(2026, 3, 2, 11),
     "2026-03-02 14:30:00", "urgent acknowledge: 2 working hours across lunch"),
    (policy(urgency=Urgency.CRITICAL), SlaStep.ACKNOWLEDGE, local(2026, 2, 17, 23, 50),
     "2026-02-18 00:20:00", "critical acknowledge: 30 natural minutes, even on a holiday"),
    (policy(), SlaStep.RETURN_WINDOW, local(2026, 9, 30, 10), "2026-10-08 23:59:59",
     "return window: 1 WD after dispatch, across National Day"),
    (policy(), SlaStep.REPLY_REVIEW, local(2026, 3, 6, 10), "2026-03-09 23:59:59",
     "reply review: 1 WD"),
    (policy(), SlaStep.FOLLOW_UP, local(2026, 3, 6, 10), "2026-03-10 23:59:59",
     "follow-up: 2 WD after the approved reply"),
]


@pytest.mark.parametrize(("limits", "step", "start", "expected", "why"), DEADLINES,
                         ids=[case[4] for case in DEADLINES])
def test_compute_deadline_follows_the_default_table(calendar, limits, step, start, expected,
                                                    why):
    assert as_local(deadlines.compute_deadline(step, start, limits, calendar)) == expected


def test_relative_steps_are_not_deadlines(calendar):
    with pytest.raises(ValueError):
        deadlines.compute_deadline(SlaStep.AUTO_URGE_LEAD, local(2026, 3, 2), policy(), calendar)


@pytest.mark.parametrize(("limits", "deadline", "expected"), [
    (policy(demand=DemandType.CONSULT), local(2026, 3, 5, 23, 59, 59), "2026-03-04 23:59:59"),
    (policy(), local(2026, 3, 9, 23, 59, 59), "2026-03-05 23:59:59"),
    (policy(is_complex=True), local(2026, 2, 27, 23, 59, 59), "2026-02-24 23:59:59"),
    (policy(urgency=Urgency.URGENT), local(2026, 3, 2, 23, 59, 59), "2026-03-02 15:30:00"),
])
def test_auto_urge_comes_before_the_deadline(calendar, limits, deadline, expected):
    assert as_local(deadlines.urge_at(deadline, limits, calendar)) == expected


def test_auto_supervision_is_one_working_day_after_the_deadline(calendar):
    deadline = local(2026, 2, 13, 23, 59, 59)
    assert as_local(deadlines.supervise_at(deadline, policy(), calendar)) == "2026-02-14 23:59:59"


def test_extension_adds_working_days_to_the_current_deadline(calendar):
    deadline = local(2026, 2, 13, 23, 59, 59)
    assert as_local(deadlines.extend_deadline(deadline, 2, calendar)) == "2026-02-24 23:59:59"


class TestPause:
    """Suspended time and an approved return's time do not count (DOMAIN §3.2)."""

    def test_working_days_lost_to_a_pause_are_given_back(self, calendar):
        deadline = local(2026, 3, 4, 23, 59, 59)
        moved = deadlines.shift_for_pause(deadline, local(2026, 3, 2, 10), local(2026, 3, 4, 9),
                                          calendar)
        assert as_local(moved) == "2026-03-06 23:59:59"

    def test_a_pause_within_one_day_moves_nothing(self, calendar):
        deadline = local(2026, 3, 4, 23, 59, 59)
        moved = deadlines.shift_for_pause(deadline, local(2026, 3, 2, 10), local(2026, 3, 2, 16),
                                          calendar)
        assert moved == deadline

    def test_a_pause_over_a_holiday_gives_back_only_working_days(self, calendar):
        deadline = local(2026, 2, 27, 23, 59, 59)
        moved = deadlines.shift_for_pause(deadline, local(2026, 2, 13, 10),
                                          local(2026, 2, 24, 10), calendar)
        # 02-14 and 02-24 given back; the new deadline lands on make-up Saturday 02-28 + 1
        assert as_local(moved) == "2026-03-02 23:59:59"

    def test_working_minute_deadlines_move_by_the_minutes_paused(self, calendar):
        deadline = local(2026, 3, 2, 15)
        moved = deadlines.shift_for_pause(deadline, local(2026, 3, 2, 10), local(2026, 3, 2, 11),
                                          calendar, LimitUnit.WORKING_MINUTES)
        assert as_local(moved) == "2026-03-02 16:00:00"

    def test_natural_deadlines_move_by_the_clock(self, calendar):
        deadline = local(2026, 3, 2, 15)
        moved = deadlines.shift_for_pause(deadline, local(2026, 3, 2, 10), local(2026, 3, 2, 11),
                                          calendar, LimitUnit.NATURAL_MINUTES)
        assert as_local(moved) == "2026-03-02 16:00:00"


class TestStatus:
    """Status boundaries, with the clock frozen as the application reads it."""

    dispatched = local(2026, 3, 2, 10)

    def status(self, calendar, deadline, completed_at=None, **kwargs):
        return deadlines.sla_status(deadline, clock.now_utc(), self.dispatched, completed_at,
                                    calendar, **kwargs)

    def test_one_working_day_left_is_due_soon(self, calendar, frozen_clock):
        deadline = deadlines.compute_deadline(SlaStep.ACKNOWLEDGE, self.dispatched, policy(),
                                              calendar)       # Tue 03-03 23:59:59
        frozen_clock.freeze(local(2026, 3, 2, 23, 59, 58))
        assert self.status(calendar, deadline) == SlaStatus.ON_TRACK
        frozen_clock.advance(timedelta(seconds=1))
        assert self.status(calendar, deadline) == SlaStatus.DUE_SOON

    def test_three_quarters_used_is_due_soon(self, calendar, frozen_clock):
        limits = policy(urgency=Urgency.URGENT)
        deadline = deadlines.compute_deadline(SlaStep.ACKNOWLEDGE, self.dispatched, limits,
                                              calendar)       # 12:00, 120 working minutes
        kwargs = {"unit": LimitUnit.WORKING_MINUTES}
        frozen_clock.freeze(local(2026, 3, 2, 11, 29, 59))
        assert self.status(calendar, deadline, **kwargs) == SlaStatus.ON_TRACK
        frozen_clock.freeze(local(2026, 3, 2, 11, 30))
        assert self.status(calendar, deadline, **kwargs) == SlaStatus.DUE_SOON

    def test_the_deadline_second_is_still_in_time(self, calendar, frozen_clock):
        deadline = local(2026, 3, 3, 23, 59, 59)
        frozen_clock.freeze(deadline)
        assert self.status(calendar, deadline) == SlaStatus.DUE_SOON
        frozen_clock.advance(timedelta(seconds=1))
        assert self.status(calendar, deadline) == SlaStatus.OVERDUE

    def test_completed_at_the_deadline_is_met_one_second_later_missed(self, calendar,
                                                                       frozen_clock):
        deadline = local(2026, 3, 3, 23, 59, 59)
        assert self.status(calendar, deadline, completed_at=deadline) == SlaStatus.MET
        late = deadline + timedelta(seconds=1)
        assert self.status(calendar, deadline, completed_at=late) == SlaStatus.MISSED

    def test_early_in_a_long_limit_is_on_track(self, calendar, frozen_clock):
        deadline = local(2026, 3, 23, 23, 59, 59)    # 15 WD
        frozen_clock.freeze(local(2026, 3, 9, 10))
        assert self.status(calendar, deadline) == SlaStatus.ON_TRACK

    def test_policy_thresholds_are_used(self, calendar, frozen_clock):
        limits = PolicyLimits(policy().limits, due_soon_remaining_days=Decimal(3),
                              due_soon_used_percent=90)
        deadline = local(2026, 3, 9, 23, 59, 59)
        frozen_clock.freeze(local(2026, 3, 5, 10))    # Thu: Thu, Fri, Mon left (> 2, ≤ 3 WD)
        status = deadlines.policy_status(SlaStep.HANDLE, deadline, clock.now_utc(),
                                         self.dispatched, None, limits, calendar)
        assert status == SlaStatus.DUE_SOON
        assert deadlines.policy_status(SlaStep.HANDLE, deadline, clock.now_utc(),
                                       self.dispatched, None, policy(), calendar) == \
            SlaStatus.ON_TRACK


def test_margin_says_by_how_much_working_time_a_step_was_met(calendar):
    deadline = local(2026, 3, 4, 23, 59, 59)
    early = deadlines.deadline_margin(deadline, local(2026, 3, 3, 12), calendar)
    assert early == 12 * 3600 + 86399
    late = deadlines.deadline_margin(deadline, local(2026, 3, 9, 10), calendar)
    assert late == -(1 + 2 * 86400 + 10 * 3600)    # Wed's last second, Thu, Fri, Mon 10 h


def test_remaining_time_counts_down_in_working_time(calendar):
    deadline = local(2026, 3, 9, 23, 59, 59)
    friday_evening = deadlines.remaining_time(deadline, local(2026, 3, 6, 18), calendar)
    assert friday_evening == 6 * 3600 + 86399     # rest of Friday, then Monday
