"""The decision columns (who decided, when, why) are declared once, in ``DecisionMixin``."""

from app.db import DecisionMixin
from app.extensions import db


def test_every_decided_request_takes_its_decision_columns_from_the_mixin(app):
    decided = {mapper.class_ for mapper in db.Model.registry.mappers
               if {"decided_by_id", "decided_at", "decision_reason"} & set(mapper.columns.keys())}
    assert {cls.__name__ for cls in decided} == {
        "ExtensionRequest", "ReturnRequest", "ReplyApproval", "FirmRegistration"}
    assert all(issubclass(cls, DecisionMixin) for cls in decided)
    assert all("decided_at" not in vars(cls).get("__annotations__", {}) for cls in decided)
