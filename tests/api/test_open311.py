"""Open311 GeoReport v2: an Open311 client lists the services, reads a definition, creates a
request with a client's api_key and reads it back — in JSON and in XML, errors included."""

from __future__ import annotations

from xml.etree import ElementTree

import pytest
import sqlalchemy as sa

from app.api.models import ClientChannel, TicketLink
from app.core import mail
from app.core.permissions import Role
from app.extensions import db
from app.tickets.models import Channel, Ticket, TicketStatus

S = TicketStatus


@pytest.fixture(autouse=True)
def clean_outbox():
    mail.outbox.clear()
    yield
    mail.outbox.clear()


@pytest.fixture
def category(make):
    return make.category(code="o311_jobs", name="开放接口测试")


@pytest.fixture
def bridge(cast, client_token):
    """A 12345-style client registered as a dispatcher of the cast's unit: (client, api_key)."""
    client, headers = client_token(cast.unit, role=Role.DISPATCHER, own_tickets_only=True,
                                   channel=ClientChannel.API, name="城市App")
    return client, headers["Authorization"].split()[1]


REQUEST = {"service_code": "o311_jobs", "description": "普工招聘困难\n希望协调专场招聘会。",
           "first_name": "先生", "last_name": "王", "phone": "138-1234-5678",
           "email": "wang@example.com", "attribute[demand_type]": "help",
           "attribute[firm_name]": "昆山某精密机械有限公司"}


def xml(response) -> ElementTree.Element:
    assert response.content_type == "text/xml; charset=utf-8"
    assert response.data.startswith(b"<?xml version='1.0' encoding='utf-8'?>")
    return ElementTree.fromstring(response.data)  # noqa: S314 - our own answer


def test_discovery_names_the_endpoint_and_its_formats(api):
    document = api.get("/open311/v2/discovery.json").json
    endpoint = document["endpoints"][0]
    assert endpoint["specification"] == "http://wiki.open311.org/GeoReport_v2"
    assert endpoint["url"].endswith("/open311/v2")
    assert set(endpoint["formats"]) == {"text/xml", "application/json"}
    root = xml(api.get("/open311/v2/discovery.xml"))
    assert [f.text for f in root.iter("format")] == ["application/json", "text/xml"]


def test_services_are_the_active_categories_in_both_formats(api, make, category):
    make.category(code="closed_kind", name="停用类别", is_active=False)
    services = api.get("/open311/v2/services.json").json
    assert {"service_code": "o311_jobs", "service_name": "开放接口测试",
            "description": "开放接口测试", "metadata": True, "type": "realtime",
            "keywords": "", "group": ""} in services
    assert "closed_kind" not in {s["service_code"] for s in services}
    root = xml(api.get("/open311/v2/services.xml"))
    assert root.tag == "services"
    codes = [s.findtext("service_code") for s in root.findall("service")]
    assert "o311_jobs" in codes and "closed_kind" not in codes
    assert root.find("service").findtext("metadata") == "true"


def test_a_service_definition_lists_its_attributes(api, category):
    definition = api.get("/open311/v2/services/o311_jobs.json").json
    assert definition["service_code"] == "o311_jobs"
    kinds = next(a for a in definition["attributes"] if a["code"] == "demand_type")
    assert kinds["datatype"] == "singlevaluelist"
    assert {v["key"] for v in kinds["values"]} == {"consult", "help", "complaint", "report",
                                                   "suggestion"}
    root = xml(api.get("/open311/v2/services/o311_jobs.xml"))
    assert root.tag == "service_definition"
    assert root.find("attributes/attribute/values/value/key").text == "consult"
    missing = api.get("/open311/v2/services/nothing.xml")
    assert missing.status_code == 404
    assert xml(missing).find("error/code").text == "404"


def test_a_wrong_jurisdiction_is_refused(api, category, app):
    assert api.get(f"/open311/v2/services.json?jurisdiction_id="
                   f"{app.config['OPEN311_JURISDICTION']}").status_code == 200
    refused = api.get("/open311/v2/services.json?jurisdiction_id=elsewhere.example")
    assert refused.status_code == 404 and refused.json[0]["code"] == 404


def test_a_created_request_is_a_ticket_with_the_clients_channel_sla_and_receipt(
        api, cast, category, bridge):
    client, key = bridge
    response = api.post("/open311/v2/requests.json", data={**REQUEST, "api_key": key})
    assert response.status_code == 201, response.data
    [answer] = response.json
    ticket = db.session.scalar(sa.select(Ticket).where(
        Ticket.reference == answer["service_request_id"]))
    assert ticket.channel == Channel.API and ticket.status == S.SUBMITTED
    assert ticket.intake_due_at is not None and ticket.category.code == "o311_jobs"
    assert ticket.requester_name == "王先生" and ticket.requester_mobile == "13812345678"
    assert ticket.requester_firm_name == "昆山某精密机械有限公司"
    assert ticket.title == "普工招聘困难"
    link = db.session.get(TicketLink, ticket.id)
    assert link.client_id == client.id and link.open311_token == answer["token"]
    assert answer["service_notice"]
    [receipt] = [m for m in mail.outbox if "wang@example.com" in m.to]
    assert ticket.reference in receipt.body and ticket.access_token in receipt.body


