"""In-app notifications: written with the change, only for the right people, read by their owner."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from app.core import mail
from app.extensions import db
from app.notifications.models import Notification
from app.tickets import services
from app.tickets.models import TicketStatus
from tests.helpers import post_form


def _recipients() -> set[int]:
    return set(db.session.scalars(sa.select(Notification.recipient_id)))


def test_dispatch_notifies_the_lead_units_handlers_and_no_other_unit(cast, ticket_in):
    ticket = ticket_in(TicketStatus.DISPATCHED)

    assert _recipients() == {cast.handler.id, cast.lead.id}
    note = db.session.scalars(sa.select(Notification)
                              .where(Notification.recipient_id == cast.handler.id)).one()
    assert ticket.reference in note.subject
    assert note.link == f"/tickets/{ticket.reference}"
    assert note.read_at is None


def test_rolled_back_dispatch_notifies_nobody(cast, make):
    ticket = make.ticket(actor=cast.firm_user)
    services.transition(ticket, "dispatch", cast.dispatcher, lead_unit=cast.unit)
    assert _recipients() == {cast.handler.id, cast.lead.id}

    db.session.rollback()

    assert _recipients() == set()
    assert mail.outbox == []


def test_dispatch_mails_the_same_handlers_one_message_each(cast, ticket_in):
    ticket_in(TicketStatus.DISPATCHED)

    mailed = [m.to for m in mail.outbox]
    assert ("handler@example.com",) in mailed and ("lead@example.com",) in mailed


def test_list_shows_only_the_users_own_notifications(client, login_as, make, cast):
    make.notification(cast.handler, subject="给经办人的通知")
    make.notification(cast.stranger, subject="给别人的通知")

    body = login_as(cast.handler).get("/notifications/").get_data(as_text=True)

    assert "给经办人的通知" in body
    assert "给别人的通知" not in body


def test_list_shows_unread_before_read(client, login_as, make, cast, frozen_clock):
    old_unread = make.notification(cast.handler, subject="较早未读")
    frozen_clock.advance(timedelta(minutes=5))
    make.notification(cast.handler, subject="较新已读").read_at = frozen_clock.now_utc()
    db.session.commit()

    body = login_as(cast.handler).get("/notifications/").get_data(as_text=True)

    assert body.index(old_unread.subject) < body.index("较新已读")


def test_empty_list_says_so(client, login_as, cast):
    body = login_as(cast.handler).get("/notifications/").get_data(as_text=True)

    assert "No notifications." in body


def test_mark_one_read(client, login_as, make, cast):
    note = make.notification(cast.handler)
    login_as(cast.handler)

    response = post_form(client, f"/notifications/{note.id}/read", token_from="/notifications/")

    assert response.status_code == 302
    db.session.refresh(note)
    assert note.read_at is not None


def test_mark_read_is_post_only_and_needs_csrf(client, login_as, make, cast):
    note = make.notification(cast.handler)
    login_as(cast.handler)

    assert client.get(f"/notifications/{note.id}/read").status_code == 405
    client.post(f"/notifications/{note.id}/read", data={})
    db.session.refresh(note)
    assert note.read_at is None


def test_cannot_mark_another_users_notification(client, login_as, make, cast):
    note = make.notification(cast.stranger)
    login_as(cast.handler)

    response = post_form(client, f"/notifications/{note.id}/read", token_from="/notifications/")

    assert response.status_code == 404
    db.session.refresh(note)
    assert note.read_at is None


def test_mark_all_read_touches_only_own(client, login_as, make, cast):
    mine = [make.notification(cast.handler), make.notification(cast.handler)]
    theirs = make.notification(cast.stranger)
    login_as(cast.handler)

    post_form(client, "/notifications/read-all", token_from="/notifications/")

    for note in [*mine, theirs]:
        db.session.refresh(note)
    assert all(note.read_at is not None for note in mine)
    assert theirs.read_at is None


def test_badge_shows_the_unread_count(client, login_as, make, cast):
    make.notification(cast.handler)
    make.notification(cast.handler)
    read = make.notification(cast.handler)
    read.read_at = read.created_at
    make.notification(cast.stranger)
    db.session.commit()

    body = login_as(cast.handler).get("/notifications/").get_data(as_text=True)

    assert 'data-testid="unread-badge">2<' in body


def test_badge_hidden_when_nothing_unread_and_for_anonymous(client, login_as, cast):
    assert "unread-badge" not in client.get("/").get_data(as_text=True)
    body = login_as(cast.handler).get("/notifications/").get_data(as_text=True)
    assert "unread-badge" not in body
