"""Firm services: identity, key firms, name history, archive, legacy codes (DOMAIN §2)."""

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from app.core.audit import AuditEvent
from app.core.errors import ValidationFailed
from app.core.permissions import Role
from app.firms import services
from app.firms.models import Area, CapitalOrigin, Firm, FirmNameChange, LegalForm
from app.firms.services import FieldError, FirmData


def data(**overrides) -> FirmData:
    values = {"uscc": "91320583314159268J", "name": "昆山示例精密机械有限公司", "area_id": 1,
              "industry_code": "C3484", "legal_form": LegalForm.LIMITED_LIABILITY,
              "capital_origin": CapitalOrigin.TAIWAN}
    values.update(overrides)
    return FirmData(**values)


def actions(db, firm_id):
    return db.session.scalars(sa.select(AuditEvent.action).where(
        AuditEvent.object_type == "firms", AuditEvent.object_id == str(firm_id))).all()


def test_create_normalises_the_code_derives_taiwan_and_audits(db, make):
    actor = make.user(Role.DISPATCHER)
    firm = services.create_firm(data(uscc="9132 0583-3141 5926 8j"), actor)
    assert firm.uscc == "91320583314159268J"
    assert firm.is_taiwan_invested
    assert db.session.scalar(sa.select(Firm.id).where(Firm.is_taiwan_invested)) == firm.id
    assert firm.industry_section == "C"
    assert actions(db, firm.id) == ["firm.create"]


def test_mistyped_code_is_refused_on_the_uscc_field(db, make):
    with pytest.raises(FieldError) as error:
        services.create_firm(data(uscc="91320583314159268A"), make.user(Role.DISPATCHER))
    assert error.value.field == "uscc"
    assert db.session.scalar(sa.select(sa.func.count(Firm.id))) == 0


def test_the_same_code_cannot_be_registered_twice(db, make):
    actor = make.user(Role.DISPATCHER)
    services.create_firm(data(), actor)
    with pytest.raises(FieldError) as error:
        services.create_firm(data(name="另一家有限公司"), actor)
    assert error.value.field == "uscc"
    assert db.session.scalar(sa.select(sa.func.count(Firm.id))) == 1


def test_key_firm_without_commissioner_is_refused_by_the_service(db, make):
    with pytest.raises(FieldError) as error:
        services.create_firm(data(is_key_firm=True), make.user(Role.DISPATCHER))
    assert error.value.field == "commissioner_id"


def test_key_firm_without_commissioner_is_refused_by_the_database(db, make):
    firm = make.firm()
    firm.is_key_firm = True
    with pytest.raises(IntegrityError), db.session.begin_nested():
        db.session.flush()


def test_commissioner_cannot_be_removed_from_a_key_firm(db, make):
    handler = make.user(Role.HANDLER)
    firm = make.firm(is_key_firm=True, commissioner_id=handler.id)
    with pytest.raises(FieldError):
        services.assign_commissioner(firm, None, make.user(Role.DISPATCHER))
    assert firm.commissioner_id == handler.id


@pytest.mark.parametrize("role", [Role.FIRM_USER, Role.ADMIN, Role.AUDITOR])
def test_only_unit_staff_can_be_commissioners(db, make, role):
    with pytest.raises(FieldError):
        services.assign_commissioner(make.firm(), make.user(role).id, make.user(Role.DISPATCHER))


def test_renaming_keeps_history_and_the_old_name_stays_searchable(db, make):
    actor = make.user(Role.DISPATCHER)
    firm = services.create_firm(data(), actor)
    changes = services.update_firm(firm, data(name="昆山新名称科技有限公司"), actor)
    assert changes["name"] == ["昆山示例精密机械有限公司", "昆山新名称科技有限公司"]
    history = db.session.scalars(sa.select(FirmNameChange)).all()
    assert [(h.old_name, h.new_name) for h in history] == [
        ("昆山示例精密机械有限公司", "昆山新名称科技有限公司")]
    assert "示例精密" in firm.search_key
    assert firm.uscc == "91320583314159268J"
    assert actions(db, firm.id) == ["firm.create", "firm.update"]


