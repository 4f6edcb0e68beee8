"""What one public submission writes, and how many statements it takes (so the cost of the
busiest public route cannot creep back: bench/RESULTS.md "Public portal")."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.core.audit import AuditEvent
from app.extensions import db
from app.reports.models import ReportFact
from app.sla.models import SlaSettings
from app.tickets.models import Category, Ticket, TicketEvent, TicketStatus
from tests.helpers import count_queries, csrf_token
from tests.portal.conftest import USCC_A, request_data


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


def _warm_post(client, app, **overrides):
    """A submission by a worker that has served one already (its kept configuration and
    category list filled, as in production)."""
    app.config["PORTAL_CHOICES_TTL"] = 3600
    try:
        _post(client, title="预热")
        return _post(client, **overrides)
    finally:
        app.config["PORTAL_CHOICES_TTL"] = 0


def _writes(counted) -> list[str]:
    """The statements of the submission's transaction (the outbox's delivery, run at once by
    the engine's immediate mode after the commit, is a consumer's work: not counted)."""
    return [" ".join(s.split()) for s in counted.statements
            if not ("outbox_messages" in s and not s.startswith("INSERT"))]


def test_a_submission_is_four_inserts_and_reads_nothing(client, app, make):
    """The reference counter, the ticket (its registry firm found by the INSERT itself, the
    kept SLA configuration and the category checked in its WHERE), the event and the audit row:
    and the outbox's one multi-row INSERT of the confirmation e-mail: five statements inside
    the transaction, none of them a read.
    The commit is not a statement here (the tests' outer transaction); a server adds BEGIN and
    COMMIT around them. The report facts come from their job (next test)."""
    firm = make.firm(uscc=USCC_A)
    category = make.category()
    counted = _warm_post(client, app, title="计数", category=str(category.id))
    writes = _writes(counted)
    assert [w.split(" (")[0] for w in writes] == [
        "INSERT INTO ticket_reference_counters", "INSERT INTO tickets",
        "INSERT INTO ticket_events", "INSERT INTO audit_events",
        "INSERT INTO outbox_messages"], "\n".join(writes)
    assert len(writes) <= 5
    ticket = db.session.scalar(sa.select(Ticket).where(Ticket.title == "计数"))
    assert (ticket.firm_id, ticket.category_id) == (firm.id, category.id)


def test_the_facts_of_a_submission_are_written_by_their_job_without_deleting_first(client):
    """The submission writes no report facts; the job ``reports.new_facts`` finds the tickets
    without any and writes them (inserted as new: no DELETE), and a second run finds none."""
    from app.reports import facts

    counted = _post(client, title="新事实")
    assert not [s for s in counted.statements if "report_" in s]
    ticket = db.session.scalar(sa.select(Ticket).where(Ticket.title == "新事实"))
    assert db.session.scalars(sa.select(ReportFact.fact).where(
        ReportFact.ticket_id == ticket.id)).all() == []
    with count_queries() as job:
        assert facts.write_new_tickets_facts(db.session) >= 1
    assert not any(s.lstrip().upper().startswith("DELETE") for s in job.statements)
    assert db.session.scalars(sa.select(ReportFact.fact).where(
        ReportFact.ticket_id == ticket.id)).all() == ["intake"]
    assert facts.write_new_tickets_facts(db.session) == 0


def test_a_calendar_changed_by_another_worker_is_read_before_the_ticket_is_stored(client, app):
    """Another worker's edit changes the stored revision without this worker hearing of it:
    the ticket's INSERT, checking the revisions its deadline was computed with, stores
    nothing, and the deadline is computed again from the stored configuration."""
    from app.sla import services as sla

    _warm_post(client, app, title="先")
    db.session.execute(sa.update(SlaSettings).values(policy_revision="edited-elsewhere"))
    counted = _post(client, title="后")
    assert any(w.startswith("SELECT sla_settings") for w in _writes(counted))
    assert sla.assume_known_settings()["sla_policy_revision"] == "edited-elsewhere"
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Ticket).where(
        Ticket.title == "后")) == 1


def test_a_category_retired_after_the_form_was_shown_is_refused(client, app, make):
    """The list a worker keeps still offers it; the INSERT's check refuses it and the
    requester is told to choose again. Nothing is stored."""
    category = make.category()
    _warm_post(client, app, title="先")
    db.session.execute(sa.update(Category).where(Category.id == category.id)
                       .values(is_active=False))
    app.config["PORTAL_CHOICES_TTL"] = 3600
    try:
        payload = {**request_data(title="停用类别", category=str(category.id)),
                   "csrf_token": csrf_token(client, "/request")}
        response = client.post("/request", data=payload)
    finally:
        app.config["PORTAL_CHOICES_TTL"] = 0
    assert response.status_code == 400
    assert "Choose one of the listed categories." in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Ticket).where(
        Ticket.title == "停用类别")) == 0


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
