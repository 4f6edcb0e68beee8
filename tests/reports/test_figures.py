"""The figures of DOMAIN §7 on the hand-built month of ``conftest.py`` (March 2026, now
Mon 03-16 10:00). Every expected number is worked out by hand in the docstring, from the
ticket stories — never by calling the report code.
"""

from __future__ import annotations

from datetime import date

import pytest

from app.core.clock import now_utc
from app.reports import queries
from app.reports.periods import Period, PeriodKind, month_of
from app.reports.queries import Context, Dimension, Fact, Scope, Subset
from app.sla.services import load_calendar

MARCH = month_of(date(2026, 3, 1))


def context(period: Period = MARCH, scope: Scope | None = None) -> Context:
    now = now_utc()
    return Context(period, now, queries.due_soon_horizon(load_calendar(), now),
                   scope or Scope())


def figure(data, key: str, tallies=None):
    return queries.evaluate(queries.FIGURES_BY_KEY[key], tallies or data.totals)


def listed(fact, subset, ctx, by=None, key=None, keyed=False) -> set[str]:
    from app.extensions import db

    rows = queries.drill_rows(fact, subset, ctx, by, key, keyed)
    return {t.reference for t, _at, _v in db.session.execute(queries.drill_tickets(rows, fact))}


def refs(month, *names) -> set[str]:
    return {month.tickets[name].reference for name in names}


def test_acknowledged_on_time_counts_decided_acknowledgements_of_the_period(month):
    """Dispatched in March (current dispatch): T1, T2, T3, T4, T5 (re-dispatched 03-03 to B),
    T6, T9, T12, T13. Undecided: T6 (return refused, never acknowledged, not waiting) and T13
    (waiting, due end of 03-17, not yet passed). Decided 7; late only T4 → 6 / 7 = 85.7 %."""
    value = figure(queries.breakdown(context()), "acknowledged_on_time")
    assert (value.numerator, value.denominator) == (6, 7)
    assert round(value.value * 100, 1) == 85.7
    assert listed(Fact.ACKNOWLEDGE, Subset.NOT_A, context()) == refs(month, "T4")


def test_handled_on_time_includes_extensions_suspensions_and_missed_deadlines(month):
    """Replied in March: T1, T2 (on time only because the pause moved 03-09 to 03-11), T3 (on
    time only thanks to the extension to 03-12), T5, T7 (dispatched in February), T9 → 6, all on
    time. Deadline passed in March without a reply: T6 (03-09), T4 (03-10) → 2. T12 is due
    tonight, not yet missed. 6 / 8 = 75.0 %."""
    value = figure(queries.breakdown(context()), "handled_on_time")
    assert (value.numerator, value.denominator) == (6, 8)
    assert listed(Fact.HANDLING, Subset.NOT_A, context()) == refs(month, "T4", "T6")
    assert listed(Fact.HANDLING, Subset.A, context()) == refs(month, "T1", "T2", "T3", "T5",
                                                               "T7", "T9")


def test_average_handling_time_counts_working_days_without_suspension(month):
    """Working days from dispatch date to reply date (次日起) minus suspended working days:
    T1 03-02→03-04 = 2; T2 03-02→03-10 = 6, minus the pause 03-03→03-05 = 2 → 4;
    T3 03-02→03-11 = 7; T5 from the new dispatch 03-03→03-06 = 3 (the returned day is not
    counted); T7 02-26→03-03 = 4 (02-27, the make-up Saturday 02-28, 03-02, 03-03);
    T9 same day = 0. Sum 20 over 6 tickets = 3.33 working days."""
    ctx = context()
    value = figure(queries.breakdown(ctx), "handling_days")
    assert value.numerator == 6
    assert value.value == pytest.approx(20 / 6)
    from app.extensions import db

    rows = queries.drill_rows(Fact.HANDLING, Subset.MEASURED, ctx)
    days = {t.reference: v for t, _at, v in db.session.execute(queries.drill_tickets(rows,
                                                                                     Fact.HANDLING))}
    assert days == {month.tickets["T1"].reference: 2, month.tickets["T2"].reference: 4,
                    month.tickets["T3"].reference: 7, month.tickets["T5"].reference: 3,
                    month.tickets["T7"].reference: 4, month.tickets["T9"].reference: 0}


