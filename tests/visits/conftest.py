"""Visit fixtures: a cast of users around one unit and one served firm."""

from __future__ import annotations

import pytest

from app.core.permissions import Role


@pytest.fixture
def crew(make):
    """Handlers of two units, the firm one of them serves, and one user per other role."""

    class Crew:
        unit = make.unit(name="商务局走访", code="SWZF")
        other_unit = make.unit(name="工信局走访", code="GXZF")
        handler = make.user(Role.HANDLER, unit=unit)
        colleague = make.user(Role.HANDLER, unit=unit)
        lead = make.user(Role.UNIT_LEAD, unit=unit)
        stranger = make.user(Role.HANDLER, unit=other_unit)
        dispatcher = make.user(Role.DISPATCHER)
        supervisor = make.user(Role.SUPERVISOR)
        admin = make.user(Role.ADMIN)
        auditor = make.user(Role.AUDITOR)

    Crew.firm = make.firm(commissioner_id=Crew.handler.id)
    Crew.contact = make.contact(Crew.firm)
    Crew.firm_user = make.user(Role.FIRM_USER, firm_id=Crew.firm.id)
    return Crew
