"""Demo visits: twelve months of visits to the demo firms, issues (some handed over as tickets
and closed out), one campaign, visit plans, and two lifecycle projects at different stages.

Deterministic (a fixed random seed) and idempotent: nothing is added once visits exist. The
clock is frozen at each historic moment so records carry their real times (and old records are
locked), then released.
"""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta

import sqlalchemy as sa

from app.auth.models import User
from app.core import clock
from app.extensions import db
from app.firms.models import Contact, Firm
from app.projects import services as projects
from app.projects.models import StageStatus
from app.visits import services
from app.visits.models import PlanStatus, Visit, VisitPlan
from app.visits.queries import local_day_start

STATUS_TEXTS = [
    "生产经营正常，订单排产至下季度，产能利用率约85%。",
    "受海外订单波动影响，本季度产值同比下降5%，企业正开拓国内市场。",
    "新产线已调试完成，预计下月投产，用工需求增加约60人。",
    "经营平稳，企业计划申报高新技术企业认定。",
]
ISSUES = [
    ("招工难，缺少熟练技工，希望协助对接职业院校。", False),
    ("希望了解研发费用加计扣除最新政策。", True),
    ("厂区门前道路破损，影响货车通行。", False),
    ("申请扩建用地，规划指标需协调。", False),
    ("出口退税办理进度较慢。", False),
    ("希望参加政府组织的产销对接会。", True),
]
POLICIES = "《昆山市促进制造业高质量发展若干政策》、研发费用加计扣除、稳岗返还"


def _at(day: date, hour: int = 10) -> datetime:
    """A Beijing-time hour on ``day`` as UTC."""
    return datetime(day.year, day.month, day.day, hour - 8, tzinfo=UTC)


def seed_visits() -> dict[str, int]:
    """Add the demo visits, campaign, plans and projects once; returns counts."""
    if db.session.scalar(sa.select(sa.func.count(Visit.id))):
        return {"new visits": 0}
    users = {u.username: u for u in db.session.scalars(sa.select(User).where(
        User.username.in_(["handler", "lead", "dispatcher", "supervisor"])))}
    if len(users) < 4:
        return {"new visits": 0}
    rng = random.Random(5105)
    today = clock.today_local()
    try:
        counts = {"new visits": _visits(rng, users, today)}
        counts["new plans"] = _plans(rng, users, today)
        counts["new projects"] = _projects(users, today)
    finally:
        clock.unfreeze()
    counts["new campaigns"] = _campaign(users, today)
    return counts


def _firms() -> list[Firm]:
    return list(db.session.scalars(sa.select(Firm).where(Firm.archived_at.is_(None))
                                   .order_by(Firm.id)))


def _visits(rng: random.Random, users: dict[str, User], today: date) -> int:
    firms = _firms()
    served = [f for f in firms if f.commissioner_id is not None]
    others = [f for f in firms if f.commissioner_id is None][:25]
    created = 0
    for firm in served + others:
        lead = firm.commissioner or rng.choice([users["handler"], users["lead"]])
        every = 90 if firm.is_key_firm else 200
        # Some firms are left past their cadence on purpose, so the list has work in it.
        start = today - timedelta(days=rng.randint(0, every) + (120 if rng.random() < 0.2 else 0))
        day = start
        while day > today - timedelta(days=365):
            _visit(rng, firm, lead, users, day, today)
            created += 1
            day -= timedelta(days=every + rng.randint(-15, 15))
    return created


def _visit(rng, firm: Firm, lead: User, users, day: date, today: date) -> Visit:
    clock.freeze(_at(day, rng.choice([9, 10, 14, 15])) + timedelta(hours=2))
    contacts = list(db.session.scalars(sa.select(Contact).where(Contact.firm_id == firm.id)))
    issues = [services.IssueData(text, is_solved_on_site=solved,
                                 solution="现场讲解政策并提供申报指南。" if solved else None)
              for text, solved in rng.sample(ISSUES, rng.choice([0, 0, 1, 1, 2]))]
    other = users["lead"] if lead.id == users["handler"].id else users["handler"]
    visit = services.record_visit(services.VisitData(
        firm=firm, visited_at=_at(day, 10), mode=rng.choice(["onsite"] * 5 + ["phone", "meeting"]),
        lead_visitor=lead, operating_status=rng.choice(STATUS_TEXTS),
        purposes=rng.sample(["policy_publicity", "research", "routine_liaison", "onsite_office"],
                            2) + (["key_project"] if firm.is_key_firm else []),
        other_visitor_ids=[other.id] if rng.random() < 0.3 else [],
        contact_ids=[contacts[0].id] if contacts else [],
        policies_delivered=POLICIES if rng.random() < 0.5 else None,
        employment_plan="计划新增招聘一线员工50人" if rng.random() < 0.2 else None,
        confirmed_by=contacts[0].id if contacts else None,
        confirmed_at=_at(day, 17) if contacts else None, issues=issues), lead)
    for issue in visit.issues:
        if not issue.is_solved_on_site and rng.random() < 0.6:
            _hand_over(rng, issue, lead, users, today)
    return visit


