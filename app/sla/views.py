"""Admin pages for the working calendar, the SLA policies and the SLA settings."""

from __future__ import annotations

import logging
from datetime import date

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from app.core.clock import today_local
from app.core.errors import render_error
from app.core.navigation import register_nav
from app.core.pagination import paginate
from app.core.permissions import Permission, require_permission
from app.core.transactions import commit_or_explain, committed_in_request
from app.extensions import db
from app.sla import bp, queries, services
from app.sla.calendar import CalendarNotConfigured
from app.sla.enums import (
    DAY_KIND_LABELS,
    DAY_SOURCE_LABELS,
    DEMAND_TYPE_LABELS,
    LIMIT_UNIT_LABELS,
    SERVICE_MODE_LABELS,
    SLA_STEP_LABELS,
    URGENCY_LABELS,
    DayKind,
    SlaStep,
)
from app.sla.forms import (
    AddYearForm,
    DayEditForm,
    PolicyFilterForm,
    PolicyForm,
    PublishYearForm,
    SettingsForm,
)
from app.sla.models import SlaPolicy

register_nav("sla.calendar", _l("Working calendar"), Permission.CALENDAR_MANAGE, order=82,
             group="admin")
register_nav("sla.policies", _l("SLA policies"), Permission.SLA_MANAGE, order=83, group="admin")

logger = logging.getLogger("ruyi.sla")


@bp.app_errorhandler(CalendarNotConfigured)
def calendar_not_configured(error: CalendarNotConfigured):
    """Any page whose deadline needs a year without any working days says so plainly — and
    says truly whether the request's change was saved before it failed. Administrators are
    alerted (at most once a day a year)."""
    db.session.rollback()
    if committed_in_request():
        saved = _("Your change was saved; only this page could not be shown.")
    else:
        saved = _("Nothing was saved.")
    commit_or_explain(lambda: services.alert_calendar_missing(error.year, request.path))
    return render_error(
        503, _("Working calendar missing"),
        _("The working calendar has no days for %(year)s, so this deadline cannot be computed. "
          "%(saved)s The administrators have been told to enter %(year)s on the calendar "
          "page.", year=error.year, saved=saved))


@bp.app_errorhandler(services.PolicyNotConfigured)
def policy_not_configured(error: services.PolicyNotConfigured):
    """A missing policy row is a set-up fault: say which command fixes it."""
    db.session.rollback()
    logger.error("deadline refused on %s: %s", request.path, error)
    return render_error(503, _("SLA policy missing"),
                        _("No SLA policy applies to this ticket. Nothing was saved. An "
                          "administrator must run 'flask sla seed-policies'."))


def _year_arg() -> int:
    try:
        year = int(request.args.get("year", today_local().year))
    except ValueError:
        abort(404)
    if not 2000 <= year <= 2100:
        abort(404)
    return year


@bp.route("/calendar")
@require_permission(Permission.CALENDAR_MANAGE)
def calendar():
    """A year as twelve month grids, coloured by kind of day."""
    year = _year_arg()
    days = services.year_days(year)
    configured = services.configured_years()
    years = sorted(set(configured) | {today_local().year + 1})
    add_form = AddYearForm(formdata=None, year=max(configured) + 1 if days else year)
    status = services.year_status(year)
    provisional = status in ("provisional", "unsaved")
    return render_template(
        "sla/calendar.html", year=year, days=days, months=queries.year_grid(year),
        summary=queries.year_summary(days), years=years, add_form=add_form,
        missing=[gap.year for gap in services.calendar_gaps() if not gap.provisional],
        kind_labels=DAY_KIND_LABELS,
        source_labels=DAY_SOURCE_LABELS, status=status,
        publish_form=PublishYearForm(formdata=None, year=year),
        provisional_uses=services.provisional_uses() if provisional else 0,
        provisional_holidays=sorted({d.name for d in services.provisional_year(year) if d.name})
        if provisional else [],
    )


@bp.route("/calendar/days", methods=["GET", "POST"])
@require_permission(Permission.CALENDAR_MANAGE)
def calendar_edit():
    """Change a day (or a range of days) with a mandatory reason."""
    form = DayEditForm()
    row = None
    if request.method == "GET":
        try:
            form.first_day.data = date.fromisoformat(request.args.get("day", ""))
        except ValueError:
            form.first_day.data = today_local()
        row = services.year_days(form.first_day.data.year).get(form.first_day.data)
        if row is not None:
            form.kind.data, form.name.data = str(row.kind), row.name
    if form.validate_on_submit():
        first, last = form.first_day.data, form.last_day.data or form.first_day.data
        if commit_or_explain(
                lambda: services.set_days(first, last, DayKind(form.kind.data), form.name.data,
                                          form.reason.data, current_user),
                _("Calendar updated: %(first)s – %(last)s.", first=first.isoformat(),
                  last=last.isoformat()), form=form, field="kind"):
            return redirect(url_for("sla.calendar", year=first.year))
    return render_template("sla/day_form.html", form=form, row=row,
                           kind_labels=DAY_KIND_LABELS, source_labels=DAY_SOURCE_LABELS)