def test_unknown_industry_class_is_refused(db, make):
    with pytest.raises(FieldError) as error:
        services.create_firm(data(industry_code="C9911"), make.user(Role.DISPATCHER))
    assert error.value.field == "industry_code"


@pytest.mark.parametrize("raw,expected", [
    ("C3911", ("C3911", "C")), ("3911", ("C3911", "C")), ("i6513", ("I6513", "I")),
    ("K", ("K", "K")), ("A0141", ("A0141", "A")), ("T9700", ("T9700", "T")),
])
def test_industry_class_is_placed_in_its_section(db, raw, expected):
    assert services.parse_industry(raw) == expected


def test_twenty_sections_and_the_kunshan_areas_are_seeded(db):
    assert [s.code for s in services.sections()] == list("ABCDEFGHIJKLMNOPQRST")
    areas = {a.name: a for a in db.session.scalars(sa.select(Area))}
    assert len(areas) == 12
    for town in ("淀山湖镇", "周庄镇", "锦溪镇"):
        assert areas[town].parent.name == "昆山旅游度假区"
    assert areas["张浦镇"].parent is None


def test_archive_and_restore_are_audited_and_never_delete(db, make):
    actor = make.user(Role.DISPATCHER)
    firm = make.firm()
    services.archive_firm(firm, actor)
    assert firm.archived_at is not None
    with pytest.raises(ValidationFailed):
        services.archive_firm(firm, actor)
    services.restore_firm(firm, actor)
    assert firm.archived_at is None
    assert actions(db, firm.id) == ["firm.archive", "firm.restore"]


def test_supervisor_accepts_a_legacy_code_with_a_reason_then_it_can_be_registered(db, make):
    supervisor = make.user(Role.SUPERVISOR)
    with pytest.raises(FieldError) as error:
        services.create_firm(data(uscc="91350100M0001TGQXM"), make.user(Role.DISPATCHER))
    assert error.value.field == "uscc"
    with pytest.raises(FieldError) as error:
        services.accept_legacy_uscc("91350100M0001TGQXM", "  ", supervisor)
    assert error.value.field == "reason"
    reason = "2015年试点营业执照原件核对"
    row = services.accept_legacy_uscc("91350100M0001TGQXM", reason, supervisor)
    audit_row = db.session.scalar(sa.select(AuditEvent).where(
        AuditEvent.action == "firm.legacy_uscc_accept"))
    assert audit_row.details["reason"] == "2015年试点营业执照原件核对"
    assert audit_row.actor_id == supervisor.id
    firm = services.create_firm(data(uscc="91350100M0001TGQXM"), make.user(Role.DISPATCHER))
    assert firm.uscc == row.uscc


@pytest.mark.parametrize("code", ["91320583314159268J", "9131011066600721",
                                  "9131011066600721I7"])
def test_legacy_override_is_only_for_codes_failing_the_check_character(db, make, code):
    with pytest.raises(FieldError):
        services.accept_legacy_uscc(code, "reason", make.user(Role.SUPERVISOR))


def test_only_one_contact_is_primary_and_contact_names_are_searchable(db, make):
    actor = make.user(Role.DISPATCHER)
    firm = make.firm()
    first = services.save_contact(firm, None, services.ContactData("陈建国", is_primary=True,
                                                                   mobile="138-1234-5678"),
                                  actor)
    second = services.save_contact(firm, None, services.ContactData("吴美玲", is_primary=True),
                                   actor)
    assert (first.is_primary, second.is_primary) == (False, True)
    assert first.mobile == "13812345678"
    assert "陈建国" in firm.search_key and "吴美玲" in firm.search_key
    audit_rows = db.session.scalars(sa.select(AuditEvent).where(
        AuditEvent.action == "firm.contact_create")).all()
    assert all("13812345678" not in str(row.details) for row in audit_rows)


def test_tag_validity_cannot_end_before_certification(db, make):
    from datetime import date

    from app.firms.models import TagKind

    with pytest.raises(FieldError):
        services.save_tag(make.firm(), None, services.TagData(
            TagKind.HIGH_TECH, certified_on=date(2025, 1, 1), valid_until=date(2024, 1, 1)),
            make.user(Role.DISPATCHER))