def _hand_over(rng, issue, lead: User, users, today: date) -> None:
    """交办, and for older issues the whole way to a satisfied follow-up (销号)."""
    from app.tickets import services as tickets

    ticket = services.assign_issue(issue, lead)
    if (today - clock.today_local()).days < 20:
        return  # recent issues are still being handled
    steps = [("dispatch", users["dispatcher"], {"lead_unit": lead.unit}),
             ("acknowledge", lead, {}),
             ("reply", lead, {"text": "已协调相关部门解决，并电话告知企业。"}),
             ("approve_reply", users["dispatcher"], {}),
             ("record_follow_up", users["dispatcher"],
              {"outcome": "reached", "level": rng.choice([5, 4, 4, 3, 2])})]
    for action, actor, data in steps:
        clock.advance(timedelta(hours=20))
        tickets.transition(ticket, action, actor, **data)


def _plans(rng, users, today: date) -> int:
    clock.unfreeze()
    handler = users["handler"]
    firms = [f for f in _firms() if f.commissioner_id == handler.id] or _firms()
    count = 0
    for offset in (-12, -5, 3, 7, 10, 14, 21, 28):
        firm = rng.choice(firms)
        db.session.add(VisitPlan(user=handler, firm=firm, planned_on=today + timedelta(
            days=offset), status=PlanStatus.PLANNED, note="季度走访"))
        count += 1
    db.session.add(VisitPlan(user=handler, firm=rng.choice(firms), planned_on=today - timedelta(
        days=3), status=PlanStatus.CANCELLED, note="企业负责人出差，改期"))
    done = db.session.scalar(sa.select(Visit).where(Visit.lead_visitor_id == handler.id)
                             .order_by(Visit.visited_at.desc()).limit(1))
    if done is not None:
        db.session.add(VisitPlan(user=handler, firm=done.firm, planned_on=clock.to_local(
            done.visited_at).date(), status=PlanStatus.DONE, visit_id=done.id))
        count += 1
    db.session.flush()
    return count + 1


def _campaign(users, today: date) -> int:
    campaign = services.create_campaign(
        f"{today.year}年度企业大走访", today - timedelta(days=60), today + timedelta(days=30),
        [users["handler"].id, users["lead"].id], users["supervisor"],
        description="覆盖全部重点企业及开发区规上企业，收集问题清单并限期交办。")
    key = [f.id for f in _firms() if f.is_key_firm]
    sample = [f.id for f in _firms() if not f.is_key_firm][:30]
    services.add_targets(campaign, key + sample, users["supervisor"])
    since = local_day_start(campaign.starts_on)
    for visit in db.session.scalars(sa.select(Visit).where(
            Visit.firm_id.in_(key + sample), Visit.visited_at >= since)):
        visit.campaign_id = campaign.id
    db.session.flush()
    return 1


def _projects(users, today: date) -> int:
    handler = users["handler"]
    keys = [f for f in _firms() if f.is_key_firm and f.commissioner_id == handler.id][:2]
    created = 0
    for firm, months, done in zip(keys, (10, 2), (5, 1), strict=False):
        started = today - timedelta(days=30 * months)
        clock.freeze(_at(started, 10))
        project = projects.create_project(firm, f"{firm.name[:8]}新建厂房项目", started, handler,
                                          description="总投资约3亿元，新增用地40亩。")
        for stage in project.stages[:done]:
            clock.freeze(_at(stage.due_on - timedelta(days=3), 11))
            projects.update_stage(stage, projects.StageData(
                StageStatus.DONE.value, stage.owner_unit_id, stage.due_on,
                stage.due_on - timedelta(days=3)), handler)
        if done < len(project.stages):
            clock.freeze(_at(today, 9))
            nxt = project.stages[done]
            projects.update_stage(nxt, projects.StageData(
                StageStatus.IN_PROGRESS.value, handler.unit_id, nxt.due_on), handler)
            for n, later in enumerate(project.stages[done + 1:], start=1):
                later.due_on = max(later.due_on, today + timedelta(days=45 * n))
        created += 1
    clock.unfreeze()
    return created
