"""The ticket endpoints: the same rules as the pages — who sees what, what may be done — with
cursor pagination, ETag / If-Match and Idempotency-Key."""

from __future__ import annotations

import sqlalchemy as sa

from app.api.models import IdempotencyKey, TicketLink
from app.core.audit import AuditEvent
from app.core.permissions import Role
from app.extensions import db
from app.tickets.models import Channel, Ticket, TicketStatus
from tests.helpers import count_queries

S = TicketStatus
NEW = {"title": "用工招聘困难", "description": "企业反映普工招聘困难，希望协调专场招聘会。",
       "demand_type": "help", "requester": {"name": "王先生", "mobile": "13812345678"}}


def test_a_firm_token_never_reads_another_firms_ticket(api, make, cast, ticket_in, token_for):
    own = ticket_in(S.IN_PROGRESS)
    other_firm_user = make.user(Role.FIRM_USER)
    other = make.ticket(actor=other_firm_user)
    headers = token_for(cast.firm_user)
    listed = {item["reference"] for item in api.get("/api/v1/tickets", headers=headers)
              .json["items"]}
    assert own.reference in listed and other.reference not in listed
    assert api.get(f"/api/v1/tickets/{own.reference}", headers=headers).status_code == 200
    for path in ("", "/timeline", "/actions", "/attachments"):
        response = api.get(f"/api/v1/tickets/{other.reference}{path}", headers=headers)
        assert response.status_code == 404, path
        assert response.mimetype == "application/problem+json"


def test_a_unit_client_never_reads_another_units_ticket(api, cast, ticket_in, client_token):
    ours = ticket_in(S.IN_PROGRESS)  # led by cast.unit
    _client, headers = client_token(cast.other_unit)
    assert ours.reference not in {i["reference"] for i in
                                  api.get("/api/v1/tickets", headers=headers).json["items"]}
    assert api.get(f"/api/v1/tickets/{ours.reference}", headers=headers).status_code == 404
    _client, ours_headers = client_token(cast.unit, name="本单位系统")
    assert api.get(f"/api/v1/tickets/{ours.reference}", headers=ours_headers).status_code \
        == 200


def test_list_and_detail_agree_for_every_role(api, cast, ticket_in, token_for):
    tickets = [ticket_in(state) for state in (S.SUBMITTED, S.IN_PROGRESS, S.CLOSED)]
    for who in ("handler", "lead", "stranger", "dispatcher", "supervisor", "firm_user"):
        headers = token_for(getattr(cast, who))
        listed = {i["reference"] for i in api.get("/api/v1/tickets?limit=100",
                                                  headers=headers).json["items"]}
        for ticket in tickets:
            status = api.get(f"/api/v1/tickets/{ticket.reference}", headers=headers).status_code
            assert (ticket.reference in listed) == (status == 200), (who, ticket.status)


def test_the_queue_pages_by_cursor_without_gaps_or_repeats(api, cast, ticket_in, token_for):
    made = {ticket_in(S.SUBMITTED).reference for _ in range(7)}
    headers = token_for(cast.dispatcher)
    for sort in ("due", "newest"):
        seen, cursor = [], None
        while True:
            query = f"/api/v1/tickets?limit=3&sort={sort}" + (f"&cursor={cursor}" if cursor
                                                               else "")
            page = api.get(query, headers=headers).json
            seen += [item["reference"] for item in page["items"]]
            cursor = page["next_cursor"]
            if cursor is None:
                break
        assert len(seen) == len(set(seen)) and made <= set(seen), sort


def test_the_queue_filters_are_the_web_queues(api, cast, ticket_in, token_for):
    submitted, in_progress = ticket_in(S.SUBMITTED), ticket_in(S.IN_PROGRESS)
    headers = token_for(cast.dispatcher)

    def refs(query):
        return {i["reference"] for i in api.get(f"/api/v1/tickets?{query}",
                                                headers=headers).json["items"]}

    assert submitted.reference in refs("queue=intake")
    assert in_progress.reference not in refs("queue=intake")
    assert refs(f"status=in_progress&unit={cast.unit.id}") >= {in_progress.reference}
    assert submitted.reference not in refs(f"unit={cast.unit.id}")
    assert refs(f"q={in_progress.reference}") == {in_progress.reference}
    bad = api.get("/api/v1/tickets?status=nonsense", headers=headers)
    assert bad.status_code == 422 and bad.mimetype == "application/problem+json"
    assert any(e["pointer"].endswith("status") for e in bad.json["errors"])
    assert api.get("/api/v1/tickets?cursor=%%%", headers=headers).status_code == 422


