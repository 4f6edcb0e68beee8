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
    # Tickets (DOMAIN §1, §3.1). Object rules (whose unit, whose firm) are predicates.
    TICKET_VIEW = "ticket.view"
    TICKET_VIEW_ALL = "ticket.view_all"
    TICKET_VIEW_UNIT = "ticket.view_unit"
    TICKET_VIEW_OWN = "ticket.view_own"
    TICKET_CREATE = "ticket.create"
    TICKET_INTAKE = "ticket.intake"
    TICKET_DISPATCH = "ticket.dispatch"
    TICKET_HANDLE = "ticket.handle"
    TICKET_ENDORSE_EXTENSION = "ticket.endorse_extension"
    TICKET_SIGN_FINAL_REPLY = "ticket.sign_final_reply"
    TICKET_APPROVE_UNIT_REPLY = "ticket.approve_unit_reply"
    TICKET_APPROVE_REPLY = "ticket.approve_reply"
    TICKET_FOLLOW_UP = "ticket.follow_up"
    TICKET_REOPEN = "ticket.reopen"
    TICKET_REOPEN_BEYOND_LIMIT = "ticket.reopen_beyond_limit"
    TICKET_REOPEN_CLOSED = "ticket.reopen_closed"
    TICKET_RATE = "ticket.rate"
    TICKET_SUPPLY_INFO = "ticket.supply_info"
    TICKET_WITHDRAW = "ticket.withdraw"
    TICKET_URGE = "ticket.urge"
    TICKET_SUPERVISE = "ticket.supervise"
    TICKET_DECIDE_EXTENSION = "ticket.decide_extension"
    TICKET_APPROVE_FINAL_REPLY = "ticket.approve_final_reply"
    TICKET_COMMENT = "ticket.comment"
    TICKET_CONFIGURE = "ticket.configure"
    # Public portal, firm accounts and 好差评 ratings (DOMAIN §3, §4).
    PORTAL_USE = "portal.use"
    FIRM_ACCOUNT_APPROVE = "portal.approve_firm_account"
    SNIPPET_MANAGE = "portal.snippet_manage"
    RATING_RECORD = "rating.record"
    RATING_SEE_EVALUATOR = "rating.see_evaluator"
    RECTIFICATION_VIEW = "rectification.view"
    RECTIFICATION_CALLBACK = "rectification.callback"
    RECTIFICATION_HANDLE = "rectification.handle"
    RECTIFICATION_SUPERVISE = "rectification.supervise"
    RATING_CONFIGURE = "rating.configure"
    # The working calendar and SLA policies (DOMAIN §3.2 [cfg]).
    CALENDAR_MANAGE = "calendar.manage"
    SLA_MANAGE = "sla.manage"
    # Supervisor reports (DOMAIN §7): unit leads see their own unit, supervisors every unit.
    REPORT_VIEW = "report.view"
    REPORT_VIEW_ALL = "report.view_all"
    REPORT_EXPORT = "report.export"
    # Visits (DOMAIN §5) and lifecycle projects (§6); which visit or project is a predicate.
    VISIT_VIEW_ALL = "visit.view_all"
    #: Open visit pages at all; which visits is the predicate (unit, served firms, own).
    VISIT_VIEW_UNIT = "visit.view_unit"
    VISIT_LOG = "visit.log"
    VISIT_EDIT_LOCKED = "visit.edit_locked"
    VISIT_REPORT = "visit.report"
    VISIT_CAMPAIGN_MANAGE = "visit.campaign_manage"
    VISIT_CONFIGURE = "visit.configure"
    PROJECT_VIEW = "project.view"
    PROJECT_VIEW_ALL = "project.view_all"
    PROJECT_MANAGE = "project.manage"
    PROJECT_MANAGE_ALL = "project.manage_all"
    PROJECT_CONFIGURE = "project.configure"
    # Background jobs: see, retry and cancel every job on /admin/jobs (administrators).
    JOB_MANAGE = "job.manage"
    # One's own exports and imports (their progress, result and files): every staff role.
    JOB_OWN = "job.own"
    # The machine interface: one's own API tokens; integration clients and everyone's tokens.
    API_TOKEN_OWN = "api.token_own"  # noqa: S105 - a permission's name
    API_CLIENT_MANAGE = "api.client_manage"


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

_TICKET_HANDLER = {P.TICKET_VIEW, P.TICKET_VIEW_UNIT, P.TICKET_CREATE, P.TICKET_HANDLE,
                   P.TICKET_COMMENT}
#: Ticket rights per role (DOMAIN §1 and the "who" column of §3.1); admins and auditors handle none.
_TICKET_PERMISSIONS: dict[Role, set[Permission]] = {
    Role.FIRM_USER: {P.TICKET_VIEW, P.TICKET_VIEW_OWN, P.TICKET_CREATE, P.TICKET_RATE,
                     P.TICKET_SUPPLY_INFO, P.TICKET_WITHDRAW},
    Role.HANDLER: _TICKET_HANDLER,
    Role.UNIT_LEAD: _TICKET_HANDLER | {P.TICKET_ENDORSE_EXTENSION, P.TICKET_SIGN_FINAL_REPLY,
                                       P.TICKET_APPROVE_UNIT_REPLY},
    Role.DISPATCHER: {P.TICKET_VIEW, P.TICKET_VIEW_ALL, P.TICKET_CREATE, P.TICKET_INTAKE,
                      P.TICKET_DISPATCH, P.TICKET_APPROVE_REPLY, P.TICKET_FOLLOW_UP,
                      P.TICKET_REOPEN, P.TICKET_WITHDRAW, P.TICKET_URGE, P.TICKET_COMMENT},
    Role.SUPERVISOR: {P.TICKET_VIEW, P.TICKET_VIEW_ALL, P.TICKET_SUPERVISE,
                      P.TICKET_DECIDE_EXTENSION, P.TICKET_APPROVE_FINAL_REPLY,
                      P.TICKET_REOPEN_CLOSED, P.TICKET_REOPEN_BEYOND_LIMIT, P.TICKET_COMMENT},
    Role.ADMIN: {P.TICKET_CONFIGURE},
}
ROLE_PERMISSIONS = {role: rights | _TICKET_PERMISSIONS.get(role, set())
                    for role, rights in ROLE_PERMISSIONS.items()}

