"""What one public submission writes, and how many statements it takes (so the cost of the
busiest public route cannot creep back: bench/RESULTS.md "Public portal")."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.core.audit import AuditEvent
from app.extensions import db
from app.reports.models import ReportFact
from app.tickets.models import Ticket, TicketEvent, TicketStatus
from tests.helpers import count_queries, csrf_token
from tests.portal.conftest import request_data


def _post(client, **overrides):
    payload = {**request_data(**overrides), "csrf_token": csrf_token(client, "/request")}
    with count_queries() as counted:
        response = client.post("/request", data=payload,
                               environ_base={"REMOTE_ADDR": "10.1.2.3",
                                             "HTTP_USER_AGENT": "bench-agent/1"})
    assert response.status_code == 302
    return counted


def test_a_submission_writes_its_event_and_audit_row(client, frozen_clock):
    _post(client, title="事件与审计")
    ticket = db.session.scalar(sa.select(Ticket).where(Ticket.title == "事件与审计"))
    event = db.session.scalar(sa.select(TicketEvent).where(TicketEvent.ticket_id == ticket.id))
    assert (event.action, event.from_status, event.to_status) == (
        "create", None, TicketStatus.SUBMITTED)
    assert event.actor_id is None and event.actor_name is None and event.actor_role is None
    assert event.ip == "10.1.2.3" and event.at == ticket.submitted_at
    assert event.data == {"channel": "web",
                          "intake_due_at": ticket.intake_due_at.isoformat()}
    row = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "ticket.create",
                                                        AuditEvent.object_id == str(ticket.id)))
    assert (row.object_type, row.success, row.actor_id, row.actor_name) == (
        "tickets", True, None, None)
    assert row.details == {"reference": ticket.reference}
    assert (row.ip, row.user_agent) == ("10.1.2.3", "bench-agent/1")
    assert row.at == ticket.submitted_at


def test_a_submission_takes_seven_statements_besides_the_report_facts(client, app):
    """Firm by USCC, SLA settings (with the cache revisions), the reference counter, and four
    inserts: ticket, event, audit row, and the confirmation's outbox rows (one multi-row
    INSERT; their delivery is a consumer's work, here run at once by the engine's immediate
    mode, and not counted). Before the commit the reports module rewrites the
    ticket's stored facts (app/reports/facts.py, statements on ``report_*`` tables, counted by
    its own tests). The commit is not a statement here (the tests' outer transaction); under
    a server it adds BEGIN and COMMIT."""
    app.config["PORTAL_CHOICES_TTL"] = 3600  # a production worker keeps the category list
    try:
        _post(client, title="预热")  # the first request of a worker fills its caches
        counted = _post(client, title="计数")
    finally:
        app.config["PORTAL_CHOICES_TTL"] = 0
    own = [s for s in counted.statements if "report_" not in s and "workday_index" not in s
           and not ("outbox_messages" in s and not s.startswith("INSERT"))]
    assert len(own) == 7, "\n".join(s[:150] for s in own)


def test_a_submission_never_flushes_the_unit_of_work(client):
    """The ticket, its event and the audit row are plain inserts (``app.db.insert_row``): the
    unit of work's flush of the one ticket cost more CPU than all the statements together."""
    flushes = []
    record = lambda session, _context, _objects: flushes.append(set(session.new))  # noqa: E731
    sa.event.listen(Session, "before_flush", record)
    try:
        _post(client, title="不刷新")
    finally:
        sa.event.remove(Session, "before_flush", record)
    assert flushes == []
    ticket = db.session.scalar(sa.select(Ticket).where(Ticket.title == "不刷新"))
    assert ticket.version == 1 and ticket.access_token and ticket.created_at


def test_a_submission_writes_the_new_tickets_facts_without_deleting_first(client):
    """A ticket inserted in the transaction has no stored facts yet: the refresh before the
    commit inserts them and adds them to the daily sums, without a DELETE."""
    counted = _post(client, title="新事实")
    facts = [s for s in counted.statements if "report_" in s]
    assert not any(s.lstrip().upper().startswith("DELETE") for s in facts), facts
    ticket = db.session.scalar(sa.select(Ticket).where(Ticket.title == "新事实"))
    stored = db.session.scalars(sa.select(ReportFact.fact).where(
        ReportFact.ticket_id == ticket.id)).all()
    assert stored == ["intake"]
