"""The 7-day edit window [cfg]: visitors correct their records, then only a supervisor, audited."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
import sqlalchemy as sa

from app.core.audit import AuditEvent
from app.core.errors import PermissionDenied, ValidationFailed
from app.extensions import db
from app.visits import services


def _data(visit, **changes):
    data = services.VisitData(firm=visit.firm, visited_at=visit.visited_at, mode=str(visit.mode),
                              lead_visitor=visit.lead_visitor,
                              operating_status=visit.operating_status,
                              purposes=visit.purpose_values)
    return replace(data, **changes)


def test_visitor_edits_within_the_window(crew, make, frozen_clock):
    visit = make.visit(crew.firm, crew.handler)
    frozen_clock.advance(timedelta(days=6, hours=23))
    services.update_visit(visit, _data(visit, operating_status="更正：产值增长15%"), crew.handler)
    assert visit.operating_status == "更正：产值增长15%"


def test_record_locks_after_the_window(crew, make, frozen_clock):
    visit = make.visit(crew.firm, crew.handler)
    frozen_clock.advance(timedelta(days=7))
    assert visit.is_locked(services.get_settings(), frozen_clock.now_utc())
    with pytest.raises(PermissionDenied):
        services.update_visit(visit, _data(visit, operating_status="改"), crew.handler)


def test_supervisor_changes_a_locked_record_with_a_reason_and_it_is_audited(
        crew, make, frozen_clock):
    visit = make.visit(crew.firm, crew.handler)
    frozen_clock.advance(timedelta(days=30))
    with pytest.raises(ValidationFailed):
        services.update_visit(visit, _data(visit, operating_status="改"), crew.supervisor)
    services.update_visit(visit, _data(visit, operating_status="改正"), crew.supervisor,
                          reason="企业来函更正数据")
    event = db.session.scalar(sa.select(AuditEvent).where(
        AuditEvent.action == "visit.update_locked", AuditEvent.object_id == str(visit.id)))
    assert event.details["reason"] == "企业来函更正数据"
    assert event.details["changed"]["operating_status"][1] == "改正"


def test_the_window_is_a_setting(crew, make, frozen_clock):
    services.update_settings(services.SettingsData(14, 3, 12, ["onsite"]), crew.admin)
    visit = make.visit(crew.firm, crew.handler)
    frozen_clock.advance(timedelta(days=10))
    services.update_visit(visit, _data(visit, operating_status="十天后更正"), crew.handler)
    assert visit.operating_status == "十天后更正"


def test_a_handler_of_another_unit_cannot_edit(crew, make, frozen_clock):
    visit = make.visit(crew.firm, crew.handler)
    with pytest.raises(PermissionDenied):
        services.update_visit(visit, _data(visit), crew.stranger)


def test_locked_edit_page_is_forbidden_to_the_visitor(client, login_as, crew, make,
                                                      frozen_clock):
    visit = make.visit(crew.firm, crew.handler)
    frozen_clock.advance(timedelta(days=8))
    login_as(crew.handler)
    assert client.get(f"/visits/{visit.id}/edit").status_code == 403
    assert "Locked" in client.get(f"/visits/{visit.id}").get_data(as_text=True)


def test_supervisor_corrects_a_locked_record_through_the_form(client, login_as, crew, make,
                                                               frozen_clock):
    from tests.helpers import csrf_token

    visit = make.visit(crew.firm, crew.handler)
    frozen_clock.advance(timedelta(days=20))
    login_as(crew.supervisor)
    path = f"/visits/{visit.id}/edit"
    page = client.get(path).get_data(as_text=True)
    assert "This record is locked" in page and "生产经营正常" in page
    data = {"csrf_token": csrf_token(client, path), "visited_at": "2026-03-02T09:00",
            "mode": "meeting", "purposes": ["research"], "lead_visitor_id": crew.handler.id,
            "operating_status": "经营数据以企业来函为准。", "campaign_id": 0, "confirmed_by": ""}
    refused = client.post(path, data=data)
    assert refused.status_code == 422 and "Give the reason" in refused.get_data(as_text=True)
    data["reason"] = "企业来函更正"
    assert client.post(path, data=data).status_code == 302
    db.session.refresh(visit)
    assert visit.operating_status == "经营数据以企业来函为准。" and visit.mode == "meeting"
