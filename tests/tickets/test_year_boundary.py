"""The year boundary (issue 14): with the clock in December or January, before next year's
official holiday schedule is in the calendar, every page and command that computes a deadline
works — over provisional days (weekends plus the rule-based statutory holidays, no make-up
working days) — and the deadlines counted over them are marked provisional, for staff and for
the firm. Only a year beyond next has no days, and then nothing false is said.

Everything goes through HTTP and the real services; the clock is frozen at 2026-12-10,
2026-12-28 and 2027-01-04 (Beijing time).
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from app.core import clock, mail
from app.core.audit import AuditEvent
from app.extensions import db
from app.notifications.models import Notification
from app.sla import services as sla_services
from app.sla.enums import DaySource, LimitUnit, SlaStep
from app.sla.models import Limit, WorkCalendarDay
from app.tickets.models import Ticket, TicketStatus, Urge
from tests.helpers import csrf_token
from tests.portal.conftest import request_data

S = TicketStatus
BEIJING = ZoneInfo("Asia/Shanghai")


def at(*parts: int) -> None:
    """Freeze the clock at a Beijing wall-clock time (a new request reads it afresh)."""
    clock.freeze(datetime(*parts, tzinfo=BEIJING).astimezone(UTC))
    sla_services._forget_request_values()


def end_of(y: int, m: int, d: int) -> datetime:
    return datetime(y, m, d, 23, 59, 59, tzinfo=BEIJING).astimezone(UTC)


@pytest.fixture(autouse=True)
def clean_outbox(tmp_path, app):
    mail.outbox.clear()
    app.config["TICKET_UPLOAD_DIR"] = str(tmp_path / "uploads")
    yield
    mail.outbox.clear()


def submit(client, **overrides) -> tuple[Ticket, str]:
    """The public form, then its receipt page: (the ticket, the receipt's HTML)."""
    payload = request_data(**overrides)
    payload["csrf_token"] = csrf_token(client, "/request")
    response = client.post("/request", data=payload)
    assert response.status_code == 302, response.get_data(as_text=True)
    receipt = client.get(response.headers["Location"])
    assert receipt.status_code == 200
    ticket = db.session.scalars(sa.select(Ticket).order_by(Ticket.id.desc())).first()
    return ticket, receipt.get_data(as_text=True)


def act(client, ticket: Ticket, action: str, **data) -> None:
    db.session.refresh(ticket)
    path = f"/tickets/{ticket.reference}"
    form = {"csrf_token": csrf_token(client, path), "version": ticket.version, **data}
    response = client.post(f"{path}/act/{action}", data=form)
    assert response.status_code == 302, response.get_data(as_text=True)[-3000:]
    db.session.refresh(ticket)


def dispatch(login_as, cast, ticket, **data) -> None:
    act(login_as(cast.dispatcher), ticket, "dispatch", lead_unit=cast.unit.id, **data)


def audits(action: str) -> list[AuditEvent]:
    return db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == action)
                              .order_by(AuditEvent.id)).all()


def stored_provisional_days(year: int) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(WorkCalendarDay).where(
        WorkCalendarDay.source == DaySource.PROVISIONAL,
        sa.extract("year", WorkCalendarDay.day) == year))


# -- 10 December: complex requests and extensions reach the wall first --------------------------


def test_on_10_december_a_complex_dispatch_ends_on_31_december_itself(client, login_as, cast):
    at(2026, 12, 10, 10, 0)
    ticket, receipt = submit(client)
    assert "provisional" not in receipt            # 5 working days: 17 December
    dispatch(login_as, cast, ticket, is_complex="y")
    # 15 working days from Thursday 10 December: 11, 14–18, 21–25, 28–31 → 31 December itself
    assert ticket.handle_due_at == end_of(2026, 12, 31)
    assert ticket.provisional_deadlines == 0
    assert stored_provisional_days(2027) == 0     # nothing needed 2027 yet