#: The calendar and SLA policies are configuration: administrators only (DOMAIN §1).
ROLE_PERMISSIONS[Role.ADMIN] = ROLE_PERMISSIONS[Role.ADMIN] | {P.CALENDAR_MANAGE, P.SLA_MANAGE}

#: Reports (DOMAIN §1, §7): supervisors see every unit, a unit lead only their own; handlers none.
ROLE_PERMISSIONS[Role.SUPERVISOR] = ROLE_PERMISSIONS[Role.SUPERVISOR] | {
    P.REPORT_VIEW, P.REPORT_VIEW_ALL, P.REPORT_EXPORT}
ROLE_PERMISSIONS[Role.UNIT_LEAD] = ROLE_PERMISSIONS[Role.UNIT_LEAD] | {
    P.REPORT_VIEW, P.REPORT_EXPORT}

_VISITOR = {P.VISIT_VIEW_UNIT, P.VISIT_LOG, P.PROJECT_VIEW, P.PROJECT_MANAGE}
#: Visit and project rights (DOMAIN §5, §6): firm users and auditors see no visit notes.
_VISIT_PERMISSIONS: dict[Role, set[Permission]] = {
    Role.HANDLER: _VISITOR,
    Role.UNIT_LEAD: _VISITOR | {P.VISIT_REPORT},
    Role.DISPATCHER: {P.VISIT_VIEW_UNIT, P.VISIT_VIEW_ALL, P.VISIT_LOG, P.VISIT_REPORT,
                      P.PROJECT_VIEW, P.PROJECT_VIEW_ALL},
    Role.SUPERVISOR: {P.VISIT_VIEW_UNIT, P.VISIT_VIEW_ALL, P.VISIT_LOG, P.VISIT_EDIT_LOCKED,
                      P.VISIT_REPORT, P.VISIT_CAMPAIGN_MANAGE, P.PROJECT_VIEW, P.PROJECT_VIEW_ALL,
                      P.PROJECT_MANAGE, P.PROJECT_MANAGE_ALL},
    Role.ADMIN: {P.VISIT_CONFIGURE, P.PROJECT_CONFIGURE},
}
ROLE_PERMISSIONS = {role: rights | frozenset(_VISIT_PERMISSIONS.get(role, set()))
                    for role, rights in ROLE_PERMISSIONS.items()}


#: Portal and rating rights (DOMAIN §1, §4): the service centre calls back and records ratings,
#: units rectify, supervisors decide appeals and extensions; evaluators stay hidden from units.
_PORTAL_PERMISSIONS: dict[Role, set[Permission]] = {
    Role.FIRM_USER: {P.PORTAL_USE},
    Role.HANDLER: {P.RECTIFICATION_VIEW, P.RECTIFICATION_HANDLE},
    Role.UNIT_LEAD: {P.RECTIFICATION_VIEW, P.RECTIFICATION_HANDLE},
    Role.DISPATCHER: {P.FIRM_ACCOUNT_APPROVE, P.SNIPPET_MANAGE, P.RATING_RECORD,
                      P.RATING_SEE_EVALUATOR, P.RECTIFICATION_VIEW, P.RECTIFICATION_CALLBACK},
    Role.SUPERVISOR: {P.RATING_SEE_EVALUATOR, P.RECTIFICATION_VIEW, P.RECTIFICATION_CALLBACK,
                      P.RECTIFICATION_SUPERVISE},
    Role.ADMIN: {P.RATING_CONFIGURE},
}
ROLE_PERMISSIONS = {role: rights | frozenset(_PORTAL_PERMISSIONS.get(role, set()))
                    for role, rights in ROLE_PERMISSIONS.items()}

#: Background jobs are operations: administrators watch, retry and cancel them.
ROLE_PERMISSIONS[Role.ADMIN] = ROLE_PERMISSIONS[Role.ADMIN] | {P.JOB_MANAGE}
ROLE_PERMISSIONS = {role: rights | ({P.JOB_OWN} if role != Role.FIRM_USER else set())
                    for role, rights in ROLE_PERMISSIONS.items()}

#: The machine interface (API): whoever handles or submits tickets may hold tokens that act
#: as themselves; administrators register integration clients and revoke anyone's token.
ROLE_PERMISSIONS = {role: rights | ({P.API_TOKEN_OWN} if role in UNIT_ROLES | {Role.FIRM_USER}
                                    else set())
                    for role, rights in ROLE_PERMISSIONS.items()}
ROLE_PERMISSIONS[Role.ADMIN] = ROLE_PERMISSIONS[Role.ADMIN] | {P.API_CLIENT_MANAGE}


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
