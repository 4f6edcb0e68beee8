"""The outbox (issue 13): written with its cause, delivered by the job engine, retried with
backoff, never sent twice, and nothing lost to a gateway outage — against a real SMTP server
on loopback."""

from __future__ import annotations

from datetime import timedelta
from itertools import pairwise

import pytest
import sqlalchemy as sa
from sqlalchemy import event

from app.core import mail
from app.core.audit import AuditEvent
from app.extensions import db
from app.jobs.schedules import fire
from app.notifications import delivery, outbox
from app.notifications.channels import PermanentFailure, register_channel
from app.notifications.models import OutboxMessage, OutboxState
from app.notifications.services import notify_all
from tests.helpers import post_form
from tests.notifications.servers import SmtpServer, free_port


@pytest.fixture
def smtp(app):
    """A real SMTP server on loopback (not started: a test starts and stops it), and the
    application mailing it."""
    server = SmtpServer(free_port())
    saved = {k: app.config[k] for k in ("MAIL_BACKEND", "MAIL_SERVER", "MAIL_PORT")}
    app.config.update(MAIL_BACKEND="smtp", MAIL_SERVER="127.0.0.1", MAIL_PORT=server.port)
    yield server
    server.stop()
    app.config.update(saved)


def _rows() -> list[OutboxMessage]:
    db.session.expire_all()
    return list(db.session.scalars(sa.select(OutboxMessage).order_by(OutboxMessage.id)))


def _sweep(clock, minutes: float) -> None:
    """Let time pass, then the periodic sweep runs (through the engine, as its schedule asks)."""
    clock.freeze(clock.now_utc() + timedelta(minutes=minutes))
    assert fire("notifications.sweep") is not None


def _queue(addresses) -> None:
    for n, address in enumerate(addresses):
        outbox.put("email", address, subject=f"Subject {n}", body=f"Body {n}")
    db.session.commit()


# -- written with its cause ---------------------------------------------------------------------

def test_a_rolled_back_change_leaves_no_outbox_row_and_sends_nothing(cast, make):
    notify_all([cast.handler, cast.lead], "A change", "that will be undone")
    assert len(outbox.pending("email")) == 2

    db.session.rollback()

    assert _rows() == []
    assert mail.outbox == []


def test_a_committed_change_writes_one_row_per_recipient_in_one_insert(cast, make):
    statements = []

    def seen(conn, cursor, statement, *args):
        if "outbox_messages" in statement and statement.lstrip().upper().startswith("INSERT"):
            statements.append(statement)

    third = make.user(email="third@example.com")
    event.listen(db.engine, "before_cursor_execute", seen)
    try:
        notify_all([cast.handler, cast.lead, third], "Three people", "one statement")
        db.session.commit()
    finally:
        event.remove(db.engine, "before_cursor_execute", seen)

    assert len(statements) == 1
    rows = _rows()
    assert {r.address for r in rows} == {cast.handler.email, cast.lead.email, third.email}
    assert {r.recipient_id for r in rows} == {cast.handler.id, cast.lead.id, third.id}
    # immediate mode: the engine delivered them after the commit (capture backend)
    assert all(r.state == OutboxState.SENT and r.attempts == 1 for r in rows)
    assert sorted(m.to for m in mail.outbox) == sorted((r.address,) for r in rows)


# -- a dead gateway, then recovery: exactly one delivery each -------------------------------------

def test_a_dead_smtp_server_loses_nothing_and_each_message_arrives_once(smtp, frozen_clock):
    addresses = [f"firm{n}@example.com" for n in range(5)]
    _queue(addresses)  # the server is down: the first try fails for all
    assert {(r.state, r.attempts) for r in _rows()} == {(OutboxState.PENDING, 1)}
    assert all("ConnectionRefusedError" in r.last_error for r in _rows())

    _sweep(frozen_clock, 1.5)  # still down: the second try fails too
    assert {r.attempts for r in _rows()} == {2}

    smtp.start()
    _sweep(frozen_clock, 1)  # not due yet (5 minutes after the 2nd try): nothing is sent
    assert smtp.received == []
    _sweep(frozen_clock, 5)
    _sweep(frozen_clock, 10)  # and again: nothing twice

    assert sorted(r for r, _s, _b in smtp.received) == sorted(addresses)
    assert {(r.state, r.attempts) for r in _rows()} == {(OutboxState.SENT, 3)}
    assert {(rcpt, subject) for rcpt, subject, _b in smtp.received} == {
        (a, f"Subject {n}") for n, a in enumerate(addresses)}


