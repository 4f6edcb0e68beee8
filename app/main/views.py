"""Home page: each role lands on the page that matters to it."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from flask import redirect, render_template, url_for
from flask_login import current_user

from app.auth.models import Unit, User
from app.core.audit import AuditEvent
from app.core.clock import now_utc
from app.core.navigation import nav_for
from app.core.permissions import ROLE_LABELS, Permission
from app.core.security import public
from app.extensions import db
from app.main import bp
from app.sla.services import calendar_alert


@bp.route("/")
@public
def index():
    """Front door: signed-in users go home; visitors get the public request form."""
    if current_user.is_authenticated:
        return redirect(url_for("main.home"))
    from app.portal.views import request_form_page

    return request_form_page()


@bp.route("/home")
def home():
    """The role's own home page with the figures it needs first."""
    context = {"role_label": ROLE_LABELS[current_user.role], "sections": nav_for(current_user)}
    if current_user.can(Permission.USER_MANAGE):
        context["admin_figures"] = _admin_figures()
    if current_user.can(Permission.AUDIT_VIEW):
        context["audit_figures"] = _audit_figures()
    if current_user.can(Permission.CALENDAR_MANAGE) or current_user.can(Permission.REPORT_VIEW_ALL):
        context["calendar_gaps"] = calendar_alert()
    return render_template("main/home.html", **context)


def _admin_figures() -> dict:
    now = now_utc()
    return {
        "users": db.session.scalar(sa.select(sa.func.count(User.id)).where(User.is_active)),
        "units": db.session.scalar(sa.select(sa.func.count(Unit.id)).where(Unit.is_active)),
        "locked": db.session.scalar(
            sa.select(sa.func.count(User.id)).where(User.locked_until > now)
        ),
    }


def _audit_figures() -> dict:
    since = now_utc() - timedelta(hours=24)
    failures = sa.select(sa.func.count(AuditEvent.id)).where(
        AuditEvent.at >= since, AuditEvent.success.is_(False)
    )
    recent = sa.select(AuditEvent).order_by(AuditEvent.at.desc(), AuditEvent.id.desc()).limit(10)
    return {
        "failures_24h": db.session.scalar(failures),
        "recent": db.session.scalars(recent).all(),
    }
