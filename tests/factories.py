"""Plain ``make_*`` helpers for test data (the one way tests create rows).

Factories commit: in the test transaction a commit only releases a savepoint, so the rows
survive a view's ``rollback()`` and are still discarded when the test ends.
"""

from __future__ import annotations

import itertools
from functools import cache

from app.auth.models import Unit, UnitKind, User
from app.auth.passwords import hash_password
from app.core.permissions import UNIT_ROLES, Role
from app.extensions import db

PASSWORD = "Valid#Pass2026"
_sequence = itertools.count(1)


@cache
def _password_hash() -> str:
    """Hash once per run: Argon2 is deliberately slow."""
    return hash_password(PASSWORD)


def unit(**overrides) -> Unit:
    """An active department."""
    n = next(_sequence)
    values = {"name": f"测试单位{n}", "code": f"U{n}", "kind": UnitKind.DEPARTMENT,
              "is_active": True}
    values.update(overrides)
    row = Unit(**values)
    db.session.add(row)
    db.session.commit()
    return row


def user(role: Role | str = Role.HANDLER, **overrides) -> User:
    """An active user who may sign in with ``PASSWORD``; staff roles get a unit."""
    n = next(_sequence)
    role = Role(role)
    values = {"username": f"user{n}", "display_name": f"用户{n}", "role": role,
              "is_active": True, "must_change_password": False,
              "password_hash": _password_hash(), "failed_login_count": 0}
    values.update(overrides)
    if role in UNIT_ROLES and "unit" not in values and "unit_id" not in values:
        values["unit"] = unit()
    row = User(**values)
    db.session.add(row)
    db.session.commit()
    return row
