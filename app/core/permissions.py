"""Roles, permissions and the one map between them (DOMAIN §1).

Code checks permissions, never role names: adding a role or moving a right is an edit to
``ROLE_PERMISSIONS`` alone.
"""

from __future__ import annotations

from enum import StrEnum
from functools import wraps

from flask import abort
from flask_babel import lazy_gettext as _l
from flask_login import current_user


class Role(StrEnum):
    """The seven roles of DOMAIN §1; a user has exactly one."""

    FIRM_USER = "firm_user"
    HANDLER = "handler"
    UNIT_LEAD = "unit_lead"
    DISPATCHER = "dispatcher"
    SUPERVISOR = "supervisor"
    ADMIN = "admin"
    AUDITOR = "auditor"


ROLE_LABELS = {
    Role.FIRM_USER: _l("Firm user"),
    Role.HANDLER: _l("Handler"),
    Role.UNIT_LEAD: _l("Unit lead"),
    Role.DISPATCHER: _l("Dispatcher"),
    Role.SUPERVISOR: _l("Supervisor"),
    Role.ADMIN: _l("System administrator"),
    Role.AUDITOR: _l("Audit administrator"),
}

#: Staff roles handle cases and therefore belong to exactly one unit (DOMAIN §1).
UNIT_ROLES = frozenset({Role.HANDLER, Role.UNIT_LEAD, Role.DISPATCHER, Role.SUPERVISOR})

#: Administrative roles get the shorter idle timeout of DOMAIN §8.
ADMIN_ROLES = frozenset({Role.ADMIN, Role.AUDITOR})


class Permission(StrEnum):
    """Rights that routes and predicates check."""

    USER_MANAGE = "user.manage"
    UNIT_MANAGE = "unit.manage"
    AUDIT_VIEW = "audit.view"
    AUDIT_EXPORT = "audit.export"
    FIRM_VIEW = "firm.view"
    FIRM_EDIT = "firm.edit"
    FIRM_IMPORT = "firm.import"
    FIRM_EXPORT = "firm.export"
    FIRM_UNMASK = "firm.unmask"
    FIRM_ACCEPT_LEGACY_USCC = "firm.accept_legacy_uscc"
    FIRM_EDIT_SERVED = "firm.edit_served"


P = Permission

_STAFF_READ = {P.FIRM_VIEW, P.FIRM_EXPORT, P.FIRM_UNMASK}

ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.FIRM_USER: frozenset(),
    Role.HANDLER: frozenset(_STAFF_READ | {P.FIRM_EDIT_SERVED}),
    Role.UNIT_LEAD: frozenset(_STAFF_READ | {P.FIRM_EDIT_SERVED}),
    Role.DISPATCHER: frozenset(_STAFF_READ | {P.FIRM_EDIT, P.FIRM_IMPORT, P.FIRM_EDIT_SERVED}),
    Role.SUPERVISOR: frozenset(_STAFF_READ | {P.FIRM_ACCEPT_LEGACY_USCC, P.FIRM_EDIT_SERVED}),
    Role.ADMIN: frozenset(
        _STAFF_READ | {P.USER_MANAGE, P.UNIT_MANAGE, P.FIRM_EDIT, P.FIRM_IMPORT}
    ),
    Role.AUDITOR: frozenset({P.AUDIT_VIEW, P.AUDIT_EXPORT}),
}


def role_has(role: Role | str | None, permission: Permission) -> bool:
    """Whether a role carries a permission (unknown roles carry none)."""
    try:
        return permission in ROLE_PERMISSIONS[Role(role)]
    except ValueError:
        return False


def require_permission(permission: Permission):
    """Route gate: anonymous users go to sign-in (401 for JSON), others without it get 403."""

    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            from app.extensions import login_manager

            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            if not current_user.can(permission):
                abort(403)
            return view(*args, **kwargs)

        wrapped.required_permission = permission
        return wrapped

    return decorator


def require(condition: bool) -> None:
    """Object-level gate for views: refuse with 404 so a hidden object's existence never leaks."""
    if not condition:
        abort(404)
