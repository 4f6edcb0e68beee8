"""Dispatch: no unit is chosen for the dispatcher; the rules suggest one, with the reason
(category, 涉台, area), and 涉台 adds the Taiwan affairs office as assisting unit (DOMAIN §3)."""

from __future__ import annotations

import re

import sqlalchemy as sa

from app.auth.models import UnitKind
from app.demo.cli import DEMO_DISPATCH_RULES, seed_dispatch_rules, seed_units
from app.extensions import db
from app.firms.models import Area
from app.tickets import routing
from app.tickets.models import Category, DispatchRule, TicketStatus
from tests.helpers import csrf_token

S = TicketStatus


def _rule(category, unit):
    db.session.add(DispatchRule(category_id=category.id, lead_unit_id=unit.id, is_active=True))
    db.session.commit()


def _taiwan_office(make):
    office = make.unit(name="台湾事务办公室测试", code="TBT")
    taiwan = routing.taiwan_category() or make.category(code="taiwan", name="涉台事务")
    if db.session.scalar(sa.select(DispatchRule).where(DispatchRule.category_id == taiwan.id)):
        db.session.execute(sa.update(DispatchRule).where(DispatchRule.category_id == taiwan.id)
                           .values(lead_unit_id=office.id))
        db.session.commit()
    else:
        _rule(taiwan, office)
    return office


def _dispatch_dialog(client, ticket) -> str:
    html = client.get(f"/tickets/{ticket.reference}",
                      headers={"Accept-Language": "en"}).get_data(as_text=True)
    return html[html.index(f'action="/tickets/{ticket.reference}/act/dispatch"'):]


def test_the_lead_unit_starts_at_choose_and_is_required(make, cast, login_as):
    permits = make.category(code="permits_x", name="审批许可X")
    _rule(permits, cast.unit)
    ticket = make.ticket(category=permits)
    client = login_as(cast.dispatcher)
    dialog = _dispatch_dialog(client, ticket)
    select = dialog[dialog.index('name="lead_unit"'):dialog.index("</select>")]
    assert re.search(r'<option selected value="0">Choose…</option>', select)
    assert "selected" not in select.split("Choose…", 1)[1]  # no unit picked for them
    refused = client.post(f"/tickets/{ticket.reference}/act/dispatch", headers={
        "Accept-Language": "en"}, data={"csrf_token": csrf_token(client, "/tickets/"),
                                         "version": ticket.version, "lead_unit": "0"})
    assert refused.status_code == 400
    assert "Please fill in: Lead unit." in refused.get_data(as_text=True)
    assert ticket.status == S.SUBMITTED


def test_the_catalogue_suggests_the_lead_unit_with_its_reason(make, cast, login_as):
    permits = make.category(code="permits_y", name="审批许可Y")
    _rule(permits, cast.unit)
    ticket = make.ticket(category=permits)
    dialog = _dispatch_dialog(login_as(cast.dispatcher), ticket)
    box = dialog[dialog.index('data-testid="dispatch-suggestion"'):]
    assert f"Dispatch catalogue: 审批许可Y → {cast.unit.name}." in box
    assert f'data-lead="{cast.unit.id}"' in box and 'data-assisting=""' in box


def test_taiwan_mark_keeps_category_and_adds_the_office_as_assisting(make, cast, login_as):
    office = _taiwan_office(make)
    permits = make.category(code="permits_z", name="审批许可Z")
    _rule(permits, cast.unit)
    ticket = make.ticket(category=permits, is_taiwan_related=True)
    suggestion = routing.suggest(ticket)
    assert (suggestion.lead, suggestion.assisting) == (cast.unit, [office])
    assert ticket.category_id == permits.id
    dialog = _dispatch_dialog(login_as(cast.dispatcher), ticket)
    assert f"(涉台): the {office.name} assists." in dialog
    assert f'data-assisting="{office.id}"' in dialog


def test_taiwan_mark_without_a_rule_suggests_the_office_as_lead(make, cast):
    office = _taiwan_office(make)
    ticket = make.ticket(category=make.category(), is_taiwan_related=True)
    suggestion = routing.suggest(ticket)
    assert (suggestion.lead, suggestion.assisting) == (office, [])
    assert office.name in suggestion.reasons[0]


def test_a_taiwan_invested_firm_s_ticket_is_marked(make, cast):
    firm = make.firm(capital_origin="taiwan")
    assert make.ticket(firm=firm).is_taiwan_related
    assert not make.ticket(firm=make.firm()).is_taiwan_related


def test_the_firm_s_area_suggests_its_management_body_when_nothing_else_does(make, cast):
    area = db.session.scalar(sa.select(Area).order_by(Area.id).limit(1))
    body = make.unit(name=f"{area.name}管委会测试", code="AREAT", kind=UnitKind.AREA)
    suggestion = routing.suggest(make.ticket(firm=make.firm()))
    assert suggestion.lead == body
    assert area.name in suggestion.reasons[0]


def test_no_rule_says_so_and_suggests_nothing(make, cast, login_as):
    ticket = make.ticket(category=make.category())
    dialog = _dispatch_dialog(login_as(cast.dispatcher), ticket)
    assert "No dispatch rule matches this ticket" in dialog
    assert "data-use-suggestion" not in dialog


def test_demo_seeds_a_rule_for_every_category_and_taiwan_goes_to_the_office(app):
    units = seed_units()
    assert seed_dispatch_rules(units) == len(DEMO_DISPATCH_RULES)
    assert seed_dispatch_rules(units) == 0  # idempotent
    db.session.commit()
    categories = db.session.scalars(sa.select(Category)).all()
    ruled = set(db.session.scalars(sa.select(DispatchRule.category_id)))
    assert {c.id for c in categories} <= ruled
    assert routing.taiwan_office().name == "台湾事务办公室"
