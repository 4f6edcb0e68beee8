"""``flask demo seed``: Kunshan units and one user per role, idempotently."""

from __future__ import annotations

import time
from collections.abc import Callable

import click
import sqlalchemy as sa
from flask.cli import AppGroup

from app.auth import services
from app.auth.models import Unit, UnitKind, User
from app.core.permissions import Role
from app.core.transactions import commit_or_stop
from app.demo.tickets import DEFAULT_TICKET_COUNT, seed_tickets
from app.extensions import db
from app.firms.demo import seed_firms
from app.portal.demo import seed_snippets
from app.reports.demo import seed_report_tickets
from app.sla.services import seed_calendar, seed_policies
from app.tickets.models import Category, DispatchRule
from app.visits.demo import seed_visits

demo_cli = AppGroup("demo", help="Demo data.")

#: Shown by ``make run``; satisfies the password policy. Never use demo data in production.
DEMO_PASSWORD = "Ruyi#Demo2026"

DEMO_UNITS = [
    ("企业服务中心", "QYFW", UnitKind.SERVICE_CENTRE),
    ("营商环境督查室", "DCS", UnitKind.SERVICE_CENTRE),
    ("商务局", "SWJ", UnitKind.DEPARTMENT),
    ("发展和改革委员会", "FGW", UnitKind.DEPARTMENT),
    ("工业和信息化局", "GXJ", UnitKind.DEPARTMENT),
    ("科学技术局", "KJJ", UnitKind.DEPARTMENT),
    ("人力资源和社会保障局", "RSJ", UnitKind.DEPARTMENT),
    ("市场监督管理局", "SJJ", UnitKind.DEPARTMENT),
    ("自然资源和规划局", "ZGJ", UnitKind.DEPARTMENT),
    ("住房和城乡建设局", "ZJJ", UnitKind.DEPARTMENT),
    ("生态环境局", "HBJ", UnitKind.DEPARTMENT),
    ("税务局", "SWU", UnitKind.DEPARTMENT),
    ("台湾事务办公室", "TB", UnitKind.DEPARTMENT),
    ("昆山开发区管委会", "KFQ", UnitKind.AREA),
    ("昆山高新区管委会", "GXQ", UnitKind.AREA),
    ("花桥经济开发区管委会", "HQ", UnitKind.AREA),
    ("昆山旅游度假区管委会", "DJQ", UnitKind.AREA),
    ("张浦镇人民政府", "ZPZ", UnitKind.AREA),
    ("周市镇人民政府", "ZSZ", UnitKind.AREA),
    ("陆家镇人民政府", "LJZ", UnitKind.AREA),
    ("巴城镇人民政府", "BCZ", UnitKind.AREA),
    ("千灯镇人民政府", "QDZ", UnitKind.AREA),
    ("淀山湖镇人民政府", "DSHZ", UnitKind.AREA),
    ("周庄镇人民政府", "ZZZ", UnitKind.AREA),
    ("锦溪镇人民政府", "JXZ", UnitKind.AREA),
]

#: (username, display name, role, unit code)
DEMO_USERS = [
    ("admin", "王管理", Role.ADMIN, None),
    ("auditor", "陈审计", Role.AUDITOR, None),
    ("dispatcher", "李受理", Role.DISPATCHER, "QYFW"),
    ("supervisor", "赵督办", Role.SUPERVISOR, "DCS"),
    ("lead", "周局长", Role.UNIT_LEAD, "SWJ"),
    ("handler", "张专员", Role.HANDLER, "SWJ"),
    ("firm", "林经理", Role.FIRM_USER, None),
]


def seed_units() -> dict[str, Unit]:
    """Create the demo units that are missing; return all of them by code."""
    existing = {u.code: u for u in db.session.scalars(sa.select(Unit))}
    for name, code, kind in DEMO_UNITS:
        if code not in existing:
            existing[code] = Unit(name=name, code=code, kind=kind, is_active=True)
            db.session.add(existing[code])
    db.session.flush()
    return existing


