"""Plain ``make_*`` helpers for test data (the one way tests create rows).

Factories commit: in the test transaction a commit only releases a savepoint, so the rows
survive a view's ``rollback()`` and are still discarded when the test ends.
"""

from __future__ import annotations

import itertools
from functools import cache

from app.auth.models import Unit, UnitKind, User
from app.auth.passwords import hash_password
from app.core.permissions import UNIT_ROLES, Role
from app.extensions import db

PASSWORD = "Valid#Pass2026"
_sequence = itertools.count(1)


@cache
def _password_hash() -> str:
    """Hash once per run: Argon2 is deliberately slow."""
    return hash_password(PASSWORD)


def unit(**overrides) -> Unit:
    """An active department."""
    n = next(_sequence)
    values = {"name": f"测试单位{n}", "code": f"U{n}", "kind": UnitKind.DEPARTMENT,
              "is_active": True}
    values.update(overrides)
    row = Unit(**values)
    db.session.add(row)
    db.session.commit()
    return row


def user(role: Role | str = Role.HANDLER, **overrides) -> User:
    """An active user who may sign in with ``PASSWORD``; staff roles get a unit."""
    n = next(_sequence)
    role = Role(role)
    values = {"username": f"user{n}", "display_name": f"用户{n}", "role": role,
              "is_active": True, "must_change_password": False,
              "password_hash": _password_hash(), "failed_login_count": 0}
    values.update(overrides)
    if role in UNIT_ROLES and "unit" not in values and "unit_id" not in values:
        values["unit"] = unit()
    if role == Role.FIRM_USER and "firm" not in values and "firm_id" not in values:
        values["firm"] = firm()
    row = User(**values)
    db.session.add(row)
    db.session.commit()
    return row


# -- tickets -------------------------------------------------------------------------------------


def category(**overrides):
    """An active ticket category."""
    from app.tickets.models import Category

    n = next(_sequence)
    values = {"code": f"C{n}", "name": f"类别{n}", "sort_order": n, "is_active": True}
    values.update(overrides)
    row = Category(**values)
    db.session.add(row)
    db.session.commit()
    return row


def ticket(actor=None, **overrides):
    """A ``submitted`` ticket created through the real service (the SLA calendar must exist)."""
    from app.tickets.models import Channel, DemandType, ServiceMode, Urgency
    from app.tickets.services import Requester, create_ticket

    n = next(_sequence)
    values = {"channel": Channel.PHONE, "service_mode": ServiceMode.STANDARD,
              "demand_type": DemandType.HELP, "urgency": Urgency.NORMAL,
              "title": f"诉求{n}", "description": "企业反映用工招聘困难，希望协调。",
              "requester": Requester(name=f"联系人{n}", mobile="13812345678",
                                     email=f"requester{n}@example.com")}
    values.update(overrides)
    row = create_ticket(actor, **values)
    db.session.commit()
    return row


# -- firms ---------------------------------------------------------------------------------------


def uscc(n: int | None = None) -> str:
    """A valid synthetic USCC with Kunshan's registration code."""
    from app.firms.uscc import complete

    return complete(f"91320583MA{(n if n is not None else next(_sequence)):07d}")


def firm(**overrides):
    """An active, non-key domestic manufacturer in the first seeded area."""
    import sqlalchemy as sa

    from app.firms.models import Area, CapitalOrigin, Firm, LegalForm
    from app.firms.search import search_key

    n = next(_sequence)
    values = {"uscc": uscc(n), "name": f"昆山测试{n}精密机械有限公司",
              "area_id": db.session.scalar(sa.select(sa.func.min(Area.id))),
              "industry_code": "C3484", "industry_section": "C",
              "legal_form": LegalForm.LIMITED_LIABILITY, "capital_origin": CapitalOrigin.DOMESTIC,
              "is_key_firm": False}
    values.update(overrides)
    row = Firm(**values)
    row.search_key = search_key(row.name, row.uscc, row.english_name)
    db.session.add(row)
    db.session.flush()
    return row


def contact(firm_row, **overrides):
    """A primary contact with a mobile number."""
    from app.firms.models import Contact
    from app.firms.services import refresh_search_key

    values = {"name": "林经理", "title": "总经理", "mobile": "13812345678", "is_primary": True}
    values.update(overrides)
    row = Contact(firm=firm_row, **values)
    db.session.add(row)
    db.session.flush()
    refresh_search_key(firm_row)
    db.session.flush()
    return row


# -- visits and projects -------------------------------------------------------------------------


def visit(firm_row=None, lead=None, **overrides):
    """A visit recorded through the service (at the frozen or real clock's "now" minus an hour)."""
    from datetime import timedelta

    from app.core.clock import now_utc
    from app.visits.services import VisitData, record_visit

    firm_row = firm_row or firm()
    lead = lead or user(Role.HANDLER)
    actor = overrides.pop("actor", lead)
    values = {"firm": firm_row, "visited_at": now_utc() - timedelta(hours=1), "mode": "onsite",
              "lead_visitor": lead, "operating_status": "生产经营正常，订单饱满。",
              "purposes": ["routine_liaison"]}
    values.update(overrides)
    row = record_visit(VisitData(**values), actor)
    db.session.commit()
    return row


def visit_issue(visit_row, **overrides):
    """An unsolved issue on a visit."""
    from app.visits.services import IssueData, add_issue

    actor = overrides.pop("actor", visit_row.lead_visitor)
    values = {"description": "企业反映厂区道路破损，希望协调修复。"}
    values.update(overrides)
    row = add_issue(visit_row, IssueData(**values), actor)
    db.session.commit()
    return row


def project(firm_row=None, commissioner=None, **overrides):
    """A lifecycle project of a key firm, stages copied from the template."""
    from app.core.clock import today_local
    from app.projects.services import create_project

    commissioner = commissioner or user(Role.HANDLER)
    if firm_row is None:
        firm_row = firm(is_key_firm=True, commissioner_id=commissioner.id)
    values = {"name": "新建智能制造基地项目", "started_on": today_local()}
    values.update(overrides)
    row = create_project(firm_row, values.pop("name"), values.pop("started_on"), commissioner,
                         **values)
    db.session.commit()
    return row


# -- notifications -------------------------------------------------------------------------------


def notification(recipient, **overrides):
    """An unread in-app notification for ``recipient``."""
    from app.notifications.services import add_in_app

    n = next(_sequence)
    values = {"subject": f"通知{n}", "text": "请及时处理。", "link": None}
    values.update(overrides)
    row = add_in_app(recipient, **values)
    db.session.commit()
    return row