def test_overdue_and_due_soon_are_a_snapshot_of_now(month):
    """Now 03-16 10:00. Past the current deadline: T4 (handling 03-10) and T6 (03-09) → 2.
    Within one working day: T12 (due tonight) → 1. T13's acknowledgement is due 03-17 23:59,
    38 hours away → neither."""
    data = queries.breakdown(context())
    assert figure(data, "overdue").value == 2
    assert figure(data, "due_soon").value == 1
    assert listed(Fact.OPEN, Subset.A, context()) == refs(month, "T4", "T6")
    assert listed(Fact.OPEN, Subset.B, context()) == refs(month, "T12")


def test_return_rates_count_approved_returns_as_dispatches_of_the_returning_unit(month):
    """Returns asked in March: T5 by A (approved), T6 by B (refused) → 2, decided 2, approved 1:
    正确退单率 50 %. Dispatches: 9 current ones in March plus T5's undone dispatch to A = 10:
    退单率 2 / 10 = 20 %. Unit A: 1 return / (T1, T2, T3, T9, T12 + T5) 6 = 16.7 %;
    unit B: 1 / (T4, T5, T6, T13) 4 = 25 %."""
    data = queries.breakdown(context())
    rate = figure(data, "return_rate")
    assert (rate.numerator, rate.denominator) == (2, 10)
    correct = figure(data, "correct_return_rate")
    assert (correct.numerator, correct.denominator) == (1, 2)
    per_a = figure(data, "return_rate", data.groups[month.unit_a.id])
    per_b = figure(data, "return_rate", data.groups[month.unit_b.id])
    assert (per_a.numerator, per_a.denominator) == (1, 6)
    assert (per_b.numerator, per_b.denominator) == (1, 4)


def test_extensions_handle_now_and_satisfaction(month):
    """Extensions approved in March: T3 → 1. Created in March: T1–T6, T8, T9, T12, T13 = 10;
    马上办 done: T8 (answered directly) and T9 (replied the same working day) → 2 / 10 = 20 %.
    Ratings given in March: T7 5, T1 5, T8 4, T9 1, T5 3, T2 2, T3 4 → 7; levels 3–5: 5 →
    71.4 %."""
    data = queries.breakdown(context())
    assert figure(data, "extensions").value == 1
    assert figure(data, "received").value == 10
    handle_now = figure(data, "handle_now_rate")
    assert (handle_now.numerator, handle_now.denominator) == (2, 10)
    satisfaction = figure(data, "satisfaction")
    assert (satisfaction.numerator, satisfaction.denominator) == (5, 7)
    assert listed(Fact.RATING, Subset.B, context()) == refs(month, "T2", "T9")


def test_previous_period_is_february(month):
    """February: created T10, T11, T7 → 3. Acknowledged on time T10, T7; T11 late → 2 / 3.
    Handling: replied T10 (on time, 02-13 ≤ 02-14) and T11 (late, 02-26 > 02-24); T7's deadline
    is in March → 1 / 2. Average (4 + 7) / 2 = 5.5 WD (T10 02-09→02-13 = 4; T11 02-10→02-26 =
    02-11, 12, 13, the make-up 14th, 24, 25, 26 = 7). Ratings T10 5, T11 4 → 2 / 2."""
    data = queries.breakdown(context())
    previous = data.previous
    assert figure(data, "received", previous).value == 3
    ack = figure(data, "acknowledged_on_time", previous)
    assert (ack.numerator, ack.denominator) == (2, 3)
    handled = figure(data, "handled_on_time", previous)
    assert (handled.numerator, handled.denominator) == (1, 2)
    assert figure(data, "handling_days", previous).value == pytest.approx(5.5)
    satisfaction = figure(data, "satisfaction", previous)
    assert (satisfaction.numerator, satisfaction.denominator) == (2, 2)


