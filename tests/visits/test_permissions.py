"""Who sees which visits: unit, served firms, supervisors all, firms none — list and page agree."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.visits import queries

ROLES = ["handler", "colleague", "lead", "stranger", "dispatcher", "supervisor", "firm_user",
         "admin", "auditor"]
#: role → (sees the unit's visit to the served firm, sees another unit's visit to it,
#: sees another unit's visit to another firm)
EXPECTED = {
    "handler": (True, True, False),      # commissioner of the firm
    "colleague": (True, False, False),   # same unit only
    "lead": (True, False, False),
    "stranger": (False, True, True),     # their own unit's visits
    "dispatcher": (True, True, True),
    "supervisor": (True, True, True),
    "firm_user": (False, False, False),
    "admin": (False, False, False),
    "auditor": (False, False, False),
}


@pytest.fixture
def visits(crew, make):
    own = make.visit(crew.firm, crew.colleague)
    other_unit_same_firm = make.visit(crew.firm, crew.stranger)
    other = make.visit(make.firm(), crew.stranger)
    return own, other_unit_same_firm, other


@pytest.mark.parametrize("role", ROLES)
def test_visibility_matrix_list_and_detail_agree(role, crew, visits, client, login_as):
    user = getattr(crew, role)
    expected = EXPECTED[role]
    for visit, sees in zip(visits, expected, strict=True):
        assert visit.can_view(user) is sees, (role, visit)
        in_list = db.session.scalar(queries.visible_visits(user).where(
            queries.Visit.id == visit.id).with_only_columns(sa.func.count())) == 1
        assert in_list is sees, (role, visit)
    login_as(user)
    status = client.get(f"/visits/{visits[0].id}").status_code
    assert status == (200 if expected[0] else (404 if user.can(
        queries.Permission.VISIT_VIEW_UNIT) else 403))


@pytest.mark.parametrize("role,may", [("handler", True), ("dispatcher", True),
                                      ("supervisor", True), ("firm_user", False),
                                      ("admin", False), ("auditor", False)])
def test_who_may_record_visits(role, may, crew, client, login_as):
    login_as(getattr(crew, role))
    status = client.get(f"/visits/new/{crew.firm.id}").status_code
    assert (status == 200) is may


def test_only_supervisors_open_campaigns_and_only_admins_change_settings(crew, client,
                                                                          login_as):
    login_as(crew.handler)
    assert client.get("/visits/campaigns/new").status_code == 403
    assert client.get("/visits/settings").status_code == 403
    login_as(crew.supervisor)
    assert client.get("/visits/campaigns/new").status_code == 200
    login_as(crew.admin)
    assert client.get("/visits/settings").status_code == 200
