"""Category and dispatch-catalogue admin: only admins, never a delete, every change audited,
and the dispatch form pre-selects the catalogue's lead unit."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from app.core.audit import AuditEvent
from app.core.permissions import Role
from app.extensions import db
from app.tickets.models import Category, DispatchRule
from tests.helpers import post_form

NEW = "/tickets/categories/new"


def _audit(action: str) -> list[AuditEvent]:
    return db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == action)).all()


@pytest.mark.parametrize("role", [r for r in Role if r != Role.ADMIN])
def test_only_admins_reach_the_catalogue_pages(role, make, login_as):
    category = make.category()
    client = login_as(make.user(role))
    for path in ("/tickets/categories", NEW, f"/tickets/categories/{category.id}"):
        assert client.get(path).status_code in (403, 404)
    assert client.post(f"/tickets/categories/{category.id}/active?active=0").status_code in (
        400, 403, 404)
    assert category.is_active


def test_admin_lists_searches_and_sees_empty_state(cast, make, login_as):
    make.category(name="融资信贷测试", code="FIN-T")
    client = login_as(cast.admin)
    assert "融资信贷测试" in client.get("/tickets/categories?q=融资").get_data(as_text=True)
    empty = client.get("/tickets/categories?q=zzz-none").get_data(as_text=True)
    assert "No categories match this search." in empty


def test_create_sets_the_suggested_unit_and_is_audited(cast, login_as):
    client = login_as(cast.admin)
    response = post_form(client, NEW, {"code": "JOB-T", "name": "用工招聘测试",
                                       "sort_order": 5, "lead_unit": cast.unit.id})
    assert response.status_code == 302
    category = db.session.scalar(sa.select(Category).where(Category.code == "JOB-T"))
    rule = db.session.scalar(sa.select(DispatchRule).where(DispatchRule.category_id == category.id))
    assert rule.lead_unit_id == cast.unit.id and rule.is_active
    [event] = _audit("ticket.category_created")
    assert event.actor_id == cast.admin.id and event.details["lead_unit_id"] == cast.unit.id


def test_edit_changes_the_unit_and_clearing_it_deactivates_the_rule(cast, make, login_as):
    category = make.category()
    client = login_as(cast.admin)
    path = f"/tickets/categories/{category.id}"
    post_form(client, path, {"code": category.code, "name": "改名测试", "sort_order": 1,
                             "lead_unit": cast.other_unit.id})
    assert category.name == "改名测试"
    post_form(client, path, {"code": category.code, "name": "改名测试", "sort_order": 1,
                             "lead_unit": 0})
    rule = db.session.scalar(sa.select(DispatchRule).where(DispatchRule.category_id == category.id))
    assert rule.lead_unit_id == cast.other_unit.id and not rule.is_active
    assert len(_audit("ticket.category_updated")) == 2


def test_duplicate_name_is_refused_next_to_the_field_with_input_kept(cast, make, login_as):
    make.category(name="重复名称")
    client = login_as(cast.admin)
    response = post_form(client, NEW, {"code": "NEW-T", "name": "重复名称", "sort_order": 1})
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert re.search(r'name="name"[^>]*is-invalid|is-invalid[^>]*name="name"', html)
    assert "Another category already uses this value." in html and 'value="NEW-T"' in html
    assert db.session.scalar(sa.select(Category).where(Category.code == "NEW-T")) is None
    assert not _audit("ticket.category_created")


def test_inactive_unit_is_refused(cast, make, login_as):
    gone = make.unit(is_active=False)
    client = login_as(cast.admin)
    response = post_form(client, NEW, {"code": "U-T", "name": "单位测试", "sort_order": 1,
                                       "lead_unit": gone.id})
    assert response.status_code == 200
    assert db.session.scalar(sa.select(Category).where(Category.code == "U-T")) is None


def test_deactivate_and_reactivate_never_delete_and_are_audited(cast, make, login_as):
    category = make.category()
    client = login_as(cast.admin)
    path = f"/tickets/categories/{category.id}/active"
    post_form(client, f"{path}?active=0", token_from="/tickets/categories")
    assert db.session.get(Category, category.id).is_active is False
    post_form(client, f"{path}?active=1", token_from="/tickets/categories")
    assert category.is_active is True
    assert len(_audit("ticket.category_deactivated")) == 1
    assert len(_audit("ticket.category_reactivated")) == 1


def test_dispatch_form_suggests_the_catalogue_lead_unit_without_choosing_it(cast, make,
                                                                            login_as):
    category = make.category()
    db.session.add(DispatchRule(category_id=category.id, lead_unit_id=cast.other_unit.id))
    db.session.commit()
    ticket = make.ticket(category=category)
    html = login_as(cast.dispatcher).get(f"/tickets/{ticket.reference}").get_data(as_text=True)
    select = re.search(r'<select[^>]*name="lead_unit".*?</select>', html, re.S).group(0)
    assert not re.search(rf'<option selected value="{cast.other_unit.id}">', select)
    assert f'data-lead="{cast.other_unit.id}"' in html


def test_sla_policies_page_links_the_catalogue_for_admins(cast, login_as):
    html = login_as(cast.admin).get("/admin/sla/policies").get_data(as_text=True)
    assert 'href="/tickets/categories"' in html
