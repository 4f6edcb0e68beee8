"""``flask sla scan``: marks due-soon and overdue, urges before the handling deadline, opens a
supervision order a working day after it; a second run changes nothing."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from app.core import clock, mail
from app.core.clock import now_utc
from app.extensions import db
from app.sla.enums import SlaStatus
from app.tickets.models import SupervisionOrder, TicketEvent, Urge, UrgeKind
from app.tickets.scan import run_scan
from app.tickets.services import transition

BEIJING = ZoneInfo("Asia/Shanghai")


def at(*args) -> None:
    clock.freeze(datetime(*args, tzinfo=BEIJING).astimezone(UTC))


def handled(make, cast):
    """Dispatched Monday 2026-03-02 10:00 and acknowledged: handling due end of 03-09."""
    at(2026, 3, 2, 10, 0)
    ticket = make.ticket(actor=cast.dispatcher)
    transition(ticket, "dispatch", cast.dispatcher, lead_unit=cast.unit)
    transition(ticket, "acknowledge", cast.handler)
    return ticket


def events(ticket) -> int:
    return db.session.scalar(sa.select(sa.func.count()).where(
        TicketEvent.ticket_id == ticket.id))


def test_scan_urges_before_the_deadline_once(make, cast):
    ticket = handled(make, cast)
    at(2026, 3, 9, 10, 0)
    first = run_scan(now_utc(), commit=False)
    assert first.urged == 1
    urge = db.session.scalar(sa.select(Urge).where(Urge.ticket_id == ticket.id))
    assert urge.kind == UrgeKind.AUTO and urge.urged_by_id is None
    assert any(cast.handler.email in m.to for m in mail.pending())
    db.session.refresh(ticket)
    assert ticket.sla_status == SlaStatus.DUE_SOON
    count = events(ticket)
    second = run_scan(now_utc(), commit=False)
    assert second.changed == 0
    assert events(ticket) == count


def test_scan_marks_overdue_and_supervises_a_working_day_after(make, cast):
    ticket = handled(make, cast)
    at(2026, 3, 10, 12, 0)  # overdue, but the supervision delay (1 WD) has not passed
    run_scan(now_utc(), commit=False)
    db.session.refresh(ticket)
    assert ticket.sla_status == SlaStatus.OVERDUE and not ticket.is_supervised
    at(2026, 3, 11, 9, 0)
    result = run_scan(now_utc(), commit=False)
    assert result.supervised == 1
    order = db.session.scalar(sa.select(SupervisionOrder).where(
        SupervisionOrder.ticket_id == ticket.id))
    assert order.is_automatic and order.unit_id == cast.unit.id
    db.session.refresh(ticket)
    assert ticket.is_supervised
    assert run_scan(now_utc(), commit=False).changed == 0


def test_scan_marks_an_unacknowledged_ticket_overdue(make, cast):
    at(2026, 3, 2, 10, 0)
    ticket = make.ticket(actor=cast.dispatcher)
    transition(ticket, "dispatch", cast.dispatcher, lead_unit=cast.unit)
    at(2026, 3, 4, 9, 0)
    result = run_scan(now_utc(), commit=False)
    assert result.marked[SlaStatus.OVERDUE] >= 1
    db.session.refresh(ticket)
    assert ticket.sla_status == SlaStatus.OVERDUE


def test_a_mark_does_not_invalidate_open_forms(make, cast):
    ticket = handled(make, cast)
    version = ticket.version
    at(2026, 3, 10, 12, 0)
    run_scan(now_utc(), commit=False)
    db.session.refresh(ticket)
    assert ticket.sla_status == SlaStatus.OVERDUE
    assert ticket.version == version


def test_suspended_tickets_are_not_chased(make, cast):
    ticket = handled(make, cast)
    transition(ticket, "suspend", cast.handler, missing_info="材料", contact_attempt="电话")
    at(2026, 3, 20, 10, 0)
    assert run_scan(now_utc(), commit=False).changed == 0


def test_scan_command_reports_and_is_repeatable(app, make, cast):
    handled(make, cast)
    at(2026, 3, 9, 10, 0)
    runner = app.test_cli_runner()
    first = runner.invoke(args=["sla", "scan"])
    assert first.exit_code == 0, first.output
    assert "1 urged" in first.output
    second = runner.invoke(args=["sla", "scan"])
    assert "0 urged, 0 supervision orders" in second.output


def test_two_scanners_never_lock_the_same_tickets(app):
    """On PostgreSQL a second scanner skips the tickets the first one holds (SKIP LOCKED)."""
    from sqlalchemy.orm import Session

    from app.auth.models import Unit, UnitKind
    from app.tickets.models import Channel, DemandType, ServiceMode, Ticket, TicketStatus, Urgency
    from app.tickets.scan import lock_batch

    engine = db.engine
    if engine.dialect.name != "postgresql":
        import pytest

        pytest.skip("row locks with SKIP LOCKED need PostgreSQL")
    now = now_utc()
    with Session(engine) as setup, setup.begin():
        unit = Unit(name="并发扫描测试单位", code="SCANLOCK", kind=UnitKind.DEPARTMENT)
        setup.add(unit)
        setup.flush()
        ids = []
        for n in range(3):
            ticket = Ticket(
                reference=f"KS2098-{n + 1:06d}", channel=Channel.PHONE,
                service_mode=ServiceMode.STANDARD, demand_type=DemandType.HELP,
                urgency=Urgency.NORMAL, title="并发", description="并发扫描",
                requester_name="测试", requester_mobile="13812345678",
                status=TicketStatus.IN_PROGRESS, lead_unit_id=unit.id, dispatched_at=now,
                handle_due_at=now, due_at=now, submitted_at=now)
            setup.add(ticket)
            setup.flush()
            ids.append(ticket.id)
    first, second = Session(engine), Session(engine)
    try:
        held = {t.id for t in lock_batch(ids, session=first)}
        assert held == set(ids)
        seen_by_second = {t.id for t in lock_batch(ids, session=second)}
        assert not seen_by_second & set(ids)
        first.rollback()
        second.rollback()
        assert {t.id for t in lock_batch(ids, session=second)} == set(ids)
    finally:
        first.close()
        second.close()
        table = Ticket.__table__
        with engine.begin() as connection:
            connection.execute(sa.delete(table).where(table.c.id.in_(ids)))
            connection.execute(sa.delete(Unit.__table__).where(Unit.__table__.c.code == "SCANLOCK"))