def test_a_handlers_queue_is_a_constant_number_of_statements(api, cast, ticket_in, token_for):
    headers = token_for(cast.handler)
    ticket_in(S.IN_PROGRESS)
    api.get("/api/v1/tickets", headers=headers)  # the token's first use is recorded once

    def statements():
        with count_queries() as counted:
            assert api.get("/api/v1/tickets?limit=25", headers=headers).status_code == 200
        return counted.count

    few = statements()
    for _ in range(30):
        ticket_in(S.IN_PROGRESS)
    assert statements() == few <= 5


def test_create_records_a_ticket_with_location_and_etag(api, cast, token_for):
    response = api.post("/api/v1/tickets", json=NEW, headers=token_for(cast.dispatcher))
    assert response.status_code == 201, response.json
    ticket = db.session.scalar(sa.select(Ticket).where(
        Ticket.reference == response.json["reference"]))
    assert ticket.channel == Channel.PHONE and ticket.status == S.SUBMITTED
    assert response.headers["Location"].endswith(f"/api/v1/tickets/{ticket.reference}")
    assert response.headers["ETag"] == f'"ticket-{ticket.id}-v{ticket.version}"'
    assert ticket.intake_due_at is not None  # the same SLA as any ticket
    assert db.session.scalar(sa.select(AuditEvent.id).where(
        AuditEvent.action == "ticket.create", AuditEvent.object_id == str(ticket.id)))


def test_a_firm_creates_a_portal_ticket_of_its_own_firm(api, cast, token_for):
    response = api.post("/api/v1/tickets", headers=token_for(cast.firm_user), json={
        "title": "融资需求", "description": "希望了解贴息政策。", "demand_type": "consult",
        "firm_id": cast.firm_user.firm_id})
    assert response.status_code == 201, response.json
    assert response.json["channel"] == "portal"
    assert response.json["firm"]["id"] == cast.firm_user.firm_id


def test_invalid_data_names_the_field(api, cast, token_for):
    headers = token_for(cast.dispatcher)
    response = api.post("/api/v1/tickets", headers=headers,
                        json={**NEW, "title": "   ", "demand_type": "x"})
    assert response.status_code == 422
    pointers = {e["pointer"] for e in response.json["errors"]}
    assert {"/title", "/demand_type"} <= pointers
    no_contact = api.post("/api/v1/tickets", headers=headers,
                          json={**NEW, "requester": {"name": "王先生"}})
    assert no_contact.status_code == 422
    assert no_contact.json["errors"][0]["pointer"] == "/requester"
    assert api.post("/api/v1/tickets", headers=headers,
                    json={**NEW, "category_id": 999999}).status_code == 404


def test_a_retried_create_returns_the_first_ticket(api, cast, token_for):
    headers = {**token_for(cast.dispatcher), "Idempotency-Key": "bridge-42"}
    first = api.post("/api/v1/tickets", json=NEW, headers=headers)
    again = api.post("/api/v1/tickets", json=NEW, headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.json == first.json and again.headers["Location"] == first.headers["Location"]
    assert again.headers["Idempotent-Replayed"] == "true"
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Ticket).where(
        Ticket.title == NEW["title"])) == 1
    other = api.post("/api/v1/tickets", json={**NEW, "title": "另一件事"}, headers=headers)
    assert other.status_code == 409 and other.json["type"].endswith("idempotency-key-reused")


def test_idempotency_keys_belong_to_their_user(api, cast, token_for):
    first = api.post("/api/v1/tickets", json=NEW,
                     headers={**token_for(cast.dispatcher), "Idempotency-Key": "k1"})
    second = api.post("/api/v1/tickets", json=NEW,
                      headers={**token_for(cast.handler), "Idempotency-Key": "k1"})
    assert second.status_code == 201 and second.json["reference"] != first.json["reference"]


def test_a_refused_write_stores_no_key_and_nothing_else(api, cast, token_for):
    headers = {**token_for(cast.dispatcher), "Idempotency-Key": "k-refused"}
    assert api.post("/api/v1/tickets", json={**NEW, "requester": {"name": "x"}},
                    headers=headers).status_code == 422
    assert db.session.scalar(sa.select(IdempotencyKey.id).where(
        IdempotencyKey.key == "k-refused")) is None


def _act(api, headers, ticket, action, etag=None, **data):
    extra = {"If-Match": etag} if etag is not None else {}
    return api.post(f"/api/v1/tickets/{ticket.reference}/actions/{action}", json=data,
                    headers={**headers, **extra})


def test_an_action_needs_the_current_etag(api, cast, ticket_in, token_for):
    ticket = ticket_in(S.SUBMITTED)
    headers = token_for(cast.dispatcher)
    read = api.get(f"/api/v1/tickets/{ticket.reference}", headers=headers)
    etag = read.headers["ETag"]
    assert "dispatch" in {a["name"] for a in read.json["actions"]}
    missing = _act(api, headers, ticket, "dispatch", lead_unit_id=cast.unit.id)
    assert missing.status_code == 428
    done = _act(api, headers, ticket, "dispatch", etag, lead_unit_id=cast.unit.id)
    assert done.status_code == 200, done.json
    assert done.json["status"] == "dispatched" and done.headers["ETag"] != etag
    stale = _act(api, headers, ticket, "urge", etag)
    assert stale.status_code == 412 and stale.mimetype == "application/problem+json"
    assert _act(api, headers, ticket, "urge", done.headers["ETag"]).status_code == 200


