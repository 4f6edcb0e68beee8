"""The firm's 360° page lists its tickets with SLA state; ratings only to all-ticket staff."""

from app.core.permissions import Role
from app.extensions import db
from app.tickets import services


def _dispatched_ticket(make, firm, unit, dispatcher):
    ticket = make.ticket(dispatcher, firm=firm, title="厂房用电增容")
    services.transition(ticket, "dispatch", dispatcher, lead_unit=unit)
    db.session.commit()
    return ticket


def test_handler_of_the_lead_unit_sees_the_firms_ticket_with_its_sla_state(
        client, make, login_as, frozen_clock):
    unit, firm, dispatcher = make.unit(), make.firm(), make.user(Role.DISPATCHER)
    ticket = _dispatched_ticket(make, firm, unit, dispatcher)
    login_as(make.user(Role.HANDLER, unit=unit))
    html = client.get(f"/firms/{firm.id}").get_data(as_text=True)
    assert ticket.reference in html and "On track" in html


def test_handler_of_another_unit_does_not_see_the_ticket_on_the_firm_page(
        client, make, login_as, frozen_clock):
    unit, firm, dispatcher = make.unit(), make.firm(), make.user(Role.DISPATCHER)
    ticket = _dispatched_ticket(make, firm, unit, dispatcher)
    login_as(make.user(Role.HANDLER))
    html = client.get(f"/firms/{firm.id}").get_data(as_text=True)
    assert ticket.reference not in html
    assert "No tickets of this firm that you may see." in html


def test_ratings_show_to_dispatchers_and_never_to_the_rated_unit(
        client, make, login_as, frozen_clock):
    unit, firm, dispatcher = make.unit(), make.firm(), make.user(Role.DISPATCHER)
    ticket = _dispatched_ticket(make, firm, unit, dispatcher)
    ticket.rating_level = 2  # the rating itself is the ratings package's; only its display here
    db.session.commit()
    login_as(make.user(Role.HANDLER, unit=unit))
    assert 'id="ratings"' not in client.get(f"/firms/{firm.id}").get_data(as_text=True)
    login_as(dispatcher)
    html = client.get(f"/firms/{firm.id}").get_data(as_text=True)
    assert 'id="ratings"' in html and "Dissatisfied" in html