def test_on_11_december_a_complex_dispatch_is_provisional_and_stores_next_year(
        client, login_as, cast, caplog):
    at(2026, 12, 11, 10, 0)
    ticket, _receipt = submit(client)
    with caplog.at_level("WARNING", logger="ruyi.sla"):
        dispatch(login_as, cast, ticket, is_complex="y")
    assert ticket.handle_due_at == end_of(2027, 1, 4)  # 1 January is a holiday by rule
    assert ticket.is_provisional("handle_due_at")
    assert not ticket.is_provisional("acknowledge_due_at")
    # the first use stored next year's provisional days, audited and logged
    assert stored_provisional_days(2027) == 365
    [stored] = audits("calendar.provisional_year")
    assert stored.details["year"] == 2027 and "春节" in stored.details["holidays"]
    assert "provisional working days stored for 2027" in caplog.text
    # staff see the mark on the ticket page and in the queue
    page = login_as(cast.handler).get(f"/tickets/{ticket.reference}").get_data(as_text=True)
    assert page.count('data-testid="provisional"') == 1
    act(login_as(cast.handler), ticket, "acknowledge")
    queue = login_as(cast.handler).get("/tickets/").get_data(as_text=True)
    assert 'data-testid="provisional"' in queue


def test_an_extension_across_the_year_end_is_provisional(client, login_as, cast):
    at(2026, 12, 10, 10, 0)
    ticket, _receipt = submit(client)
    dispatch(login_as, cast, ticket, is_complex="y")
    act(login_as(cast.handler), ticket, "acknowledge")
    at(2026, 12, 21, 9, 0)
    act(login_as(cast.handler), ticket, "request_extension", days="3", reason="跨年核查")
    act(login_as(cast.lead), ticket, "endorse_extension")
    act(login_as(cast.supervisor), ticket, "approve_extension")
    # 31 December + 3 working days: 4, 5, 6 January (1 January off by rule)
    assert ticket.handle_due_at == end_of(2027, 1, 6)
    assert ticket.is_provisional("handle_due_at")
    [message] = [m for m in mail.outbox if "extended" in m.subject]
    assert "6 Jan 2027" in message.body  # the English client's language


# -- 28 December: every deadline that runs past 31 December --------------------------------------


def test_on_28_december_the_firm_gets_its_reference_and_a_provisional_date(client):
    at(2026, 12, 28, 10, 0)
    ticket, receipt = submit(client)
    assert ticket.reference in receipt and f"/track/{ticket.access_token}" in receipt
    # 5 working days from the intake deadline (Monday 28 December): 29, 30, 31, 4, 5 January
    assert 'data-testid="promised-date">5 Jan 2027 23:59' in receipt
    assert 'data-testid="provisional"' in receipt
    assert "official holiday schedule is not yet published" in receipt
    [confirmation] = [m for m in mail.outbox if "lin@example.com" in m.to]
    assert "5 Jan 2027 23:59 (Beijing time) — provisional" in confirmation.body
    tracking = client.get(f"/track/{ticket.access_token}").get_data(as_text=True)
    assert 'data-testid="provisional-reason"' in tracking


def test_on_28_december_dispatch_acknowledge_the_scan_and_the_dashboard_work(
        app, client, login_as, cast):
    at(2026, 12, 28, 10, 0)
    ticket, _receipt = submit(client)
    dispatch(login_as, cast, ticket)
    assert ticket.handle_due_at == end_of(2027, 1, 5)
    assert ticket.acknowledge_due_at == end_of(2026, 12, 29)
    assert ticket.is_provisional("handle_due_at")
    assert not ticket.is_provisional("due_at")        # the acknowledgement is due in 2026
    act(login_as(cast.handler), ticket, "acknowledge")
    assert ticket.is_provisional("due_at")
    result = app.test_cli_runner().invoke(
        args=["sla", "scan", "--at", "2026-12-31T10:00:00+08:00"])
    assert result.exit_code == 0, result.output
    assert db.session.scalar(sa.select(sa.func.count(Urge.id))
                             .where(Urge.ticket_id == ticket.id)) == 0
    # urged 2 working days before 5 January: from the end of 31 December
    result = app.test_cli_runner().invoke(
        args=["sla", "scan", "--at", "2027-01-04T10:00:00+08:00"])
    assert result.exit_code == 0 and "1 urged" in result.output, result.output
    assert login_as(cast.supervisor).get("/reports/").status_code == 200
    drill = login_as(cast.supervisor).get(
        "/reports/tickets?fact=dispatch&subset=all&period=month&start=2026-12-01")
    assert drill.status_code == 200
    html = drill.get_data(as_text=True)
    assert ticket.reference in html and 'data-testid="provisional"' in html
    assert login_as(cast.handler).get("/tickets/?queue=due_soon").status_code == 200


# -- 4 January: the new year has begun, its official schedule still absent ------------------------