def test_actions_follow_the_workflow_table(api, cast, ticket_in, token_for):
    ticket = ticket_in(S.DISPATCHED)
    handler, stranger = token_for(cast.handler), token_for(cast.stranger)
    etag = api.get(f"/api/v1/tickets/{ticket.reference}", headers=handler).headers["ETag"]
    assert {a["name"] for a in api.get(f"/api/v1/tickets/{ticket.reference}/actions",
                                       headers=handler).json} >= {"acknowledge"}
    assert _act(api, stranger, ticket, "acknowledge", etag).status_code == 404
    refused = _act(api, handler, ticket, "approve_reply", etag)
    assert refused.status_code == 403
    wrong_state = _act(api, token_for(cast.dispatcher), ticket, "answer_directly", etag,
                       answer="已答复")
    assert wrong_state.status_code == 409
    done = _act(api, handler, ticket, "acknowledge", etag)
    assert done.status_code == 200 and done.json["status"] == "in_progress"
    assert db.session.scalar(sa.select(AuditEvent.id).where(
        AuditEvent.action == "ticket.acknowledge", AuditEvent.object_id == str(ticket.id)))
    missing = _act(api, handler, ticket, "reply", done.headers["ETag"])
    assert missing.status_code == 422


def test_a_read_token_sees_the_timeline_as_its_user(api, cast, ticket_in, token_for):
    ticket = ticket_in(S.IN_PROGRESS)
    from app.tickets.services import add_comment

    add_comment(ticket, cast.handler, "内部备注", "internal")
    add_comment(ticket, cast.handler, "公开说明", "public")
    db.session.commit()
    staff = api.get(f"/api/v1/tickets/{ticket.reference}/timeline",
                    headers=token_for(cast.handler, scopes=("read",))).json["items"]
    firm = api.get(f"/api/v1/tickets/{ticket.reference}/timeline",
                   headers=token_for(cast.firm_user, scopes=("read",))).json["items"]
    assert {"内部备注", "公开说明"} <= {e["text"] for e in staff}
    assert "公开说明" in {e["text"] for e in firm} and "内部备注" not in {e["text"] for e in firm}
    assert [e["action"] for e in staff if e["kind"] == "event"][:2] == ["create", "dispatch"]


def test_comments_by_api(api, cast, ticket_in, token_for):
    ticket = ticket_in(S.IN_PROGRESS)
    response = api.post(f"/api/v1/tickets/{ticket.reference}/comments",
                        headers=token_for(cast.handler), json={"body": "已电话联系企业"})
    assert response.status_code == 201 and response.json["visibility"] == "internal"
    assert api.post(f"/api/v1/tickets/{ticket.reference}/comments",
                    headers=token_for(cast.firm_user), json={"body": "x"}).status_code == 403


def test_a_client_records_its_channel_and_reference(api, cast, client_token):
    from app.api.models import ClientChannel

    client, headers = client_token(cast.unit, role=Role.DISPATCHER, own_tickets_only=True,
                                   channel=ClientChannel.HOTLINE_12345, name="12345平台")
    response = api.post("/api/v1/tickets", headers=headers,
                        json={**NEW, "external_ref": "GD20260302001"})
    assert response.status_code == 201, response.json
    assert response.json["channel"] == "hotline_12345"
    assert response.json["external_ref"] == "GD20260302001"
    link = db.session.get(TicketLink, db.session.scalar(sa.select(Ticket.id).where(
        Ticket.reference == response.json["reference"])))
    assert link.client_id == client.id
    twice = api.post("/api/v1/tickets", headers=headers,
                     json={**NEW, "external_ref": "GD20260302001"})
    assert twice.status_code == 409 and twice.json["errors"][0]["pointer"] == "/external_ref"


def test_a_client_limited_to_its_own_tickets_sees_no_other(api, cast, ticket_in, client_token):
    other = ticket_in(S.SUBMITTED)
    _client, headers = client_token(cast.unit, role=Role.DISPATCHER, own_tickets_only=True)
    mine = api.post("/api/v1/tickets", headers=headers, json=NEW).json["reference"]
    listed = {i["reference"] for i in api.get("/api/v1/tickets", headers=headers).json["items"]}
    assert listed == {mine}
    assert api.get(f"/api/v1/tickets/{other.reference}", headers=headers).status_code == 404
