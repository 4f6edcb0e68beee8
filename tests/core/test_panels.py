"""Pages collect the panels other domains register: the firm's 360° page and the ticket page."""

import pytest

from app.core import panels
from app.core.permissions import Role


@pytest.fixture
def scratch_page():
    yield "scratch"
    panels._PANELS.pop("scratch", None)


def test_panels_come_in_their_order_and_a_name_registers_once(scratch_page):
    panels.register_panel(scratch_page, "b", "b.html", lambda obj, user: {"b": obj}, order=20)
    panels.register_panel(scratch_page, "a", "a.html", lambda obj, user: {"a": user}, order=10)
    panels.register_panel(scratch_page, "b", "b2.html", lambda obj, user: {"b": obj}, order=5)
    assert [p.template for p in panels.panels_for(scratch_page)] == ["b2.html", "a.html"]
    assert panels.panel_values(scratch_page, 1, 2) == {"b": 1, "a": 2}
    panels.register_panel(scratch_page, "c", "c.html")  # a template asking for its own values
    assert panels.panel_values(scratch_page, 1, 2) == {"b": 1, "a": 2}


def test_the_domains_register_their_panels_on_the_firm_and_ticket_pages(app):
    assert [p.name for p in panels.panels_for(panels.FIRM_PAGE)] == [
        "tickets", "ratings", "visits", "projects"]
    assert [p.name for p in panels.panels_for(panels.TICKET_PAGE)] == ["visits", "projects"]
    assert [p.name for p in panels.panels_for(panels.ANSWER_DIALOG)] == ["snippets"]


def test_the_firm_page_shows_every_registered_panel_in_order(client, make, login_as):
    firm = make.firm()
    login_as(make.user(Role.SUPERVISOR))
    html = client.get(f"/firms/{firm.id}").get_data(as_text=True)
    positions = [html.index(f'id="{section}"') for section in (
        "tickets", "ratings", "visits", "projects")]
    assert positions == sorted(positions)