#: The demo's dispatch catalogue: every seeded category's suggested lead unit (category code →
#: unit code). 涉台事务 names the Taiwan affairs office, which the 涉台 mark also adds.
DEMO_DISPATCH_RULES = {
    "policy": "FGW", "hiring": "RSJ", "finance": "GXJ", "land": "ZGJ", "permits": "SJJ",
    "utilities": "ZJJ", "ip": "SJJ", "taiwan": "TB", "trade": "SWJ", "environment": "HBJ",
    "tax": "SWU", "other": "QYFW",
}


def seed_dispatch_rules(units: dict[str, Unit]) -> int:
    """A rule for every demo category that has none yet; returns how many were added."""
    ruled = set(db.session.scalars(sa.select(DispatchRule.category_id)))
    added = 0
    for category in db.session.scalars(sa.select(Category).where(
            Category.code.in_(DEMO_DISPATCH_RULES))):
        if category.id not in ruled:
            db.session.add(DispatchRule(category_id=category.id, is_active=True,
                                        lead_unit_id=units[DEMO_DISPATCH_RULES[category.code]].id))
            added += 1
    db.session.flush()
    return added


def seed_users(units: dict[str, Unit]) -> list[User]:
    """Create the demo users that are missing (one per role)."""
    created = []
    for username, name, role, unit_code in DEMO_USERS:
        if services.find_user(username) is not None:
            continue
        firm_id = _demo_firm_id() if role == Role.FIRM_USER else None
        if role == Role.FIRM_USER and firm_id is None:
            continue  # firm accounts need a registry firm: created after the demo firms
        user = User(username=username, display_name=name, role=role, firm_id=firm_id,
                    unit=units[unit_code] if unit_code else None, is_active=True)
        services.set_password(user, DEMO_PASSWORD, temporary=False)
        db.session.add(user)
        created.append(user)
    db.session.flush()
    return created


def _demo_firm_id() -> int | None:
    """The demo firm account belongs to the first registry firm."""
    from app.firms.models import Firm

    return db.session.scalar(sa.select(sa.func.min(Firm.id)))


def seed_demo(ticket_count: int = DEFAULT_TICKET_COUNT,
              progress: Callable[[str], None] | None = None) -> dict[str, int]:
    """Every domain's demo data, in dependency order; returns counts for the summary line.

    ``ticket_count`` tickets with six months of history are made by the real services
    (:mod:`app.demo.tickets`); ``progress`` receives a line every tenth of them.
    """
    units = seed_units()
    users = seed_users(units)
    rules = seed_dispatch_rules(units)
    calendar_days = sum(result.created for result in seed_calendar())
    policies = seed_policies()
    firms = seed_firms()
    users += seed_users(units)
    snippets = seed_snippets()
    visits = seed_visits()
    report_tickets = seed_report_tickets()
    history = seed_tickets(ticket_count, progress)
    return {"units": len(units), "new users": len(users), "new dispatch rules": rules,
            "new calendar days": calendar_days,
            "new SLA policies": policies, "new firms": firms,
            "new answer snippets": snippets, **visits,
            "new report demo tickets": report_tickets, "new demo tickets": history}


def database_is_empty() -> bool:
    """No users yet: a fresh installation."""
    return db.session.scalar(sa.select(sa.func.count(User.id))) == 0


@demo_cli.command("seed")
@click.option("--if-empty", is_flag=True, help="Do nothing when the database already has users.")
@click.option("--tickets", "ticket_count", type=click.IntRange(0, 100_000),
              default=DEFAULT_TICKET_COUNT, show_default=True,
              help="Demo tickets with six months of history (0: none).")
def seed(if_empty: bool, ticket_count: int) -> None:
    """Load the demo data (safe to run again: what exists is kept)."""
    if if_empty and not database_is_empty():
        click.echo("Database already has data; demo seed skipped.")
        return
    started = time.monotonic()
    click.echo(f"Loading demo data ({ticket_count} tickets made by the real workflow)…")
    summary = commit_or_stop(lambda: seed_demo(ticket_count, progress=click.echo))
    click.echo("Demo data ready: " + ", ".join(f"{n} {what}" for what, n in summary.items())
               + f" ({time.monotonic() - started:.0f} s)")


@demo_cli.command("accounts")
def accounts() -> None:
    """Print the demo sign-ins."""
    click.echo(f"Demo accounts (password for all: {DEMO_PASSWORD})")
    for username, name, role, _unit in DEMO_USERS:
        click.echo(f"  {username:<11} {role.value:<11} {name}")
