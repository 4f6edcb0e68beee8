"""``commit_or_explain``: one transaction per mutation, and the refusal shown where it can be
fixed — flashed, or next to the form field it names."""

import pytest
import sqlalchemy as sa
from flask import get_flashed_messages
from flask_wtf import FlaskForm
from wtforms import StringField

from app.auth.models import Unit, UnitKind
from app.core.errors import ValidationFailed
from app.core.transactions import commit_or_explain
from app.extensions import db as _db


class FieldRefusal(ValidationFailed):
    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field


class UnitNameForm(FlaskForm):
    class Meta:
        csrf = False

    name = StringField()
    code = StringField()


@pytest.fixture
def request_context(app):
    with app.test_request_context("/", method="POST"):
        yield


def _add_unit(name: str) -> Unit:
    row = Unit(name=name, code=name[-4:], kind=UnitKind.DEPARTMENT, is_active=True)
    _db.session.add(row)
    _db.session.flush()
    return row


def _refuse(error: ValidationFailed):
    def call():
        _add_unit("写了一半的单位")
        raise error
    return call


def _units_named(db, name: str) -> int:
    return db.session.scalar(sa.select(sa.func.count(Unit.id)).where(Unit.name == name))


def test_success_commits_flashes_and_returns_the_result(db, request_context):
    result = commit_or_explain(lambda: _add_unit("成功的单位"),
                               lambda unit: f"{unit.name} saved")
    db.session.rollback()  # would undo an uncommitted flush
    assert result.name == "成功的单位"
    assert _units_named(db, "成功的单位") == 1
    assert get_flashed_messages(with_categories=True) == [("success", "成功的单位 saved")]


def test_a_service_returning_none_still_counts_as_done(db, request_context):
    assert commit_or_explain(lambda: None) is True
    assert get_flashed_messages() == []


def test_refusal_rolls_back_and_is_flashed(db, request_context):
    assert commit_or_explain(_refuse(ValidationFailed("不行")), "never shown") is None
    assert _units_named(db, "写了一半的单位") == 0
    assert get_flashed_messages(with_categories=True) == [("danger", "不行")]


def test_a_refusal_naming_a_field_goes_next_to_that_field(db, request_context):
    form = UnitNameForm()
    assert commit_or_explain(_refuse(FieldRefusal("code", "代码已占用")), "x", form=form) is None
    assert _units_named(db, "写了一半的单位") == 0
    assert list(form.code.errors) == ["代码已占用"]
    assert not form.name.errors
    assert get_flashed_messages() == []


def test_a_refusal_naming_no_field_goes_to_the_default_field(db, request_context):
    form = UnitNameForm()
    commit_or_explain(_refuse(ValidationFailed("重名")), form=form, field="name")
    assert list(form.name.errors) == ["重名"]
    assert get_flashed_messages() == []


def test_a_refusal_naming_no_field_without_a_default_is_flashed(db, request_context):
    form = UnitNameForm()
    commit_or_explain(_refuse(ValidationFailed("无权")), form=form)
    assert not form.name.errors and not form.code.errors
    assert get_flashed_messages(with_categories=True) == [("danger", "无权")]


def test_a_refusal_naming_a_field_the_form_lacks_is_flashed(db, request_context):
    form = UnitNameForm()
    commit_or_explain(_refuse(FieldRefusal("mobile", "号码不对")), form=form)
    assert not form.name.errors and not form.code.errors
    assert get_flashed_messages(with_categories=True) == [("danger", "号码不对")]