def test_failures_back_off_over_about_an_hour_then_fail_for_admins(smtp, frozen_clock, app):
    start = frozen_clock.now_utc()
    _queue(["late@example.com"])
    tries = [start]
    for _ in range(4):
        due = _rows()[0].next_attempt_at
        frozen_clock.freeze(due)
        assert fire("notifications.sweep") is not None
        tries.append(due)

    gaps = [(b - a).total_seconds() for a, b in pairwise(tries)]
    assert gaps == [60, 300, 900, 2400] == list(app.config["OUTBOX_RETRY_DELAYS"])
    row = _rows()[0]
    assert (row.state, row.attempts) == (OutboxState.FAILED, 5)
    assert 60 <= (tries[-1] - start).total_seconds() / 60 <= 62  # five tries over about an hour
    _sweep(frozen_clock, 60)  # failed stays failed: no sixth try by itself
    assert _rows()[0].attempts == 5


def test_admin_sees_the_failed_message_and_sends_it_again(smtp, frozen_clock, login_as, cast,
                                                          make):
    app_admin = make.user(role="admin", username="outbox-admin")
    _queue(["late@example.com"])
    for _ in range(4):
        frozen_clock.freeze(_rows()[0].next_attempt_at)
        fire("notifications.sweep")
    row = _rows()[0]
    assert row.state == OutboxState.FAILED

    client = login_as(app_admin)
    page = client.get("/admin/outbox/").get_data(as_text=True)
    assert "la***@example.com" in page and "ConnectionRefusedError" in page
    assert "late@example.com" not in page  # personal data masked

    smtp.start()
    response = post_form(client, f"/admin/outbox/{row.id}/retry", token_from="/admin/outbox/")
    assert response.status_code == 302
    assert [r for r, _s, _b in smtp.received] == ["late@example.com"]
    assert _rows()[0].state == OutboxState.SENT
    assert db.session.scalar(sa.select(sa.func.count(AuditEvent.id)).where(
        AuditEvent.action == "outbox.retry", AuditEvent.actor_id == app_admin.id)) == 1


def test_people_without_the_permission_cannot_see_or_retry(login_as, cast):
    client = login_as(cast.dispatcher)
    assert client.get("/admin/outbox/").status_code == 403


# -- never twice ---------------------------------------------------------------------------------

def test_two_consumers_never_send_one_row_twice(cast, monkeypatch):
    """Consumer B runs at the worst moment — while A has claimed the rows and is sending them —
    and again after A recorded the first one: the conditional claim leaves it nothing."""
    sent, during = [], []

    def deliver(delivery_, _connection):
        sent.append(delivery_.id)
        if len(sent) == 1:
            during.append(delivery.deliver(ids))  # consumer B, meanwhile

    register_channel("tests.twice", deliver)
    for n in range(3):
        outbox.put("tests.twice", f"target-{n}", subject="x")
    # written without the immediate delivery, as by a web server whose job store is down
    monkeypatch.setattr(delivery, "dispatch", lambda ids_: None)
    db.session.commit()
    monkeypatch.undo()
    ids = [r.id for r in _rows()]

    outcome = delivery.deliver(ids)  # consumer A
    again = delivery.deliver(ids)  # a message delivered twice by the store

    assert sorted(sent) == ids
    assert during == [{"sent": 0, "retrying": 0, "failed": 0}]
    assert outcome["sent"] == 3 and again["sent"] == 0


def test_the_sweep_does_not_take_back_a_fresh_claim_but_recovers_an_abandoned_one(
        frozen_clock, app, monkeypatch):
    register_channel("tests.record", lambda d, c: None)
    outbox.put("tests.record", "somewhere", subject="x")
    monkeypatch.setattr(delivery, "dispatch", lambda ids_: None)
    db.session.commit()
    row = _rows()[0]
    delivery._claim([row.id], "a" * 32, frozen_clock.now_utc())  # a consumer, then killed
    _sweep(frozen_clock, 1)
    assert _rows()[0].state == OutboxState.SENDING  # still its consumer's
    monkeypatch.undo()
    _sweep(frozen_clock, app.config["OUTBOX_CLAIM_SECONDS"] / 60 + 1)
    row = _rows()[0]  # given back and sent by the same sweep
    assert (row.state, row.attempts) == (OutboxState.SENT, 2)


def test_a_permanent_failure_is_not_retried(frozen_clock):
    def refuse(_delivery, _connection):
        raise PermanentFailure("no such number")

    register_channel("tests.refuse", refuse)
    outbox.put("tests.refuse", "000", subject="x")
    db.session.commit()

    row = _rows()[0]
    assert (row.state, row.attempts) == (OutboxState.FAILED, 1)
    assert "no such number" in row.last_error


def test_an_unknown_channel_fails_for_admins_instead_of_retrying():
    outbox.put("tests.nowhere", "x", subject="x")
    db.session.commit()

    row = _rows()[0]
    assert row.state == OutboxState.FAILED and "unknown channel" in row.last_error