def test_a_request_created_in_xml_answers_in_xml(api, category, bridge):
    _client, key = bridge
    response = api.post("/open311/v2/requests.xml", data={**REQUEST, "api_key": key})
    assert response.status_code == 201
    root = xml(response)
    assert root.tag == "service_requests"
    reference = root.findtext("request/service_request_id")
    token = root.findtext("request/token")
    by_token = xml(api.get(f"/open311/v2/tokens/{token}.xml?api_key={key}"))
    assert by_token.findtext("request/service_request_id") == reference
    one = xml(api.get(f"/open311/v2/requests/{reference}.xml?api_key={key}"))
    assert one.findtext("request/status") == "open"
    assert one.findtext("request/service_code") == "o311_jobs"
    assert one.findtext("request/requested_datetime").endswith("+08:00")


def test_the_request_list_shows_status_and_the_approved_reply(api, cast, category, bridge):
    from app.tickets import services as tickets

    _client, key = bridge
    reference = api.post("/open311/v2/requests.json",
                         data={**REQUEST, "api_key": key}).json[0]["service_request_id"]
    ticket = db.session.scalar(sa.select(Ticket).where(Ticket.reference == reference))
    tickets.transition(ticket, "dispatch", cast.dispatcher, lead_unit=cast.unit)
    tickets.transition(ticket, "acknowledge", cast.handler)
    tickets.transition(ticket, "reply", cast.handler, text="已协调人社局组织专场招聘会。")
    db.session.commit()
    [row] = api.get(f"/open311/v2/requests.json?api_key={key}").json
    assert row["status"] == "open" and row["status_notes"] is None  # not approved yet
    assert row["agency_responsible"] == cast.unit.name
    tickets.transition(ticket, "approve_reply", cast.dispatcher)
    db.session.commit()
    [row] = api.get(f"/open311/v2/requests.json?api_key={key}&status=open").json
    assert row["status_notes"] == "已协调人社局组织专场招聘会。"
    assert api.get(f"/open311/v2/requests.json?api_key={key}&status=closed").json == []
    assert api.get(f"/open311/v2/requests.json?api_key={key}&service_code=other").json == []
    listed = api.get(f"/open311/v2/requests.json?api_key={key}"
                     f"&service_request_id={reference},KS1999-000001").json
    assert [r["service_request_id"] for r in listed] == [reference]


def test_a_client_reads_only_its_own_requests(api, cast, category, bridge, ticket_in):
    other = ticket_in(S.SUBMITTED)
    _client, key = bridge
    assert api.get(f"/open311/v2/requests.json?api_key={key}").json == []
    missing = api.get(f"/open311/v2/requests/{other.reference}.json?api_key={key}")
    assert missing.status_code == 404 and missing.json[0]["code"] == 404


@pytest.mark.parametrize("field, value", [
    ("service_code", "nothing"), ("description", " "), ("phone", "call me"),
    ("email", "not-an-address"), ("attribute[demand_type]", "gossip"),
    ("attribute[uscc]", "91310110666007217A"), ("lat", "91"),
])
def test_bad_parameters_are_400_errors_and_write_nothing(api, category, bridge, field, value):
    _client, key = bridge
    before = db.session.scalar(sa.select(sa.func.count(Ticket.id)))
    for fmt in ("json", "xml"):
        response = api.post(f"/open311/v2/requests.{fmt}",
                            data={**REQUEST, field: value, "api_key": key})
        assert response.status_code == 400, (field, response.data)
        if fmt == "json":
            assert response.json[0]["code"] == 400 and response.json[0]["description"]
        else:
            assert xml(response).findtext("error/code") == "400"
    assert db.session.scalar(sa.select(sa.func.count(Ticket.id))) == before


def test_requests_need_a_clients_api_key(api, cast, category, token_for):
    anonymous = api.post("/open311/v2/requests.xml", data=REQUEST)
    assert anonymous.status_code == 401 and xml(anonymous).findtext("error/code") == "401"
    assert api.get("/open311/v2/requests.json?api_key=ruyi_wrong").status_code == 401
    personal = token_for(cast.dispatcher)["Authorization"].split()[1]
    refused = api.post("/open311/v2/requests.json", data={**REQUEST, "api_key": personal})
    assert refused.status_code == 403 and refused.json[0]["code"] == 403


def test_a_retried_request_with_the_same_idempotency_key_creates_one_ticket(
        api, category, bridge):
    _client, key = bridge
    first = api.post("/open311/v2/requests.json", data={**REQUEST, "api_key": key},
                     headers={"Idempotency-Key": "req-1"})
    again = api.post("/open311/v2/requests.json", data={**REQUEST, "api_key": key},
                     headers={"Idempotency-Key": "req-1"})
    assert again.json == first.json and again.headers["Idempotent-Replayed"] == "true"
    other = api.post("/open311/v2/requests.json",
                     data={**REQUEST, "description": "另一件事", "api_key": key},
                     headers={"Idempotency-Key": "req-1"})
    assert other.status_code == 409