def test_breakdown_by_unit_sums_to_the_totals(month):
    """Unit A leads T1, T2, T3, T9, T12 created in March (5) and handled T1, T2, T3, T7, T9
    all on time (5 / 5); unit B: T4, T5, T6, T13 (4), handled 1 / 3; T8 has no unit (1)."""
    data = queries.breakdown(context(), Dimension.UNIT)
    a, b = data.groups[month.unit_a.id], data.groups[month.unit_b.id]
    assert figure(data, "received", a).value == 5
    assert figure(data, "received", b).value == 4
    assert figure(data, "received", data.groups[None]).value == 1
    assert (figure(data, "handled_on_time", a).numerator,
            figure(data, "handled_on_time", a).denominator) == (5, 5)
    assert (figure(data, "handled_on_time", b).numerator,
            figure(data, "handled_on_time", b).denominator) == (1, 3)


def test_unit_scope_sees_only_its_own_unit(month):
    """For unit A only: received 5, handled 5 / 5, nothing overdue (T4 and T6 are B's)."""
    data = queries.breakdown(context(scope=Scope(unit_id=month.unit_a.id)))
    assert set(data.groups) <= {month.unit_a.id}
    assert figure(data, "received").value == 5
    assert figure(data, "overdue").value == 0
    ctx = context(scope=Scope(unit_id=month.unit_a.id))
    assert listed(Fact.OPEN, Subset.A, ctx, Dimension.UNIT, month.unit_b.id, True) == set()


def test_ticket_spanning_two_periods_counts_where_each_event_happened(month):
    """T7: received, dispatched and acknowledged in February, replied and rated in March."""
    t7 = month.tickets["T7"].reference
    feb = context(month_of(date(2026, 2, 1)))
    assert t7 in listed(Fact.INTAKE, Subset.ALL, feb)
    assert t7 not in listed(Fact.INTAKE, Subset.ALL, context())
    assert t7 in listed(Fact.HANDLING, Subset.A, context())
    assert t7 not in listed(Fact.HANDLING, Subset.ALL, feb)


def test_weekly_slices_and_distribution(month):
    """Weeks from 03-01: 03-01..07 received T1–T6, T8, T9 = 8; 03-08..14 T12 = 1; 03-15..21 T13
    = 1. Handling: week 1 replied T1, T5, T7, T9 (4 on time); week 2 T2, T3 on time, T6 and T4
    missed (deadlines 03-09, 03-10) → 4 with 2 on time. Distribution: 0 → 1 (T9), 2 → 1,
    3 → 1, 4 → 2, 7 → 1 (in 6–10)."""
    weeks = queries.weekly(context())
    assert [w["received"] for w in weeks[:3]] == [8, 1, 1]
    assert [(w["handled"], w["on_time"]) for w in weeks[:2]] == [(4, 4), (4, 2)]
    distribution = dict(queries.handling_distribution(context()))
    assert distribution["0"] == 1 and distribution["2"] == 1 and distribution["3"] == 1
    assert distribution["4"] == 2 and distribution["6–10"] == 1 and distribution["1"] == 0


def test_custom_period_previous_is_the_same_length_before():
    period = Period(PeriodKind.CUSTOM, date(2026, 3, 10), date(2026, 3, 20))
    assert period.previous() == Period(PeriodKind.CUSTOM, date(2026, 2, 28), date(2026, 3, 10))
    assert month_of(date(2026, 3, 31)).previous().start == date(2026, 2, 1)


def test_rectifications_and_visit_issues(month, make):
    """T2 (level 2, rated 03-11) and T9 (level 1, rated 03-05) are real-name 差评 given by the
    firm account: two rectifications opened in March, none called back or rectified yet →
    差评回访率 0 / 2, 整改率 0 / 2. A visit on 03-16 09:00 raises two issues, one solved on site:
    问题化解率 1 / 2 (solved on site is closed out), 现场解决率 1 / 2."""
    visit = make.visit()
    make.visit_issue(visit)
    make.visit_issue(visit, is_solved_on_site=True, solution="现场讲解政策")
    data = queries.breakdown(context())
    callback = figure(data, "callback_rate")
    assert (callback.numerator, callback.denominator) == (0, 2)
    rectified = figure(data, "rectification_rate")
    assert (rectified.numerator, rectified.denominator) == (0, 2)
    resolved = figure(data, "issues_resolved")
    assert (resolved.numerator, resolved.denominator) == (1, 2)
    on_site = figure(data, "solved_on_site")
    assert (on_site.numerator, on_site.denominator) == (1, 2)
    assert listed(Fact.RECTIFICATION, Subset.ALL, context()) == refs(month, "T2", "T9")
