"""``commit_or_explain``: one transaction per mutation, and the refusal shown where it can be
fixed — flashed, or next to the form field it names; ``commit_or_stop`` for commands; and no
view commits in any other way."""

import ast
from pathlib import Path

import click
import pytest
import sqlalchemy as sa
from flask import get_flashed_messages
from flask_wtf import FlaskForm
from wtforms import StringField

from app.auth.models import Unit, UnitKind
from app.core.errors import ValidationFailed
from app.core.transactions import Refused, commit_or_explain, commit_or_stop
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
    refusal = ValidationFailed("不行")
    result = commit_or_explain(_refuse(refusal), "never shown")
    assert not result
    assert isinstance(result, Refused) and result.error is refusal
    assert _units_named(db, "写了一半的单位") == 0
    assert get_flashed_messages(with_categories=True) == [("danger", "不行")]


def test_a_refusal_naming_a_field_goes_next_to_that_field(db, request_context):
    form = UnitNameForm()
    assert not commit_or_explain(_refuse(FieldRefusal("code", "代码已占用")), "x", form=form)
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


def test_a_refusal_may_keep_what_the_service_wrote(db, request_context):
    """A failed sign-in's audit row counts towards the lock-out: it is committed, and the
    refusal shown all the same."""
    result = commit_or_explain(_refuse(ValidationFailed("密码错误")), "never shown",
                               keep_refused=True)
    db.session.rollback()  # would undo an uncommitted flush
    assert not result
    assert _units_named(db, "写了一半的单位") == 1
    assert get_flashed_messages(with_categories=True) == [("danger", "密码错误")]


def test_a_command_commits_its_work(db, app):
    with app.app_context():
        assert commit_or_stop(lambda: _add_unit("命令的单位")).name == "命令的单位"
        db.session.rollback()
        assert _units_named(db, "命令的单位") == 1


def test_a_command_refused_rolls_back_and_stops_with_the_refusal(db, app):
    with app.app_context(), pytest.raises(click.ClickException, match="不行"):
        commit_or_stop(_refuse(ValidationFailed("不行")))
    assert _units_named(db, "写了一半的单位") == 0


# -- no other way to commit ------------------------------------------------------------------

APP = Path(__file__).resolve().parents[2] / "app"
#: Modules that commit themselves, and why: the helpers, and work that is not one request's.
COMMITTING_MODULES = {
    "core/transactions.py": "the helpers themselves (begin_write ends a reading transaction)",
    "db.py": "the SQLite connection's own commit (it lets the next writer in)",
    "tickets/scan.py": "the SLA scan commits after each batch of tickets (a long job)",
    "demo/tickets.py": "a savepoint around the generated history",
    "audit/chain.py": "the audit chain is sealed in batches of 10,000, each its own transaction",
    "jobs/runner.py": "the job engine: a job's state and its work in their own transactions",
    "jobs/schedules.py": "the job engine: a period's job is taken in its own transaction",
    "jobs/housekeeping.py": "the job engine: each clean-up commits on its own",
    "jobs/services.py": "the job engine: the sweep of lost jobs is its own transaction",
    "notifications/delivery.py": "the outbox: a claim, and each message's outcome, commit at "
                                 "once (a message sent is recorded before the next is sent)",
}


def _commits(path: Path) -> list[int]:
    """Lines of ``path`` that call ``<anything>.commit()``."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return [node.lineno for node in ast.walk(tree)
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
            and node.func.attr == "commit"]


def test_views_and_commands_commit_only_through_the_helpers():
    """Every view, request hook and command commits through ``commit_or_explain`` or
    ``commit_or_stop``: one transaction, refusals explained the same way everywhere."""
    stray = [f"{path.relative_to(APP)}:{line}" for path in sorted(APP.rglob("*.py"))
             if str(path.relative_to(APP)) not in COMMITTING_MODULES
             for line in _commits(path)]
    assert stray == [], "commit through app.core.transactions (or list the module with a reason)"


def test_the_commit_check_sees_a_bare_commit(tmp_path):
    view = tmp_path / "views.py"
    view.write_text("def save():\n    db.session.commit()\n", encoding="utf-8")
    assert _commits(view) == [2]
