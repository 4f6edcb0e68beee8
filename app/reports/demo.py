"""Demo tickets for the reports: a few weeks of work in 商务局 and 工信局, some of it late.

Tickets are walked through the real workflow with the clock set in the past, so every deadline,
event and figure is what production would have produced. Safe to run again (skipped when the
demo tickets exist).
"""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from app.auth.models import Unit, User
from app.core import clock
from app.core.clock import now_utc
from app.extensions import db
from app.tickets.models import Channel, DemandType, ServiceMode, Ticket, Urgency
from app.tickets.services import Requester, create_ticket, transition

TITLE_PREFIX = "报表演示"

#: (days ago created, lead unit code, what happened: "late", "on_time", "open", "soon")
STORIES = [
    (20, "SWJ", "on_time"), (18, "SWJ", "on_time"), (16, "GXJ", "late"),
    (15, "SWJ", "late"), (14, "GXJ", "on_time"), (13, "SWJ", "open"), (12, "GXJ", "open"),
    (11, "SWJ", "open"), (9, "SWJ", "on_time"), (6, "GXJ", "soon"), (5, "SWJ", "soon"),
]


def seed_report_tickets() -> int:
    """Create the demo tickets once; returns how many were created."""
    if db.session.scalar(sa.select(sa.func.count(Ticket.id))
                         .where(Ticket.title.like(f"{TITLE_PREFIX}%"))):
        return 0
    users = {u.username: u for u in db.session.scalars(
        sa.select(User).where(User.username.in_(["dispatcher", "handler"])))}
    units = {u.code: u for u in db.session.scalars(sa.select(Unit))}
    if len(users) < 2 or "SWJ" not in units or "GXJ" not in units:
        return 0
    real_now = now_utc()
    try:
        for n, (days_ago, unit_code, story) in enumerate(STORIES, start=1):
            _walk(n, real_now - timedelta(days=days_ago), units[unit_code], story, users)
    finally:
        clock.unfreeze()
    db.session.flush()
    return len(STORIES)


def _walk(n, start, unit, story, users) -> None:
    clock.freeze(start)
    ticket = create_ticket(users["dispatcher"], channel=Channel.PHONE,
                           service_mode=ServiceMode.STANDARD, demand_type=DemandType.HELP,
                           urgency=Urgency.NORMAL, title=f"{TITLE_PREFIX}诉求{n}",
                           description="企业反映用工、融资等问题，希望协调解决。",
                           requester=Requester(name="林经理", mobile="13812345678"))
    transition(ticket, "dispatch", users["dispatcher"], lead_unit=unit)
    handler = users["handler"] if unit.code == "SWJ" else None
    if handler is None:
        handler = db.session.scalar(sa.select(User).where(User.unit_id == unit.id))
    if handler is None:
        return
    clock.freeze(start + timedelta(hours=2))
    transition(ticket, "acknowledge", handler)
    if story in ("open", "soon"):
        return
    clock.freeze(start + timedelta(days=3 if story == "on_time" else 12))
    transition(ticket, "reply", handler, text="已协调相关部门办理完毕。")
    transition(ticket, "approve_reply", users["dispatcher"])
    clock.freeze(start + timedelta(days=4 if story == "on_time" else 13))
    transition(ticket, "record_follow_up", users["dispatcher"], outcome="reached",
               level=5 if story == "on_time" else 2)
