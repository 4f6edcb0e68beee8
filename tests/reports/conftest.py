"""A hand-built month of tickets walked through the real workflow, with a frozen clock.

The calendar is the official 2026 one: 2026-02-14 and 02-28 (Saturdays) are working days,
02-15 … 02-23 are off, March 2026 has no holiday. Times are Beijing time. "Now" is
Mon 2026-03-16 10:00. Units A (商务局) and B (工信局); every standard ticket is a ``help`` demand
(acknowledge 1 WD, handle 5 WD, both 次日起, ending 23:59:59).

======  ==========================================================================  ==========
ticket  story                                                                       lead unit
======  ==========================================================================  ==========
T1      created+dispatched Mon 03-02 10:00, ack 11:00, replied Wed 03-04, rated 5     A
T2      dispatched 03-02 10:00, ack 10:30, suspended Tue 03-03 10:00, resumed          A
        Thu 03-05 10:00 (due 03-09 → 03-11), replied Tue 03-10 15:00, rated 2
T3      dispatched 03-02 10:00, ack, extension of 3 WD approved 03-03 (due 03-09 →     A
        03-12), replied Wed 03-11 10:00, rated 4
T4      dispatched Tue 03-03 10:00, ack Thu 03-05 09:00 (due end of 03-04: late),       B
        handling due end of 03-10, never replied
T5      dispatched to A 03-02 10:00, A asks a return 11:00, approved 03-03 10:00,      B
        dispatched to B 03-03 14:00, ack 15:00 (due 03-04), replied Fri 03-06 10:00
        (due 03-10), rated 3
T6      dispatched to B 03-02 10:00, return asked 12:00 and refused 03-03 09:00        B
        (never acknowledged), handling due end of 03-09, never replied
T7      created+dispatched Thu 02-26 10:00, ack 11:00, due end of 03-04 (02-27,       A
        02-28 make-up Saturday, 03-02, 03-03, 03-04), replied Tue 03-03, rated 5 03-04
T8      handle_now consult created Wed 03-04 10:00, answered directly 10:30, rated 4   —
T9      handle_now created Wed 03-04 09:00, dispatched 09:30, ack 09:40, replied        A
        16:00 the same day, rated 1 on 03-05
T10     dispatched Mon 02-09 10:00, ack, replied Fri 02-13 (due 02-14), rated 5 02-16   A
T11     dispatched Tue 02-10 10:00, ack Thu 02-12 (due 02-11: late), replied           B
        Thu 02-26 (due 02-24: late), rated 4 on 02-27
T12     dispatched Mon 03-09 10:00, ack 11:00, due end of 03-16: due soon now          A
T13     dispatched Mon 03-16 09:00, not yet acknowledged (due end of 03-17)            B
======  ==========================================================================  ==========
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from app.core import clock, mail
from app.core.permissions import Role
from app.sla import services as sla_services
from app.tickets.models import DemandType, ServiceMode
from app.tickets.services import transition

BEIJING = ZoneInfo("Asia/Shanghai")
NOW = (2026, 3, 16, 10, 0)


def local(*args) -> datetime:
    return datetime(*args, tzinfo=BEIJING).astimezone(UTC)


@pytest.fixture(autouse=True)
def sla_ready(db):
    sla_services.seed_calendar([2025, 2026])
    sla_services.seed_policies()
    mail.outbox.clear()
    yield
    mail.outbox.clear()


@dataclass
class Month:
    """The cast and the tickets of the fixture month."""

    unit_a: object
    unit_b: object
    handler_a: object
    handler_b: object
    lead_a: object
    dispatcher: object
    supervisor: object
    firm_user: object
    tickets: dict


@pytest.fixture
def month(make):
    unit_a = make.unit(name="商务局报表", code="RA")
    unit_b = make.unit(name="工信局报表", code="RB")
    cast = Month(
        unit_a, unit_b,
        make.user(Role.HANDLER, unit=unit_a), make.user(Role.HANDLER, unit=unit_b),
        make.user(Role.UNIT_LEAD, unit=unit_a), make.user(Role.DISPATCHER),
        make.user(Role.SUPERVISOR, email="boss@example.com"), make.user(Role.FIRM_USER), {})
    _build(make, cast)
    clock.freeze(local(*NOW))
    return cast


def _build(make, m: Month) -> None:
    def at(*when):
        clock.freeze(local(*when))

    def new(name, when, **kwargs):
        at(*when)
        m.tickets[name] = make.ticket(actor=m.firm_user, **kwargs)
        return m.tickets[name]

    def act(ticket, when, action, actor, **data):
        at(*when)
        transition(ticket, action, actor, **data)

    def dispatched(name, when, unit, **kwargs):
        ticket = new(name, when, **kwargs)
        transition(ticket, "dispatch", m.dispatcher, lead_unit=unit)
        return ticket

    def replied_and_rated(ticket, handler, reply_at, level, rate_at):
        act(ticket, reply_at, "reply", handler, text="已办理。")
        transition(ticket, "approve_reply", m.dispatcher)
        act(ticket, rate_at, "rate", m.firm_user, level=level)

    a, b, ha, hb = m.unit_a, m.unit_b, m.handler_a, m.handler_b
    # February (the previous period).
    t10 = dispatched("T10", (2026, 2, 9, 10, 0), a)
    transition(t10, "acknowledge", ha)
    replied_and_rated(t10, ha, (2026, 2, 13, 10, 0), 5, (2026, 2, 16, 10, 0))
    t11 = dispatched("T11", (2026, 2, 10, 10, 0), b)
    act(t11, (2026, 2, 12, 10, 0), "acknowledge", hb)
    replied_and_rated(t11, hb, (2026, 2, 26, 10, 0), 4, (2026, 2, 27, 10, 0))
    t7 = dispatched("T7", (2026, 2, 26, 10, 0), a)
    act(t7, (2026, 2, 26, 11, 0), "acknowledge", ha)
    replied_and_rated(t7, ha, (2026, 3, 3, 10, 0), 5, (2026, 3, 4, 10, 0))
    # March.
    t1 = dispatched("T1", (2026, 3, 2, 10, 0), a)
    act(t1, (2026, 3, 2, 11, 0), "acknowledge", ha)
    replied_and_rated(t1, ha, (2026, 3, 4, 10, 0), 5, (2026, 3, 5, 10, 0))
    t2 = dispatched("T2", (2026, 3, 2, 10, 0), a)
    act(t2, (2026, 3, 2, 10, 30), "acknowledge", ha)
    act(t2, (2026, 3, 3, 10, 0), "suspend", ha, missing_info="营业执照",
        contact_attempt="电话联系企业")
    act(t2, (2026, 3, 5, 10, 0), "resume", ha)
    replied_and_rated(t2, ha, (2026, 3, 10, 15, 0), 2, (2026, 3, 11, 10, 0))
    t3 = dispatched("T3", (2026, 3, 2, 10, 0), a)
    transition(t3, "acknowledge", ha)
    act(t3, (2026, 3, 3, 10, 0), "request_extension", m.lead_a, days=3, reason="需现场核查")
    act(t3, (2026, 3, 3, 11, 0), "approve_extension", m.supervisor, reason="同意")
    replied_and_rated(t3, ha, (2026, 3, 11, 10, 0), 4, (2026, 3, 12, 10, 0))
    t4 = dispatched("T4", (2026, 3, 3, 10, 0), b)
    act(t4, (2026, 3, 5, 9, 0), "acknowledge", hb)
    t5 = dispatched("T5", (2026, 3, 2, 10, 0), a)
    act(t5, (2026, 3, 2, 11, 0), "request_return", ha, reason="不属本单位",
        legal_basis="三定方案", suggested_unit=b)
    act(t5, (2026, 3, 3, 10, 0), "approve_return", m.dispatcher)
    act(t5, (2026, 3, 3, 14, 0), "dispatch", m.dispatcher, lead_unit=b)
    act(t5, (2026, 3, 3, 15, 0), "acknowledge", hb)
    replied_and_rated(t5, hb, (2026, 3, 6, 10, 0), 3, (2026, 3, 9, 10, 0))
    t6 = dispatched("T6", (2026, 3, 2, 10, 0), b)
    act(t6, (2026, 3, 2, 12, 0), "request_return", hb, reason="不属本单位",
        legal_basis="三定方案", suggested_unit=a)
    act(t6, (2026, 3, 3, 9, 0), "reject_return", m.dispatcher, reason="首办负责")
    t8 = new("T8", (2026, 3, 4, 10, 0), service_mode=ServiceMode.HANDLE_NOW,
             demand_type=DemandType.CONSULT)
    act(t8, (2026, 3, 4, 10, 30), "answer_directly", m.dispatcher, answer="按政策办理即可。")
    act(t8, (2026, 3, 5, 10, 0), "rate", m.firm_user, level=4)
    t9 = new("T9", (2026, 3, 4, 9, 0), service_mode=ServiceMode.HANDLE_NOW)
    act(t9, (2026, 3, 4, 9, 30), "dispatch", m.dispatcher, lead_unit=a)
    act(t9, (2026, 3, 4, 9, 40), "acknowledge", ha)
    replied_and_rated(t9, ha, (2026, 3, 4, 16, 0), 1, (2026, 3, 5, 10, 0))
    t12 = dispatched("T12", (2026, 3, 9, 10, 0), a)
    act(t12, (2026, 3, 9, 11, 0), "acknowledge", ha)
    dispatched("T13", (2026, 3, 16, 9, 0), b)
