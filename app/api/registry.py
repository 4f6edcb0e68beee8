"""``/api/v1/``: the caller, and the reference data beside the tickets — categories, units,
the firm registry and visits with their issues — under the same permissions and predicates
as their pages."""

from __future__ import annotations

import sqlalchemy as sa
from flask import abort
from flask_login import current_user

from app.api import ApiBlueprint, schemas, services
from app.api.tickets import documented
from app.auth.models import Unit
from app.core.clock import now_utc
from app.core.errors import problem
from app.core.permissions import Permission, require_permission
from app.extensions import db
from app.tickets import queries as ticket_queries

blp = ApiBlueprint("api_registry", __name__, url_prefix="/api/v1",
                description="The caller, categories, units, firms and visits")


@blp.route("/me")
@blp.response(200, schemas.Me)
@documented(401, 429)
def me():
    """Who the token acts as: the user (or the client's service account) and its scopes."""
    user = current_user._get_current_object()
    token = user.api_token
    client = services.client_of(user)
    return {"username": user.username, "display_name": user.display_name,
            "role": user.role, "unit": ({"id": user.unit.id, "name": user.unit.name}
                                        if user.unit is not None else None),
            "scopes": token.scopes.split(), "client": client.name if client else None}


@blp.route("/categories")
@require_permission(Permission.TICKET_VIEW)
@blp.response(200, schemas.CategoryList)
@documented(401, 403, 429)
def categories():
    """The ticket categories offered on forms, in their order."""
    rows = db.session.scalars(ticket_queries.active_categories()).all()
    return {"items": [{"id": c.id, "name": c.name, "code": c.code} for c in rows]}


@blp.route("/units")
@require_permission(Permission.TICKET_VIEW)
@blp.response(200, schemas.UnitList)
@documented(401, 403, 429)
def units():
    """The active handling units (for dispatch and filters)."""
    rows = db.session.scalars(sa.select(Unit).where(Unit.is_active.is_(True))
                              .order_by(Unit.name)).all()
    return {"items": [{"id": u.id, "name": u.name, "code": u.code, "kind": u.kind}
                      for u in rows]}


# -- firms -------------------------------------------------------------------------------------


def _firm(firm) -> dict:
    return {"id": firm.id, "uscc": firm.uscc, "name": firm.name,
            "english_name": firm.english_name,
            "area": {"id": firm.area.id, "name": firm.area.name},
            "industry_code": firm.industry_code, "capital_origin": firm.capital_origin,
            "is_key_enterprise": firm.is_key_firm, "is_archived": firm.archived_at is not None,
            "updated_at": firm.updated_at}


def _page(statement: sa.Select, id_column, cursor: str | None, limit: int):
    """Rows by id, newest first, after the cursor (the last id of the previous page)."""
    if cursor:
        statement = statement.where(id_column < int(cursor.partition(".")[2]))
    rows = db.session.scalars(statement.order_by(id_column.desc()).limit(limit + 1)).unique() \
        .all()
    more = len(rows) > limit
    rows = rows[:limit]
    return rows, (f"n.{rows[-1].id}" if more else None)


@blp.route("/firms")
@require_permission(Permission.FIRM_VIEW)
@blp.arguments(schemas.FirmListArgs, location="query", as_kwargs=True)
@blp.response(200, schemas.FirmList)
@documented(400, 401, 403, 422, 429)
def list_firms(cursor=None, limit=25, q=None):
    """The firm registry, newest first; ``q`` searches names and the USCC."""
    from app.firms.models import Firm
    from app.firms.queries import FirmFilters, firms_query

    statement = firms_query(FirmFilters(q=q or "", status=""), now_utc().date()) \
        .order_by(None)
    rows, next_cursor = _page(statement, Firm.id, cursor, limit)
    return {"items": [_firm(f) for f in rows], "next_cursor": next_cursor}


@blp.route("/firms/<int(max=2147483647):firm_id>")
@require_permission(Permission.FIRM_VIEW)
@blp.response(200, schemas.FirmOut)
@documented(401, 403, 404, 429)
def get_firm(firm_id: int):
    """One firm of the registry."""
    from app.firms.models import Firm

    firm = db.session.get(Firm, firm_id)
    if firm is None:
        abort(problem(404, kind="not-found"))
    return _firm(firm)


# -- visits ------------------------------------------------------------------------------------


def _visit(visit) -> dict:
    from app.tickets.models import Ticket
    from app.visits.models import VisitIssue

    issues = db.session.execute(
        sa.select(VisitIssue, Ticket.reference).outerjoin(Ticket, Ticket.id == VisitIssue.ticket_id)
        .where(VisitIssue.visit_id == visit.id).order_by(VisitIssue.id)).all()
    return {"id": visit.id, "visited_at": visit.visited_at, "mode": visit.mode,
            "firm": {"id": visit.firm.id, "name": visit.firm.name, "uscc": visit.firm.uscc},
            "lead_visitor": visit.lead_visitor.display_name if visit.lead_visitor else None,
            "issues": [{"id": issue.id, "description": issue.description,
                        "category": ({"id": issue.category.id, "name": issue.category.name}
                                     if issue.category is not None else None),
                        "solved_on_site": issue.is_solved_on_site,
                        "ticket_reference": reference} for issue, reference in issues]}


@blp.route("/visits")
@require_permission(Permission.VISIT_VIEW_UNIT)
@blp.arguments(schemas.VisitListArgs, location="query", as_kwargs=True)
@blp.response(200, schemas.VisitList)
@documented(400, 401, 403, 422, 429)
def list_visits(cursor=None, limit=25, firm_id=None):
    """The visits the caller may see, newest first, with their issues."""
    from app.visits.models import Visit
    from app.visits.queries import visible_visits

    statement = visible_visits(current_user._get_current_object())
    if firm_id is not None:
        statement = statement.where(Visit.firm_id == firm_id)
    rows, next_cursor = _page(statement, Visit.id, cursor, limit)
    return {"items": [_visit(v) for v in rows], "next_cursor": next_cursor}


@blp.route("/visits/<int(max=2147483647):visit_id>")
@require_permission(Permission.VISIT_VIEW_UNIT)
@blp.response(200, schemas.VisitOut)
@documented(401, 403, 404, 429)
def get_visit(visit_id: int):
    """One visit the caller may see, with its issues."""
    from app.visits.models import Visit

    visit = db.session.get(Visit, visit_id)
    if visit is None or not visit.can_view(current_user._get_current_object()):
        abort(problem(404, kind="not-found"))
    return _visit(visit)