def test_on_4_january_everything_counts_on_the_provisional_year(app, client, login_as, cast):
    at(2027, 1, 4, 10, 0)
    ticket, receipt = submit(client)
    assert 'data-testid="promised-date">11 Jan 2027 23:59' in receipt
    assert 'data-testid="provisional"' in receipt
    dispatch(login_as, cast, ticket)
    assert ticket.acknowledge_due_at == end_of(2027, 1, 5)
    assert ticket.handle_due_at == end_of(2027, 1, 11)
    assert ticket.is_provisional("acknowledge_due_at") and ticket.is_provisional("handle_due_at")
    act(login_as(cast.handler), ticket, "acknowledge")
    result = app.test_cli_runner().invoke(
        args=["sla", "scan", "--at", "2027-01-08T10:00:00+08:00"])
    assert result.exit_code == 0 and "1 urged" in result.output, result.output
    assert login_as(cast.supervisor).get("/reports/").status_code == 200
    home = login_as(cast.supervisor).get("/home").get_data(as_text=True)
    assert 'data-testid="calendar-warning" data-year="2027"' in home


def test_a_request_sent_on_a_provisional_holiday_counts_from_the_next_working_day(client):
    at(2027, 1, 1, 10, 0)                          # 元旦, a holiday by rule
    ticket, receipt = submit(client)
    # intake: half a working day from Monday 4 January 08:30; then 5 working days
    assert ticket.intake_due_at == datetime(2027, 1, 4, 13, 45, tzinfo=BEIJING)
    assert 'data-testid="promised-date">11 Jan 2027 23:59' in receipt
    assert ticket.is_provisional("intake_due_at")


# -- a year beyond next: no date, and nothing false ------------------------------------------------


def test_a_deadline_beyond_next_year_shows_the_ticket_without_a_date_and_alerts_admins(
        client, login_as, cast):
    at(2026, 12, 28, 10, 0)
    # a limit no policy form accepts (at most 250 working days), standing for any count that
    # reaches beyond next year: 3 working days left in 2026 and 248 in 2027 are not enough
    policy = sla_services.policy_for("standard", "help", "normal")
    policy.set_limit(SlaStep.HANDLE, Limit(Decimal(400), LimitUnit.WORKING_DAYS))
    sla_services._bump(policies=True)
    db.session.commit()
    ticket, receipt = submit(client, demand_type="help")
    assert ticket.reference in receipt and f"/track/{ticket.access_token}" in receipt
    assert 'data-testid="date-pending"' in receipt
    assert "as soon as the working calendar for 2028 is published" in receipt
    assert "Nothing was saved" not in receipt
    [alert] = db.session.scalars(sa.select(Notification).where(
        Notification.recipient_id == cast.admin.id)).all()
    assert "2028" in alert.subject
    assert audits("calendar.missing_year")[0].details["year"] == 2028
    # the tracking page the same, and the administrators are told only once a day
    tracking = client.get(f"/track/{ticket.access_token}").get_data(as_text=True)
    assert 'data-testid="date-pending"' in tracking
    assert db.session.scalar(sa.select(sa.func.count(Notification.id)).where(
        Notification.recipient_id == cast.admin.id)) == 1


def test_an_action_refused_for_a_year_beyond_next_says_truly_that_nothing_was_saved(
        client, login_as, cast):
    at(2026, 12, 28, 10, 0)
    policy = sla_services.policy_for("standard", "help", "normal")
    policy.set_limit(SlaStep.HANDLE, Limit(Decimal(250), LimitUnit.WORKING_DAYS))
    sla_services._bump(policies=True)
    db.session.commit()
    ticket, _receipt = submit(client)
    dispatch(login_as, cast, ticket)               # due 30 December 2027, provisional
    act(login_as(cast.handler), ticket, "acknowledge")
    version = ticket.version
    client = login_as(cast.handler)
    path = f"/tickets/{ticket.reference}"
    response = client.post(f"{path}/act/request_extension", data={
        "csrf_token": csrf_token(client, path), "version": version, "days": "10",
        "reason": "跨两年"})
    assert response.status_code == 503
    page = response.get_data(as_text=True)
    assert "no days for 2028" in page and "Nothing was saved." in page
    db.session.refresh(ticket)
    assert ticket.version == version


def test_a_failure_after_the_commit_does_not_say_nothing_was_saved(app):
    from flask import g

    from app.sla.calendar import CalendarNotConfigured
    from app.sla.views import calendar_not_configured

    with app.test_request_context("/request", method="POST",
                                  headers={"Accept-Language": "en"}):
        g.committed_in_request = True
        body, status = calendar_not_configured(CalendarNotConfigured(2028))
    assert status == 503
    assert "Your change was saved" in body and "Nothing was saved" not in body
