"""User and unit administration. Every change is one transaction with its audit row."""

from __future__ import annotations

from flask import redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.admin import bp, queries
from app.admin.forms import UnitForm, UserFilterForm, UserForm
from app.auth import services
from app.auth.models import Unit, User
from app.core.forms import ConfirmForm, options
from app.core.pagination import paginate
from app.core.permissions import Permission, require_permission
from app.core.transactions import commit_or_explain
from app.extensions import db


def _units():
    return db.session.scalars(queries.active_units()).all()


@bp.route("/users")
@require_permission(Permission.USER_MANAGE)
def users():
    """Searchable, filterable list of accounts."""
    form = UserFilterForm(request.args)
    form.unit.choices = options([("", _("All units"))] + [(str(u.id), u.name) for u in _units()])
    stmt = queries.users_query(form.q.data or "", form.role.data or "", form.unit.data or "",
                               form.status.data or "")
    return render_template("admin/users.html", form=form, page=paginate(stmt),
                           confirm=ConfirmForm())


def _user_data(form: UserForm) -> services.UserData:
    return services.UserData(
        username=form.username.data, display_name=form.display_name.data.strip(),
        role=form.role_value, unit_id=form.unit_id.data or None,
        email=form.email.data or None, mobile=form.mobile.data or None,
        preferred_language=form.preferred_language.data or None,
    )


@bp.route("/users/new", methods=["GET", "POST"])
@require_permission(Permission.USER_MANAGE)
def user_create():
    """Create an account with an initial password to be changed at first sign-in."""
    form = UserForm()
    form.set_unit_choices(_units())
    if form.validate_on_submit():
        created = commit_or_explain(
            lambda: services.create_user(_user_data(form), form.password.data or "", current_user),
            lambda user: _("User %(name)s created.", name=user.username))
        if created:
            return redirect(url_for("admin.users"))
    return render_template("admin/user_form.html", form=form, user=None)


@bp.route("/users/<int:user_id>/edit", methods=["GET", "POST"])
@require_permission(Permission.USER_MANAGE)
def user_edit(user_id: int):
    """Change a user's profile, role or unit (the username stays)."""
    user = db.get_or_404(User, user_id)
    form = UserForm(obj=user)
    form.set_unit_choices(_units() + ([user.unit] if user.unit and not user.unit.is_active else []))
    del form.password
    if request.method == "GET":
        form.unit_id.data = user.unit_id or 0
        form.preferred_language.data = user.preferred_language or ""
    form.username.data = user.username
    if form.validate_on_submit() and commit_or_explain(
            lambda: services.update_user(user, _user_data(form), current_user),
            _("User %(name)s updated.", name=user.username)):
        return redirect(url_for("admin.users"))
    return render_template("admin/user_form.html", form=form, user=user)


@bp.route("/users/<int:user_id>/<any(activate, deactivate):action>", methods=["POST"])
@require_permission(Permission.USER_MANAGE)
def user_set_active(user_id: int, action: str):
    """Deactivate or reactivate an account (never deleted)."""
    user = db.get_or_404(User, user_id)
    if ConfirmForm().validate_on_submit():
        active = action == "activate"
        commit_or_explain(lambda: services.set_user_active(user, active, current_user),
                          _("User %(name)s updated.", name=user.username))
    return redirect(url_for("admin.users"))


@bp.route("/users/<int:user_id>/reset-password", methods=["POST"])
@require_permission(Permission.USER_MANAGE)
def user_reset_password(user_id: int):
    """Set a random temporary password, shown once to the admin, and unlock the account."""
    user = db.get_or_404(User, user_id)
    if not ConfirmForm().validate_on_submit():
        return redirect(url_for("admin.users"))
    temporary = commit_or_explain(lambda: services.reset_password(user, current_user))
    return render_template("admin/password_reset.html", user=user, temporary=temporary)


@bp.route("/units")
@require_permission(Permission.UNIT_MANAGE)
def units():
    """Departments and area bodies."""
    q, status = request.args.get("q", ""), request.args.get("status", "")
    return render_template("admin/units.html", page=paginate(queries.units_query(q, status)),
                           q=q, status=status, confirm=ConfirmForm())


@bp.route("/units/new", methods=["GET", "POST"])
@bp.route("/units/<int:unit_id>/edit", methods=["GET", "POST"])
@require_permission(Permission.UNIT_MANAGE)
def unit_form(unit_id: int | None = None):
    """Create or edit a unit."""
    unit = db.get_or_404(Unit, unit_id) if unit_id else None
    form = UnitForm(obj=unit)
    if form.validate_on_submit():
        data = services.UnitData(form.name.data, form.code.data, form.kind.data)
        saved = commit_or_explain(
            lambda: services.update_unit(unit, data, current_user) if unit
            else services.create_unit(data, current_user),
            lambda saved_unit: _("Unit %(name)s saved.", name=saved_unit.name))
        if saved:
            return redirect(url_for("admin.units"))
    return render_template("admin/unit_form.html", form=form, unit=unit)


@bp.route("/units/<int:unit_id>/<any(activate, deactivate):action>", methods=["POST"])
@require_permission(Permission.UNIT_MANAGE)
def unit_set_active(unit_id: int, action: str):
    """Deactivate or reactivate a unit."""
    unit = db.get_or_404(Unit, unit_id)
    if ConfirmForm().validate_on_submit():
        active = action == "activate"
        commit_or_explain(lambda: services.set_unit_active(unit, active, current_user),
                          _("Unit %(name)s saved.", name=unit.name))
    return redirect(url_for("admin.units"))

