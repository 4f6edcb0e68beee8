"""Publishing next year's official schedule (issue 14, item 3): every open deadline counted
over provisional days is recomputed from its original start, with a timeline entry and an
audit row per ticket, the firms whose committed date moved are told, the report facts follow
in the same transaction, finished steps keep their met/missed marks, and a dry run shows it
all without changing anything.

The official 2027 is a synthetic notice (``tests/fixtures/notice_2027.csv``) whose make-up
working days differ from the provisional guess: Saturday 9 January is worked, so a deadline
counted over it comes a day earlier.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from app.core import clock, mail
from app.core.audit import AuditEvent
from app.extensions import db
from app.notifications.models import Notification
from app.reports.models import ReportFact
from app.sla import services as sla_services
from app.sla.enums import DayKind, DaySource
from app.sla.models import WorkCalendarDay
from app.tickets.models import Ticket, TicketEvent, TicketStatus, Urge
from app.tickets.scan import run_scan
from app.tickets.services import transition
from tests.helpers import post_form

S = TicketStatus
BEIJING = ZoneInfo("Asia/Shanghai")
NOTICE = Path(__file__).parent.parent / "fixtures" / "notice_2027.csv"


def at(*parts: int) -> None:
    clock.freeze(datetime(*parts, tzinfo=BEIJING).astimezone(UTC))
    sla_services._forget_request_values()


def end_of(y: int, m: int, d: int) -> datetime:
    return datetime(y, m, d, 23, 59, 59, tzinfo=BEIJING).astimezone(UTC)


def events(ticket: Ticket, action: str) -> list[TicketEvent]:
    return db.session.scalars(sa.select(TicketEvent).where(
        TicketEvent.ticket_id == ticket.id, TicketEvent.action == action)).all()


def audits(action: str) -> list[AuditEvent]:
    return db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == action)
                              .order_by(AuditEvent.id)).all()


@pytest.fixture
def year_end(make, cast):
    """Tickets as the year turns, all counted over the provisional 2027.

    * ``help``: a request for help dispatched Monday 28 December, acknowledged: due 5 January
      (29, 30, 31, 4, 5) on both calendars;
    * ``complex``: dispatched the same day as complex, acknowledged, extended by 3 working
      days: 19 January + 3 = 22 January provisionally; officially 18 + 3 = 21 January;
    * ``waiting``: sent Monday 4 January, not dispatched yet: the firm was promised 11 January
      (5 working days from the intake deadline); officially 9 January;
    * ``closed``: answered at once on 31 December and rated on 4 January: its follow-up
      deadline (5 January) was provisional and met; it stays as it was.
    """
    from app.tickets.models import DemandType

    at(2026, 12, 28, 10, 0)
    tickets = {}
    for name, complex_ in (("help", False), ("complex", True)):
        ticket = make.ticket(actor=cast.firm_user, demand_type=DemandType.HELP)
        transition(ticket, "dispatch", cast.dispatcher, lead_unit=cast.unit,
                   is_complex=complex_)
        transition(ticket, "acknowledge", cast.handler)
        tickets[name] = ticket
    at(2026, 12, 29, 9, 0)
    ticket = tickets["complex"]
    transition(ticket, "request_extension", cast.handler, days=3, reason="跨年核查")
    transition(ticket, "endorse_extension", cast.lead)
    transition(ticket, "approve_extension", cast.supervisor)
    at(2026, 12, 31, 10, 0)
    closed = make.ticket(actor=cast.firm_user)
    transition(closed, "answer_directly", cast.dispatcher, answer="已答复。")
    at(2027, 1, 4, 10, 0)
    transition(closed, "rate", cast.firm_user, level=5)
    tickets["closed"] = closed
    tickets["waiting"] = make.ticket(actor=cast.firm_user)
    db.session.commit()
    mail.outbox.clear()
    return tickets


def test_before_publication_the_deadlines_are_provisional(year_end):
    assert year_end["help"].handle_due_at == end_of(2027, 1, 5)
    assert year_end["complex"].handle_due_at == end_of(2027, 1, 22)
    assert year_end["closed"].follow_up_due_at == end_of(2027, 1, 5)
    assert all(t.provisional_deadlines for t in year_end.values())
    assert db.session.scalar(sa.select(sa.func.count()).select_from(WorkCalendarDay).where(
        WorkCalendarDay.source == DaySource.PROVISIONAL)) == 365


def _seed_notice(app, *extra: str):
    return app.test_cli_runner().invoke(
        args=["calendar", "seed", "--year", "2027", "--from-file", str(NOTICE), *extra])


def test_a_dry_run_shows_every_change_and_changes_nothing(app, year_end):
    result = _seed_notice(app, "--dry-run")
    assert result.exit_code == 0, result.output
    complex_, waiting = year_end["complex"], year_end["waiting"]
    assert (f"{complex_.reference}: handle_due_at 2027-01-22 23:59 → 2027-01-21 23:59 "
            f"(firm told: 2027-01-22 23:59 → 2027-01-21 23:59)") in result.output
    assert (f"{waiting.reference}: no change (firm told: 2027-01-11 23:59 → 2027-01-09 23:59)"
            in result.output)
    assert f"{year_end['help'].reference}: no change" in result.output
    assert "3 open tickets recomputed, 1 with deadlines moved, 2 firms told" in result.output
    assert "1 finished tickets keep their deadlines" in result.output
    assert "Dry run: nothing was changed" in result.output
    sla_services._forget_request_values()
    db.session.expire_all()
    assert complex_.handle_due_at == end_of(2027, 1, 22) and complex_.provisional_deadlines
    assert 2027 in sla_services.load_calendar().provisional_years
    assert not events(complex_, "recompute_deadlines") and mail.outbox == []


def test_seeding_the_official_year_recomputes_with_a_trace(app, year_end, cast):
    result = _seed_notice(app)
    assert result.exit_code == 0, result.output
    db.session.expire_all()
    help_, complex_, waiting, closed = (year_end[k] for k in
                                        ("help", "complex", "waiting", "closed"))
    days = sla_services.year_days(2027)
    assert days[datetime(2027, 1, 9).date()].kind == DayKind.MAKEUP_WORKDAY
    assert {d.source for d in days.values()} == {DaySource.GENERATED}
    # the complex ticket: 15 working days from 28 December on the official days, then the
    # extension's 3 working days again
    assert complex_.handle_due_at == end_of(2027, 1, 21)
    assert complex_.due_at == complex_.handle_due_at
    assert help_.handle_due_at == end_of(2027, 1, 5)
    assert waiting.intake_due_at == datetime(2027, 1, 4, 15, 15, tzinfo=BEIJING)
    # the finished ticket keeps its deadline and its met mark
    assert closed.follow_up_due_at == end_of(2027, 1, 5)
    assert events(closed, "rate")[0].data["met"] is True
    assert not events(closed, "recompute_deadlines") + events(closed, "confirm_deadlines")
    assert all(t.provisional_deadlines == 0 for t in year_end.values())
    # one timeline entry and one audit row per open ticket
    [moved] = events(complex_, "recompute_deadlines")
    assert moved.actor_id is None and "2027-01-22 23:59 → 2027-01-21 23:59" in moved.reason
    assert moved.data["moved"]["handle_due_at"][1] == end_of(2027, 1, 21).isoformat()
    assert len(events(help_, "confirm_deadlines")) == 1
    assert len(events(waiting, "recompute_deadlines")) == 1
    assert {a.object_id for a in audits("ticket.recompute_deadlines")} == {
        str(complex_.id), str(waiting.id)}
    assert [a.object_id for a in audits("ticket.confirm_deadlines")] == [str(help_.id)]
    assert audits("calendar.recompute")[-1].details["moved"] == 1
    # the firms whose committed date moved are told, in the app and by e-mail
    # (in the default language of a command without a request)
    told = [m for m in mail.outbox if " → " in m.body]
    assert sorted(m.tags["ticket"] for m in told) == sorted([complex_.reference,
                                                             waiting.reference])
    assert any("2027-01-11 23:59 → 2027-01-09 23:59" in m.body for m in told)
    assert db.session.scalar(sa.select(sa.func.count(Notification.id)).where(
        Notification.recipient_id == cast.firm_user.id,
        Notification.text.like("%→%"))) == 2
    # the firm reads it on its timeline
    page = app.test_client()
    tracking = page.get(f"/track/{waiting.access_token}",
                        headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "recomputed on the official holiday schedule" in tracking
    assert "2027-01-09 23:59" in tracking and 'data-testid="provisional"' not in tracking


def test_the_scan_urges_by_the_recomputed_deadline(app, year_end):
    complex_ = year_end["complex"]
    # complex: urged 3 working days before; provisionally the end of 19 January
    before = run_scan(datetime(2027, 1, 19, 10, 0, tzinfo=BEIJING), commit=False)
    assert before.urged == 0
    db.session.rollback()
    assert _seed_notice(app).exit_code == 0
    # officially 21 January − 3 = the end of 18 January: urged on the 19th
    run_scan(datetime(2027, 1, 19, 10, 0, tzinfo=BEIJING), commit=False)
    assert db.session.scalar(sa.select(sa.func.count(Urge.id)).where(
        Urge.ticket_id == complex_.id)) == 1


def test_an_admin_publishes_the_entered_year_as_a_job(app, client, login_as, year_end, cast):
    at(2027, 1, 5, 9, 0)
    login_as(cast.admin)
    edited = post_form(client, "/admin/calendar/days",
                       {"first_day": "2027-01-09", "last_day": "", "kind": "makeup_workday",
                        "name": "春节", "reason": "国办发明电〔2026〕X号"},
                       token_from="/admin/calendar/days?day=2027-01-09")
    assert edited.status_code == 302
    page = client.get("/admin/calendar?year=2027").get_data(as_text=True)
    assert 'data-testid="publish-form"' in page
    assert "3 open tickets have provisional deadlines" in page
    response = post_form(client, "/admin/calendar/publish",
                         {"year": "2027", "reason": "国办发明电〔2026〕X号"},
                         token_from="/admin/calendar?year=2027")
    assert response.status_code == 302 and "/admin/jobs/" in response.headers["Location"]
    from app.jobs.models import Job, JobState

    job = db.session.scalars(sa.select(Job).where(Job.kind == "sla.publish_year")).one()
    db.session.refresh(job)
    assert job.state == JobState.SUCCEEDED, job.error
    # the waiting ticket's promise already followed the edit of 9 January (counted live);
    # the complex ticket's stored deadline moves at the publication
    assert job.result == {"year": 2027, "days": 364, "tickets": 3, "moved": 1,
                          "firms_told": 1, "facts": 0}
    db.session.expire_all()
    assert year_end["complex"].handle_due_at == end_of(2027, 1, 21)
    assert year_end["complex"].provisional_deadlines == 0
    assert audits("calendar.publish_year")[-1].actor_id == cast.admin.id
    assert 'data-testid="calendar-provisional"' not in client.get(
        "/admin/calendar?year=2027").get_data(as_text=True)


def test_an_admin_edit_of_a_past_day_rewrites_the_report_facts(client, login_as, make, cast):
    at(2026, 12, 28, 10, 0)
    ticket = make.ticket(actor=cast.firm_user)
    transition(ticket, "dispatch", cast.dispatcher, lead_unit=cast.unit)
    transition(ticket, "acknowledge", cast.handler)
    at(2027, 1, 4, 10, 0)
    transition(ticket, "reply", cast.handler, text="已办结。")
    db.session.commit()

    def handling_days() -> int:
        return db.session.scalar(sa.select(ReportFact.v).where(
            ReportFact.ticket_id == ticket.id, ReportFact.fact == "handling"))

    assert handling_days() == 4                        # 29, 30, 31 December, 4 January
    login_as(cast.admin)
    response = post_form(client, "/admin/calendar/days",
                         {"first_day": "2026-12-30", "last_day": "", "kind": "holiday",
                          "name": "停电", "reason": "全市停电，机关停止办公"},
                         token_from="/admin/calendar/days?day=2026-12-30")
    assert response.status_code == 302
    assert handling_days() == 3                        # without a by-hand rebuild


def test_publishing_twice_or_a_year_without_provisional_days_is_refused(make, cast, year_end):
    from app.core.errors import ValidationFailed

    sla_services.publish_year(2027, "国办发明电〔2026〕X号", cast.admin)
    with pytest.raises(ValidationFailed):
        sla_services.publish_year(2027, "again", cast.admin)
    with pytest.raises(ValidationFailed):
        sla_services.publish_year(2026, "official already", cast.admin)


def test_a_notice_file_with_a_wrong_line_is_refused_whole(app, year_end, tmp_path):
    bad = tmp_path / "notice.csv"
    bad.write_text("2027-01-01,holiday,元旦\n2027-01-06,makeup_workday,春节\n", encoding="utf-8")
    result = app.test_cli_runner().invoke(
        args=["calendar", "seed", "--year", "2027", "--from-file", str(bad)])
    assert result.exit_code != 0 and "2027-01-06" in result.output
    db.session.expire_all()
    assert year_end["complex"].provisional_deadlines


def test_counting_again_on_the_same_days_gives_the_stored_deadline(make, cast):
    """The replay of a handling deadline (limit, suspension given back, extension) is what
    the services stored, so a publication that changes no day moves nothing."""
    from app.tickets import deadlines
    from app.tickets.provisional import _history, counted_again

    at(2026, 12, 21, 10, 0)
    ticket = make.ticket(actor=cast.firm_user)
    transition(ticket, "dispatch", cast.dispatcher, lead_unit=cast.unit, is_complex=True)
    transition(ticket, "acknowledge", cast.handler)
    at(2026, 12, 23, 11, 0)
    transition(ticket, "suspend", cast.handler, missing_info="营业执照",
               contact_attempt="电话联系")
    at(2027, 1, 5, 9, 0)
    transition(ticket, "resume", cast.handler)
    transition(ticket, "request_extension", cast.handler, days=2, reason="核查")
    transition(ticket, "endorse_extension", cast.lead)
    transition(ticket, "approve_extension", cast.supervisor)
    db.session.flush()
    history = _history([ticket.id]).get(ticket.id, [])
    assert counted_again(ticket, "handle_due_at", deadlines.for_ticket(ticket),
                         history) == ticket.handle_due_at
    assert ticket.is_provisional("handle_due_at")
