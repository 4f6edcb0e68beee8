"""Admin pages for ticket categories and the dispatch catalogue (category → suggested lead unit).

Categories are never deleted — tickets refer to them — so they are deactivated instead. Each
category carries at most one dispatch rule; editing the category edits its rule, so the admin
sees the catalogue as one list.
"""

from __future__ import annotations

import sqlalchemy as sa
from flask import abort, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import IntegerField, SelectField, StringField, SubmitField
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from app.auth.models import Unit
from app.core import audit
from app.core.errors import ValidationFailed
from app.core.forms import options
from app.core.pagination import paginate
from app.core.permissions import Permission, require_permission
from app.core.search import contains
from app.core.transactions import commit_or_explain
from app.extensions import db
from app.tickets import bp
from app.tickets.models import Category, DispatchRule


class CatalogueInvalid(ValidationFailed):
    """A refusal that belongs next to one form field."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field


class CategoryForm(FlaskForm):
    code = StringField(_l("Code"), validators=[DataRequired(), Length(max=32)])
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=100)])
    sort_order = IntegerField(_l("Sort order"), default=100,
                              validators=[DataRequired(), NumberRange(min=0, max=100000)])
    lead_unit = SelectField(_l("Suggested lead unit"), coerce=int, validators=[Optional()])
    submit = SubmitField(_l("Save"))


# -- services ------------------------------------------------------------------------------------


def _check_unique(category: Category | None, code: str, name: str) -> None:
    own_id = category.id if category is not None else None
    for field, column, value in (("code", Category.code, code), ("name", Category.name, name)):
        clash = db.session.scalar(sa.select(Category.id).where(column == value,
                                                               Category.id != own_id))
        if clash is not None:
            raise CatalogueInvalid(field, _("Another category already uses this value."))


def _lead_unit(unit_id: int | None) -> Unit | None:
    if not unit_id:
        return None
    unit = db.session.get(Unit, unit_id)
    if unit is None or not unit.is_active:
        raise CatalogueInvalid("lead_unit", _("Choose an active unit."))
    return unit


def save_category(category: Category | None, actor, *, code: str, name: str, sort_order: int,
                  lead_unit_id: int | None) -> Category:
    """Create or edit a category and its dispatch rule; flushes, the caller commits."""
    code, name = code.strip(), name.strip()
    _check_unique(category, code, name)
    unit = _lead_unit(lead_unit_id)
    created = category is None
    if created:
        category = Category(is_active=True)
        db.session.add(category)
    category.code, category.name, category.sort_order = code, name, sort_order
    db.session.flush()
    rule = db.session.scalar(sa.select(DispatchRule).where(DispatchRule.category_id == category.id))
    if unit is not None and rule is None:
        db.session.add(DispatchRule(category_id=category.id, lead_unit_id=unit.id, is_active=True))
    elif unit is not None:
        rule.lead_unit_id, rule.is_active = unit.id, True
    elif rule is not None:
        rule.is_active = False
    db.session.flush()
    audit.record("ticket.category_created" if created else "ticket.category_updated",
                 actor=actor, obj=category,
                 details={"code": code, "name": name, "lead_unit_id": unit.id if unit else None})
    return category


def set_category_active(category: Category, actor, active: bool) -> Category:
    """Deactivate (hide from new tickets) or reactivate a category; never delete it."""
    category.is_active = active
    db.session.flush()
    audit.record("ticket.category_reactivated" if active else "ticket.category_deactivated",
                 actor=actor, obj=category, details={"code": category.code})
    return category


# -- views ---------------------------------------------------------------------------------------


def _form(category: Category | None) -> CategoryForm:
    form = CategoryForm(obj=category)
    units = db.session.scalars(sa.select(Unit).where(Unit.is_active.is_(True))
                               .order_by(Unit.name)).all()
    form.lead_unit.choices = options([(0, "—")] + [(u.id, u.name) for u in units])
    if request.method == "GET" and category is not None:
        form.lead_unit.data = db.session.scalar(sa.select(DispatchRule.lead_unit_id).where(
            DispatchRule.category_id == category.id, DispatchRule.is_active.is_(True))) or 0
    return form


def _save(form: CategoryForm, category: Category | None):
    errors: dict[str, str] = {}

    def call():
        try:
            return save_category(category, current_user, code=form.code.data,
                                 name=form.name.data, sort_order=form.sort_order.data,
                                 lead_unit_id=form.lead_unit.data or None)
        except CatalogueInvalid as error:
            errors[error.field] = str(error)
            raise

    result = commit_or_explain(call, _("Category saved."))
    for field, message in errors.items():
        getattr(form, field).errors = [message]
    return result


@bp.route("/categories")
@require_permission(Permission.TICKET_CONFIGURE)
def categories():
    """Every category with its suggested lead unit, searchable, inactive ones included."""
    q = (request.args.get("q") or "").strip()
    statement = sa.select(Category)
    if q:
        statement = statement.where(contains(q, Category.code, Category.name))
    page = paginate(statement.order_by(Category.is_active.desc(), Category.sort_order,
                                       Category.id))
    leads = dict(db.session.execute(
        sa.select(DispatchRule.category_id, Unit.name)
        .join(Unit, Unit.id == DispatchRule.lead_unit_id)
        .where(DispatchRule.is_active.is_(True),
               DispatchRule.category_id.in_([c.id for c in page.items]))).all())
    return render_template("tickets/catalogue/list.html", page=page, q=q, leads=leads)


@bp.route("/categories/new", methods=["GET", "POST"])
@require_permission(Permission.TICKET_CONFIGURE)
def category_new():
    form = _form(None)
    if form.validate_on_submit() and _save(form, None):
        return redirect(url_for("tickets.categories"))
    return render_template("tickets/catalogue/form.html", form=form, category=None)


@bp.route("/categories/<int:category_id>", methods=["GET", "POST"])
@require_permission(Permission.TICKET_CONFIGURE)
def category_edit(category_id: int):
    category = db.session.get(Category, category_id) or abort(404)
    form = _form(category)
    if form.validate_on_submit() and _save(form, category):
        return redirect(url_for("tickets.categories"))
    return render_template("tickets/catalogue/form.html", form=form, category=category)


@bp.route("/categories/<int:category_id>/active", methods=["POST"])
@require_permission(Permission.TICKET_CONFIGURE)
def category_set_active(category_id: int):
    """Deactivate or reactivate; the posted ``active`` says which."""
    category = db.session.get(Category, category_id) or abort(404)
    active = request.args.get("active") == "1"
    commit_or_explain(lambda: set_category_active(category, current_user, active),
                      _("Category reactivated.") if active else _("Category deactivated."))
    return redirect(url_for("tickets.categories"))
