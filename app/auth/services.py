"""Account services: sign-in with lockout, password changes, user and unit administration.

Services flush and never commit; the view or command that calls them commits once.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _

from app.auth.models import Unit, UnitKind, User
from app.auth.passwords import (
    generate_temporary_password,
    hash_password,
    needs_rehash,
    password_problems,
    verify_password,
)
from app.core import audit
from app.core.clock import now_utc
from app.core.errors import DomainError, ValidationFailed
from app.core.permissions import UNIT_ROLES, Role
from app.extensions import db

logger = logging.getLogger("ruyi.auth")


class SignInRefused(DomainError):
    """Unknown user, wrong password, inactive or locked account: one answer for all."""

    def __init__(self):
        super().__init__(_("Wrong username or password, or the account is temporarily locked "
                           "after repeated failures."))


def normalise_username(username: str) -> str:
    """Usernames are compared case-insensitively and without surrounding blanks."""
    return (username or "").strip().lower()


def find_user(username: str) -> User | None:
    """The user with this username, or ``None``."""
    return db.session.scalar(sa.select(User).where(User.username == normalise_username(username)))


def authenticate(username: str, password: str) -> User:
    """Check credentials and apply the lockout rule (DOMAIN §8).

    After ``LOGIN_MAX_FAILURES`` consecutive failures the account is locked for
    ``LOGIN_LOCK_MINUTES``. Every outcome is audited; the caller shows one message for all
    failures so that nobody can learn which usernames exist.

    :raises SignInRefused: whatever the reason.
    """
    now = now_utc()
    user = find_user(username)
    password_ok = verify_password(user.password_hash if user else None, password)
    if user is None:
        audit.record("auth.sign_in", actor_name=username[:64], success=False,
                     details={"reason": "unknown_user"})
        raise SignInRefused
    if user.is_locked(now):
        audit.record("auth.sign_in", actor=user, obj=user, success=False,
                     details={"reason": "locked"})
        raise SignInRefused
    if not password_ok or not user.is_active:
        _record_failure(user, "inactive" if password_ok else "wrong_password")
        raise SignInRefused
    _record_success(user)
    return user


def _record_failure(user: User, reason: str) -> None:
    config = current_app.config
    user.failed_login_count += 1
    audit.record("auth.sign_in", actor=user, obj=user, success=False,
                 details={"reason": reason, "failures": user.failed_login_count})
    if user.failed_login_count >= config["LOGIN_MAX_FAILURES"]:
        user.locked_until = now_utc() + timedelta(minutes=config["LOGIN_LOCK_MINUTES"])
        user.failed_login_count = 0
        audit.record("auth.lockout", actor=user, obj=user, success=True,
                     details={"locked_until": user.locked_until.isoformat()})
        logger.warning("Locked %r after repeated sign-in failures", user)
    db.session.flush()


def _record_success(user: User) -> None:
    user.failed_login_count = 0
    user.locked_until = None
    user.last_login_at = now_utc()
    audit.record("auth.sign_in", actor=user, obj=user, success=True)
    db.session.flush()


def sign_out(user: User, reason: str = "user") -> None:
    """End the user's sessions on the server and audit it (by the user, ``timeout`` when the
    idle limit passed, ``expired`` at the absolute limit). The session token on the user row
    is part of every session's identity, so rotating it makes any copy of the cookie (another
    process, another machine) worthless; it also signs the user out on their other devices."""
    user.rotate_session_token()
    audit.record("auth.sign_out", actor=user, obj=user, details={"reason": reason})


def check_password_policy(password: str, username: str) -> None:
    """:raises ValidationFailed: with every broken rule, joined for display."""
    problems = password_problems(password, username, current_app.config["PASSWORD_MIN_LENGTH"])
    if problems:
        raise ValidationFailed(" ".join(str(p) for p in problems))


def set_password(user: User, password: str, *, temporary: bool) -> None:
    """Store a new hash; a temporary password must be changed at the next sign-in."""
    user.password_hash = hash_password(password)
    user.password_changed_at = now_utc()
    user.must_change_password = temporary
    user.rotate_session_token()


def change_own_password(user: User, current: str, new: str) -> None:
    """The user replaces their password (required after first sign-in and after a reset).

    :raises ValidationFailed: wrong current password, unchanged, or the policy is not met.
    """
    if not verify_password(user.password_hash, current):
        audit.record("auth.password_change", actor=user, obj=user, success=False)
        raise ValidationFailed(_("The current password is wrong."))
    if verify_password(user.password_hash, new):
        raise ValidationFailed(_("The new password must differ from the current one."))
    check_password_policy(new, user.username)
    set_password(user, new, temporary=False)
    audit.record("auth.password_change", actor=user, obj=user)
    db.session.flush()


def rehash_if_needed(user: User, password: str) -> None:
    """Upgrade an old hash transparently after a successful sign-in."""
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)


def set_preferred_language(user: User, language: str) -> None:
    """The interface language a signed-in user chose (a preference: not audited)."""
    user.preferred_language = language


@dataclass
class UserData:
    """Plain data for creating or editing a user (never a form object)."""

    username: str
    display_name: str
    role: Role
    unit_id: int | None
    email: str | None = None
    mobile: str | None = None
    preferred_language: str | None = None


def _check_user_data(data: UserData, user: User | None = None) -> None:
    if Role(data.role) in UNIT_ROLES and not data.unit_id:
        raise ValidationFailed(_("This role belongs to a unit: choose one."))
    if Role(data.role) == Role.FIRM_USER and getattr(user, "firm_id", None) is None:
        raise ValidationFailed(_("Firm accounts are created by approving a firm's registration "
                                 "in the portal."))
    existing = find_user(data.username)
    if existing is not None and existing is not user:
        raise ValidationFailed(_("The username is already taken."))


def create_user(data: UserData, password: str, actor: User) -> User:
    """Create an account with an initial password that must be changed at first sign-in."""
    data.username = normalise_username(data.username)
    _check_user_data(data)
    check_password_policy(password, data.username)
    user = User(username=data.username, display_name=data.display_name, role=Role(data.role),
                unit_id=data.unit_id, email=data.email, mobile=data.mobile,
                preferred_language=data.preferred_language, is_active=True)
    set_password(user, password, temporary=True)
    db.session.add(user)
    db.session.flush()
    audit.record("user.create", actor=actor, obj=user,
                 details={"username": user.username, "role": str(user.role),
                          "unit_id": user.unit_id})
    return user


def update_user(user: User, data: UserData, actor: User) -> User:
    """Edit profile, role and unit; the audit row lists what changed from what."""
    data.username = user.username  # usernames never change: audit rows refer to them
    _check_user_data(data, user)
    changes = {}
    for field in ("display_name", "role", "unit_id", "email", "mobile", "preferred_language"):
        old, new = getattr(user, field), getattr(data, field)
        if field == "role":
            new = Role(new)
        if old != new:
            changes[field] = [str(old) if old is not None else None,
                              str(new) if new is not None else None]
            setattr(user, field, new)
    if "role" in changes or "unit_id" in changes:
        user.rotate_session_token()
    db.session.flush()
    audit.record("user.update", actor=actor, obj=user, details={"changes": changes})
    return user


def set_user_active(user: User, active: bool, actor: User) -> User:
    """Deactivate (or reactivate) an account; accounts are never deleted."""
    if user.id == actor.id and not active:
        raise ValidationFailed(_("You cannot deactivate your own account."))
    user.is_active = active
    user.rotate_session_token()
    audit.record("user.activate" if active else "user.deactivate", actor=actor, obj=user)
    db.session.flush()
    return user


def reset_password(user: User, actor: User) -> str:
    """Give the user a random temporary password (returned once) and unlock the account."""
    temporary = generate_temporary_password()
    set_password(user, temporary, temporary=True)
    user.failed_login_count = 0
    user.locked_until = None
    audit.record("user.reset_password", actor=actor, obj=user)
    db.session.flush()
    return temporary


@dataclass
class UnitData:
    """Plain data for creating or editing a unit."""

    name: str
    code: str
    kind: UnitKind


def _check_unit_data(data: UnitData, unit: Unit | None = None) -> None:
    for column, value, message in (
        (Unit.name, data.name, _("A unit with this name already exists.")),
        (Unit.code, data.code, _("A unit with this code already exists.")),
    ):
        other = db.session.scalar(sa.select(Unit).where(column == value))
        if other is not None and other is not unit:
            raise ValidationFailed(message)


def create_unit(data: UnitData, actor: User) -> Unit:
    """Add a department or area body."""
    data.code = data.code.strip().upper()
    _check_unit_data(data)
    unit = Unit(name=data.name.strip(), code=data.code, kind=UnitKind(data.kind), is_active=True)
    db.session.add(unit)
    db.session.flush()
    audit.record("unit.create", actor=actor, obj=unit,
                 details={"name": unit.name, "code": unit.code, "kind": str(unit.kind)})
    return unit


def update_unit(unit: Unit, data: UnitData, actor: User) -> Unit:
    """Rename or re-code a unit; the audit row keeps the old values."""
    data.code = data.code.strip().upper()
    data.name = data.name.strip()
    _check_unit_data(data, unit)
    changes = {}
    for field in ("name", "code", "kind"):
        old, new = getattr(unit, field), getattr(data, field)
        if str(old) != str(new):
            changes[field] = [str(old), str(new)]
    unit.name, unit.code, unit.kind = data.name, data.code, UnitKind(data.kind)
    db.session.flush()
    audit.record("unit.update", actor=actor, obj=unit, details={"changes": changes})
    return unit


def set_unit_active(unit: Unit, active: bool, actor: User) -> Unit:
    """Deactivate a unit (it keeps its history; it is no longer offered in forms)."""
    unit.is_active = active
    audit.record("unit.activate" if active else "unit.deactivate", actor=actor, obj=unit)
    db.session.flush()
    return unit
