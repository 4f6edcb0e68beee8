"""Portal fixtures: a cast of staff and two firms, public requests, and tickets walked along."""

from __future__ import annotations

import pytest

from app.core import mail
from app.core.permissions import Role
from app.extensions import db
from app.portal import services as portal
from app.tickets import services as tickets
from app.tickets.models import TicketStatus

S = TicketStatus
USCC_A = "91320583314159268J"


@pytest.fixture(autouse=True)
def clean_outbox(tmp_path, app):
    """No mail from other tests; uploads in a scratch directory."""
    mail.outbox.clear()
    app.config["TICKET_UPLOAD_DIR"] = str(tmp_path / "uploads")
    yield
    mail.outbox.clear()


@pytest.fixture
def cast(make):
    """Staff of the service centre and of one handling unit, and two firms with accounts."""

    class Cast:
        unit = make.unit(name="商务局门户测试", code="SWJP")
        other_unit = make.unit(name="工信局门户测试", code="GXJP")
        handler = make.user(Role.HANDLER, unit=unit, email="handler@example.com")
        lead = make.user(Role.UNIT_LEAD, unit=unit)
        stranger = make.user(Role.HANDLER, unit=other_unit)
        dispatcher = make.user(Role.DISPATCHER)
        supervisor = make.user(Role.SUPERVISOR)
        admin = make.user(Role.ADMIN)
        firm_a = make.firm(name="甲精密机械有限公司")
        firm_b = make.firm(name="乙电子科技有限公司")
        user_a = make.user(Role.FIRM_USER, firm=firm_a, email="a@example.com",
                           mobile="13900000001")
        user_b = make.user(Role.FIRM_USER, firm=firm_b, email="b@example.com",
                           mobile="13900000002")

    return Cast


def request_data(**overrides) -> dict:
    """A valid public form submission."""
    values = {"firm_name": "昆山示例有限公司", "uscc": USCC_A, "contact_name": "林经理",
              "mobile": "13812345678", "email": "lin@example.com", "demand_type": "help",
              "category": "", "title": "招工难", "description": "希望协调组织专场招聘会。",
              "consent": "y", "website": ""}
    values.update(overrides)
    return values


def submit(**overrides):
    """A public request through the service (no HTTP), committed."""
    data = request_data(**overrides)
    ticket = portal.submit_request(
        portal.RequestData(firm_name=data["firm_name"], uscc=data["uscc"],
                           contact_name=data["contact_name"], mobile=data["mobile"],
                           email=data["email"], demand_type=data["demand_type"],
                           category_id=None, title=data["title"],
                           description=data["description"]),
        actor=overrides.get("actor"), ip="127.0.0.1", tracking_link=lambda t: "link")
    db.session.commit()
    return ticket


def walk(ticket, cast, state: TicketStatus):
    """Move a submitted ticket to ``state`` through the real transitions."""
    steps = {
        S.IN_PROGRESS: [("dispatcher", "dispatch", {"lead_unit": cast.unit}),
                        ("handler", "acknowledge", {})],
        S.SUSPENDED: [("dispatcher", "dispatch", {"lead_unit": cast.unit}),
                      ("handler", "acknowledge", {}),
                      ("handler", "suspend", {"missing_info": "营业执照复印件",
                                              "contact_attempt": "电话联系"})],
        S.REPLIED: [("dispatcher", "dispatch", {"lead_unit": cast.unit}),
                    ("handler", "acknowledge", {}),
                    ("handler", "reply", {"text": "已协调人社局组织专场招聘会。"})],
        S.FOLLOW_UP: [("dispatcher", "dispatch", {"lead_unit": cast.unit}),
                      ("handler", "acknowledge", {}),
                      ("handler", "reply", {"text": "已协调人社局组织专场招聘会。"}),
                      ("dispatcher", "approve_reply", {})],
    }[state]
    for who, name, data in steps:
        tickets.transition(ticket, name, getattr(cast, who), **data)
    db.session.commit()
    assert ticket.status == state
    return ticket
