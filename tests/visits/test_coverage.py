"""Coverage (走访覆盖率) and cadence on fixed data with a frozen clock (DOMAIN §5)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import sqlalchemy as sa

from app.core import clock
from app.core.permissions import Role
from app.extensions import db
from app.firms.models import Area
from app.visits import queries, services

# The frozen clock of the ``frozen_clock`` fixture: Monday 2026-03-02, 10:00 Beijing time.
TODAY = date(2026, 3, 2)


def _at(day: date, hour_local: int = 10) -> datetime:
    return datetime(day.year, day.month, day.day, hour_local - 8, tzinfo=UTC)


def _visit(make, firm, lead, day, mode="onsite"):
    return make.visit(firm, lead, visited_at=_at(day), mode=mode)


def test_coverage_per_commissioner_unit_area_and_key_list(make, frozen_clock):
    unit_a, unit_b = make.unit(name="甲单位"), make.unit(name="乙单位")
    amy = make.user(Role.HANDLER, unit=unit_a, display_name="甲专员")
    bob = make.user(Role.HANDLER, unit=unit_b, display_name="乙专员")
    areas = db.session.scalars(sa.select(Area).order_by(Area.id).limit(2)).all()
    f1 = make.firm(commissioner_id=amy.id, is_key_firm=True, area_id=areas[0].id)
    f2 = make.firm(commissioner_id=amy.id, area_id=areas[0].id)
    f3 = make.firm(commissioner_id=bob.id, area_id=areas[1].id)
    make.firm(commissioner_id=bob.id, area_id=areas[1].id, archived_at=_at(date(2026, 1, 5)))
    _visit(make, f1, amy, date(2026, 1, 10))
    _visit(make, f1, amy, date(2026, 2, 10))           # twice: still one firm
    _visit(make, f2, amy, date(2025, 12, 20))          # before the period
    _visit(make, f3, bob, date(2026, 2, 1), "wechat")  # a chat is not a visit
    settings = services.get_settings()
    start, end = date(2026, 1, 1), TODAY

    def table(dim):
        return {row[1]: (row[2], row[3]) for row in db.session.execute(
            queries.coverage(dim, settings, start, end))}

    assert table("commissioner") == {"甲专员": (2, 1), "乙专员": (1, 0)}
    assert table("unit") == {"甲单位": (2, 1), "乙单位": (1, 0)}
    by_area = table("area")
    assert by_area[areas[0].name][1] >= 1 and by_area[areas[1].name][1] == 0
    key = {row[0]: (row[2], row[3]) for row in db.session.execute(
        queries.coverage("key", settings, start, end))}
    assert key[True][1] == 1 and key[True][0] >= 1


def test_firms_past_cadence_key_quarterly_others_yearly(make, frozen_clock):
    amy = make.user(Role.HANDLER)
    key_recent = make.firm(commissioner_id=amy.id, is_key_firm=True)
    key_stale = make.firm(commissioner_id=amy.id, is_key_firm=True)
    other_recent = make.firm(commissioner_id=amy.id)
    other_stale = make.firm(commissioner_id=amy.id)
    never = make.firm(commissioner_id=amy.id)
    _visit(make, key_recent, amy, date(2026, 1, 15))     # within 3 months
    _visit(make, key_stale, amy, date(2025, 11, 30))     # more than 3 months ago
    _visit(make, other_recent, amy, date(2025, 6, 1))    # within 12 months
    _visit(make, other_stale, amy, date(2025, 2, 1))     # more than 12 months ago
    settings = services.get_settings()
    due = {firm.id for firm, _last in db.session.execute(
        queries.past_cadence(settings, TODAY, commissioner_id=amy.id))}
    assert due == {key_stale.id, other_stale.id, never.id}


def test_cadence_follows_the_settings(make, frozen_clock, crew):
    amy = make.user(Role.HANDLER)
    firm = make.firm(commissioner_id=amy.id, is_key_firm=True)
    _visit(make, firm, amy, date(2026, 1, 15))
    services.update_settings(services.SettingsData(7, 1, 12, ["onsite"]), crew.admin)
    due = {f.id for f, _ in db.session.execute(
        queries.past_cadence(services.get_settings(), TODAY, commissioner_id=amy.id))}
    assert due == {firm.id}


def test_campaign_progress_overall_and_per_visitor(make, frozen_clock, crew):
    amy, bob = make.user(Role.HANDLER), make.user(Role.HANDLER)
    firms = [make.firm(commissioner_id=amy.id), make.firm(), make.firm(), make.firm()]
    campaign = services.create_campaign("2026春季大走访", date(2026, 2, 1), date(2026, 3, 31),
                                        [amy.id, bob.id], crew.supervisor)
    services.add_targets(campaign, [f.id for f in firms], crew.supervisor)
    _visit(make, firms[0], amy, date(2026, 2, 10))
    _visit(make, firms[1], bob, date(2026, 1, 10))  # before the campaign: does not count
    rows = {r[0]: (r[1], r[2]) for r in db.session.execute(
        queries.campaign_progress(campaign, services.get_settings()))}
    assert sum(t for t, _ in rows.values()) == 4
    assert sum(v for _, v in rows.values()) == 1
    assert rows[amy.id][1] == 1


def test_targets_import_by_uscc_reports_unknown_codes(make, crew):
    firm = make.firm()
    ids, unknown = services.firm_ids_by_uscc(f"{firm.uscc}\n91310110666007217T\n")
    assert ids == [firm.id] and unknown == ["91310110666007217T"]


def test_overdue_plan_is_derived_from_the_clock(make, frozen_clock, crew):
    plan = services.plan_visit(crew.handler, crew.firm, date(2026, 3, 5), crew.handler)
    assert plan.display_status(clock.today_local()) == "planned"
    frozen_clock.advance(datetime(2026, 3, 6, 2, tzinfo=UTC) - clock.now_utc())
    assert plan.display_status(clock.today_local()) == "overdue"
    overdue = db.session.scalars(queries.plans_query(crew.handler.id, clock.today_local(),
                                                     "overdue")).all()
    assert overdue == [plan]


def test_recording_the_visit_marks_the_plan_done(make, frozen_clock, crew):
    plan = services.plan_visit(crew.handler, crew.firm, date(2026, 3, 2), crew.handler)
    visit = make.visit(crew.firm, crew.handler, plan=plan)
    assert plan.status == "done" and plan.visit_id == visit.id


def test_a_visit_completes_only_its_owners_plan(make, frozen_clock, crew):
    """Issue 15, finding 5: another unit's handler marked someone else's plan done."""
    plan = services.plan_visit(crew.handler, crew.firm, date(2026, 3, 2), crew.handler)
    make.visit(crew.firm, crew.stranger, plan=plan)
    assert plan.status == "planned" and plan.visit_id is None
    make.visit(crew.firm, crew.colleague, plan=plan)
    assert plan.status == "planned"
    visit = make.visit(crew.firm, crew.supervisor, plan=plan)
    assert plan.status == "done" and plan.visit_id == visit.id