@bp.route("/calendar/years", methods=["POST"])
@require_permission(Permission.CALENDAR_MANAGE)
def calendar_add_year():
    """Add a whole year: from the official package if it knows it, else weekends only."""
    form = AddYearForm()
    if not form.validate_on_submit():
        flash(_("Enter a year between 2000 and 2100."), "danger")
        return redirect(url_for("sla.calendar"))
    result = commit_or_explain(lambda: services.add_year(form.year.data, current_user))
    if not result:
        return redirect(url_for("sla.calendar", year=form.year.data))
    if result.provisional:
        flash(_("%(year)s added with provisional days: weekends and the statutory holidays "
                "computed by rule, no make-up working days. Enter the holidays and make-up "
                "working days of the State Council notice, then publish the year.",
                year=result.year), "warning")
    else:
        flash(_("%(year)s added from the official calendar.", year=result.year), "success")
    return redirect(url_for("sla.calendar", year=result.year))


@bp.route("/calendar/publish", methods=["POST"])
@require_permission(Permission.CALENDAR_MANAGE)
def calendar_publish():
    """Confirm a provisional year as official: a job recomputes everything counted over it."""
    from app.sla.jobs import publish_year_job

    form = PublishYearForm()
    if not form.validate_on_submit():
        flash(_("Give the State Council notice the days follow."), "danger")
        return redirect(url_for("sla.calendar", year=form.year.data or None))
    job = commit_or_explain(lambda: publish_year_job.enqueue(
        actor=current_user, year=form.year.data, reason=form.reason.data))
    if not job:
        return redirect(url_for("sla.calendar", year=form.year.data))
    flash(_("Publishing %(year)s: the deadlines counted over its provisional days are being "
            "recomputed (job %(id)d).", year=form.year.data, id=job.id), "info")
    return redirect(url_for("jobs.detail", job_id=job.id))


@bp.route("/sla/policies")
@require_permission(Permission.SLA_MANAGE)
def policies():
    """Every policy, filterable by service mode, demand type, urgency and complex flag."""
    form = PolicyFilterForm(request.args)
    stmt = queries.policies_query(form.service_mode.data or "", form.demand_type.data or "",
                                  form.urgency.data or "", form.complex.data or "")
    return render_template("sla/policies.html", form=form, page=paginate(stmt),
                           settings=services.get_settings(), **_labels())


def _labels() -> dict:
    return {"mode_labels": SERVICE_MODE_LABELS, "demand_labels": DEMAND_TYPE_LABELS,
            "urgency_labels": URGENCY_LABELS, "step_labels": SLA_STEP_LABELS,
            "unit_labels": LIMIT_UNIT_LABELS, "steps": list(SlaStep)}


@bp.route("/sla/policies/<int:policy_id>", methods=["GET", "POST"])
@require_permission(Permission.SLA_MANAGE)
def policy_edit(policy_id: int):
    """Change the limits of one policy."""
    policy = db.get_or_404(SlaPolicy, policy_id)
    form = PolicyForm(obj=policy)
    if form.validate_on_submit():
        data = services.PolicyData(form.limits(), form.same_day_cutoff.data,
                                   form.due_soon_remaining_days.data,
                                   form.due_soon_used_percent.data)
        if commit_or_explain(lambda: services.update_policy(policy, data, current_user),
                             _("SLA policy saved.")):
            return redirect(url_for("sla.policies"))
    return render_template("sla/policy_form.html", form=form, policy=policy, **_labels())


@bp.route("/sla/settings", methods=["GET", "POST"])
@require_permission(Permission.SLA_MANAGE)
def settings_edit():
    """Office hours and extension rules."""
    settings = services.get_settings()
    form = SettingsForm(obj=settings)
    if form.validate_on_submit():
        data = services.SettingsData(**{name: form[name].data
                                        for name in services.SettingsData.__dataclass_fields__})
        if commit_or_explain(lambda: services.update_settings(data, current_user),
                             _("SLA settings saved."), form=form, field="morning_start"):
            return redirect(url_for("sla.policies"))
    return render_template("sla/settings_form.html", form=form)
