"""Visit pages: list, record (phone-first), visit page with its issue list, plans, cadence,
coverage, campaigns and settings."""

from __future__ import annotations

from datetime import UTC, date, datetime

import sqlalchemy as sa
from flask import (
    abort,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.routing import BuildError

from app.auth.models import Unit, User
from app.core.clock import LOCAL_TZ, now_utc, to_local, today_local
from app.core.errors import ValidationFailed
from app.core.forms import ConfirmForm, options
from app.core.pagination import paginate
from app.core.permissions import Permission, require, require_permission
from app.core.transactions import commit_or_explain
from app.extensions import db
from app.firms import queries as firm_queries
from app.firms.models import Contact, Firm
from app.firms.uscc import normalise
from app.tickets.models import Category
from app.visits import bp, queries, services
from app.visits.forms import (
    AttachmentForm,
    CampaignForm,
    IssueForm,
    PlanForm,
    RecheckForm,
    SettingsForm,
    SolveForm,
    TargetForm,
    VisitFilterForm,
    VisitForm,
)
from app.visits.models import (
    ISSUE_STATE_LABELS,
    MODE_LABELS,
    PLAN_STATUS_LABELS,
    PURPOSE_LABELS,
    Campaign,
    Visit,
    VisitAttachment,
    VisitIssue,
    VisitPlan,
)

P = Permission


@bp.context_processor
def _labels():
    return {"mode_labels": MODE_LABELS, "purpose_labels": PURPOSE_LABELS,
            "issue_state_labels": ISSUE_STATE_LABELS, "plan_status_labels": PLAN_STATUS_LABELS,
            "ticket_url": ticket_url, "today": today_local()}


def ticket_url(ticket) -> str | None:
    """The staff page of a ticket, when the user may open it."""
    if not ticket.can_view(current_user):
        return None
    try:
        return url_for("tickets.detail", reference=ticket.reference)
    except BuildError:
        return None


def _utc(local: datetime | None) -> datetime | None:
    return None if local is None else local.replace(tzinfo=LOCAL_TZ).astimezone(UTC)


def _staff():
    return db.session.scalars(firm_queries.commissioner_candidates()).all()


def _categories():
    return db.session.scalars(sa.select(Category).where(Category.is_active.is_(True))
                              .order_by(Category.sort_order, Category.name)).all()


# -- the list ----------------------------------------------------------------------------------

def _filters(args) -> tuple[VisitFilterForm, queries.VisitFilters]:
    form = VisitFilterForm(args)
    everyone = [("", _("All"))]
    form.visitor.choices = options(everyone + [(str(u.id), u.display_name) for u in _staff()])
    form.unit.choices = options(everyone + [(str(u.id), u.name) for u in db.session.scalars(
        sa.select(Unit).where(Unit.is_active.is_(True)).order_by(Unit.name))])
    form.area.choices = options(everyone + [(str(a.id), a.name) for a in db.session.scalars(
        firm_queries.areas())])
    form.campaign.choices = options(everyone + [(str(c.id), c.name) for c in db.session.scalars(
        sa.select(Campaign).order_by(Campaign.starts_on.desc()))])
    form.validate()
    values = queries.VisitFilters(
        q=form.q.data or "", date_from=form.date_from.data, date_to=form.date_to.data,
        **{name: (form[name].data or "") for name in (
            "visitor", "unit", "area", "key", "mode", "campaign", "open_issues", "firm")})
    return form, values


@bp.route("/")
@require_permission(P.VISIT_VIEW_UNIT)
def index():
    """Visits the user may see, with filters, search and pagination."""
    form, filters = _filters(request.args)
    page = paginate(queries.visits_query(filters, current_user))
    open_counts = queries.open_issue_counts([v.id for v in page.items])
    return render_template("visits/index.html", form=form, page=page, open_counts=open_counts)


# -- record and correct ------------------------------------------------------------------------

def _visit_form(firm: Firm, visit: Visit | None = None) -> VisitForm:
    form = VisitForm(obj=visit) if visit is not None and request.method == "GET" else VisitForm()
    staff = _staff()
    # name · unit in both lists: two officers of the same name are told apart by their unit
    people = [(u.id, f"{u.display_name} · {u.unit.name if u.unit else ''}") for u in staff]
    form.lead_visitor_id.choices = options(people)
    form.other_visitor_ids.choices = options(people)
    contacts = db.session.scalars(sa.select(Contact).where(Contact.firm_id == firm.id)
                                  .order_by(Contact.is_primary.desc(), Contact.id)).all()
    form.contact_ids.choices = options([(c.id, f"{c.name} · {c.title or ''}") for c in contacts])
    form.confirmed_by.choices = options(
        [("", _("— not confirmed —"))] + [(str(c.id), c.name) for c in contacts]
        + [("new", _("The new contact below"))])
    today = today_local()
    campaigns = db.session.scalars(sa.select(Campaign).where(
        Campaign.ends_on >= date(today.year - 1, 1, 1)).order_by(Campaign.starts_on.desc())).all()
    form.campaign_id.choices = options([(0, _("— none —"))] + [(c.id, c.name) for c in campaigns])
    categories = [(0, _("— choose —"))] + [(c.id, c.name) for c in _categories()]
    if (request.method == "POST" and "add_issue" in request.form
            and len(form.issues) < form.issues.max_entries):
        form.issues.append_entry()
    for entry in form.issues:
        entry.form.category_id.choices = options(categories)
    if request.method == "GET":
        _prefill(form, visit)
    return form


def _prefill(form: VisitForm, visit: Visit | None) -> None:
    if visit is None:
        form.visited_at.data = to_local(now_utc()).replace(tzinfo=None, second=0, microsecond=0)
        form.lead_visitor_id.data = current_user.id
        form.purposes.data = ["routine_liaison"]
        return
    form.visited_at.data = to_local(visit.visited_at).replace(tzinfo=None)
    form.mode.data = str(visit.mode)
    form.purposes.data = visit.purpose_values
    form.other_visitor_ids.data = sorted(visit.visitor_ids - {visit.lead_visitor_id})
    form.contact_ids.data = [r.contact_id for r in visit.contacts_met]
    form.campaign_id.data = visit.campaign_id or 0
    form.confirmed_by.data = str(visit.confirmed_by_contact_id or "")
    form.confirmed_at.data = (to_local(visit.confirmed_at).replace(tzinfo=None)
                              if visit.confirmed_at else None)


def _visit_data(form: VisitForm, firm: Firm) -> services.VisitData:
    new_contact = None
    if (form.new_contact_name.data or "").strip():
        new_contact = services.NewContact(form.new_contact_name.data,
                                          form.new_contact_title.data,
                                          form.new_contact_mobile.data)
    confirmed = form.confirmed_by.data or None
    plan = None
    if (form.plan_id.data or "").isdigit():
        plan = db.session.get(VisitPlan, int(form.plan_id.data))
        plan = plan if plan is not None and plan.firm_id == firm.id else None
    return services.VisitData(
        firm=firm, visited_at=_utc(form.visited_at.data), mode=form.mode.data,
        lead_visitor=db.session.get(User, form.lead_visitor_id.data) or current_user,
        operating_status=form.operating_status.data or "", purposes=form.purposes.data or [],
        other_visitor_ids=form.other_visitor_ids.data or [],
        contact_ids=form.contact_ids.data or [], new_contact=new_contact,
        output_plan=form.output_plan.data, orders_plan=form.orders_plan.data,
        employment_plan=form.employment_plan.data, investment_plan=form.investment_plan.data,
        policies_delivered=form.policies_delivered.data,
        confirmed_by=confirmed if confirmed in (None, "new") else int(confirmed),
        confirmed_at=_utc(form.confirmed_at.data),
        campaign=db.session.get(Campaign, form.campaign_id.data) if form.campaign_id.data
        else None,
        issues=[services.IssueData(description=e.form.description.data or "",
                                   category_id=e.form.category_id.data or None,
                                   is_solved_on_site=e.form.is_solved_on_site.data,
                                   solution=e.form.solution.data)
                for e in form.issues if (e.form.description.data or "").strip()],
        plan=plan)


def _store_files(visit: Visit, files) -> None:
    for upload in files or []:
        if upload and upload.filename:
            services.store_attachment(visit, upload.filename, upload.read(), current_user)


@bp.route("/new")
@require_permission(P.VISIT_LOG)
def choose_firm():
    """Step one on a phone: find the firm (by name, code or contact)."""
    q = request.args.get("q", "").strip()
    firms = []
    if q:
        filters = firm_queries.FirmFilters(q=q)
        firms = db.session.scalars(firm_queries.firms_query(filters, today_local())
                                   .limit(20)).all()
    return render_template("visits/choose_firm.html", q=q, firms=firms)


@bp.route("/new/<int:firm_id>", methods=["GET", "POST"])
@require_permission(P.VISIT_LOG)
def create(firm_id: int):
    """Record a visit; "add another issue" re-shows the form with one more row, unsaved."""
    firm = db.get_or_404(Firm, firm_id)
    form = _visit_form(firm)
    if request.method == "GET" and request.args.get("plan", "").isdigit():
        form.plan_id.data = request.args["plan"]
    del form.reason
    if "add_issue" in request.form or not form.validate_on_submit():
        return render_template("visits/form.html", form=form, firm=firm, visit=None)

    def record() -> Visit:
        visit = services.record_visit(_visit_data(form, firm), current_user)
        _store_files(visit, form.attachments.data)
        return visit

    visit = commit_or_explain(record, _("Visit recorded."), form=form)
    if not visit:
        return render_template("visits/form.html", form=form, firm=firm, visit=None), 422
    return redirect(url_for("visits.detail", visit_id=visit.id))


def _visible(visit_id: int) -> Visit:
    visit = db.get_or_404(Visit, visit_id)
    require(visit.can_view(current_user))
    return visit


@bp.route("/<int:visit_id>/edit", methods=["GET", "POST"])
@require_permission(P.VISIT_LOG)
def edit(visit_id: int):
    """Correct a visit (within the edit window, or by a supervisor with a reason)."""
    visit = _visible(visit_id)
    settings = services.get_settings()
    if not visit.can_edit(current_user, settings, now_utc()):
        abort(403)
    form = _visit_form(visit.firm, visit)
    del form.issues
    locked = visit.is_locked(settings, now_utc())
    if not form.validate_on_submit():
        return render_template("visits/form.html", form=form, firm=visit.firm, visit=visit,
                               locked=locked)
    if not commit_or_explain(lambda: services.update_visit(
            visit, _visit_data_without_issues(form, visit.firm), current_user,
            reason=form.reason.data), _("Visit updated."), form=form):
        return render_template("visits/form.html", form=form, firm=visit.firm, visit=visit,
                               locked=locked), 422
    return redirect(url_for("visits.detail", visit_id=visit.id))


def _visit_data_without_issues(form: VisitForm, firm: Firm) -> services.VisitData:
    form.issues = []
    return _visit_data(form, firm)


@bp.route("/<int:visit_id>")
@require_permission(P.VISIT_VIEW_UNIT)
def detail(visit_id: int):
    """The visit page: the record, its issues with their tickets, files and re-checks."""
    visit = _visible(visit_id)
    settings = services.get_settings()
    issue_form = IssueForm()
    issue_form.category_id.choices = options(
        [(0, _("— choose —"))] + [(c.id, c.name) for c in _categories()])
    return render_template(
        "visits/detail.html", visit=visit, settings=settings, issue_form=issue_form,
        can_edit=visit.can_edit(current_user, settings, now_utc()),
        is_locked=visit.is_locked(settings, now_utc()),
        can_follow_up=visit.can_add_issues(current_user),
        solve_form=SolveForm(), recheck_form=RecheckForm(), attachment_form=AttachmentForm(),
        confirm=ConfirmForm())


@bp.route("/<int:visit_id>/attachments", methods=["POST"])
@require_permission(P.VISIT_LOG)
def add_attachments(visit_id: int):
    """Add photos or files to an editable visit."""
    visit = _visible(visit_id)
    form = AttachmentForm()
    if form.validate_on_submit() and form.attachments.data:
        commit_or_explain(lambda: _store_files(visit, form.attachments.data), _("Files added."))
    return redirect(url_for("visits.detail", visit_id=visit.id, _anchor="files"))


@bp.route("/attachments/<int:attachment_id>")
@require_permission(P.VISIT_VIEW_UNIT)
def attachment(attachment_id: int):
    """Download a file of a visible visit (sent as an attachment, never rendered inline)."""
    row = db.get_or_404(VisitAttachment, attachment_id)
    _visible(row.visit_id)
    return send_file(services.attachment_path(row), mimetype=row.content_type,
                     as_attachment=True, download_name=row.original_name)


# -- issues ------------------------------------------------------------------------------------

def _issue(issue_id: int) -> VisitIssue:
    issue = db.get_or_404(VisitIssue, issue_id)
    require(issue.visit.can_view(current_user))
    return issue


@bp.route("/<int:visit_id>/issues", methods=["POST"])
@require_permission(P.VISIT_LOG)
def add_issue(visit_id: int):
    """Add one issue to the visit's list."""
    visit = _visible(visit_id)
    form = IssueForm()
    form.category_id.choices = options([(0, "")] + [(c.id, c.name) for c in _categories()])
    if not form.validate_on_submit():
        flash(_("Describe the issue."), "danger")
        return redirect(url_for("visits.detail", visit_id=visit.id, _anchor="issues"))
    commit_or_explain(lambda: services.add_issue(visit, services.IssueData(
        form.description.data, form.category_id.data or None,
        form.is_solved_on_site.data, form.solution.data), current_user), _("Issue added."))
    return redirect(url_for("visits.detail", visit_id=visit.id, _anchor="issues"))


@bp.route("/issues/<int:issue_id>/assign", methods=["POST"])
@require_permission(P.VISIT_LOG)
def assign_issue(issue_id: int):
    """交办: turn the issue into a ticket in one step."""
    issue = _issue(issue_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    commit_or_explain(lambda: services.assign_issue(issue, current_user, ip=request.remote_addr),
                      lambda ticket: _("Ticket %(ref)s created from the issue.",
                                       ref=ticket.reference))
    return redirect(url_for("visits.detail", visit_id=issue.visit_id, _anchor="issues"))


@bp.route("/issues/<int:issue_id>/solve", methods=["POST"])
@require_permission(P.VISIT_LOG)
def solve_issue(issue_id: int):
    """Record that the issue was solved on site."""
    issue = _issue(issue_id)
    form = SolveForm()

    def solve() -> None:
        if not form.validate_on_submit():
            raise ValidationFailed(_("Say how the issue was solved on site."))
        services.solve_on_site(issue, form.solution.data, current_user)

    commit_or_explain(solve, _("Issue recorded as solved on site."))
    return redirect(url_for("visits.detail", visit_id=issue.visit_id, _anchor="issues"))


@bp.route("/issues/<int:issue_id>/recheck", methods=["POST"])
@require_permission(P.VISIT_LOG)
def recheck_issue(issue_id: int):
    """Record a re-check (回头看)."""
    issue = _issue(issue_id)
    form = RecheckForm()

    def recheck() -> None:
        if not form.validate_on_submit():
            raise ValidationFailed(_("Write what the re-check found."))
        services.record_recheck(issue, form.is_still_resolved.data == "yes", form.note.data,
                                current_user)

    commit_or_explain(recheck, _("Re-check recorded."))
    return redirect(url_for("visits.detail", visit_id=issue.visit_id, _anchor="issues"))


# -- plans and cadence -------------------------------------------------------------------------

def _plan_user() -> User:
    """Whose plan: oneself, or anyone for those who manage campaigns."""
    user_id = request.args.get("user", "")
    if user_id.isdigit() and current_user.can(P.VISIT_CAMPAIGN_MANAGE):
        return db.get_or_404(User, int(user_id))
    return current_user


@bp.route("/plans", methods=["GET", "POST"])
@require_permission(P.VISIT_LOG)
def plans():
    """My plan: planned, overdue, done and cancelled visits; add one."""
    user = _plan_user()
    form = PlanForm()
    form.user_id.choices = options([(u.id, u.display_name) for u in _staff()])
    if request.method == "GET":
        form.user_id.data = user.id
    if form.validate_on_submit():
        firm = db.session.scalar(sa.select(Firm).where(
            Firm.uscc == normalise(form.firm_uscc.data)))
        target = db.session.get(User, form.user_id.data or current_user.id) or current_user
        if firm is None:
            form.firm_uscc.errors = [_("No firm has this code.")]
        elif commit_or_explain(lambda: services.plan_visit(
                target, firm, form.planned_on.data, current_user, note=form.note.data),
                _("Visit planned."), form=form):
            return redirect(url_for("visits.plans", user=target.id))
    status = request.args.get("status", "")
    page = paginate(queries.plans_query(user.id, today_local(), status))
    return render_template("visits/plans.html", form=form, page=page, user=user, status=status,
                           confirm=ConfirmForm())


@bp.route("/plans/<int:plan_id>/cancel", methods=["POST"])
@require_permission(P.VISIT_LOG)
def cancel_plan(plan_id: int):
    """Cancel a planned visit."""
    plan = db.get_or_404(VisitPlan, plan_id)
    require(plan.user_id == current_user.id or current_user.can(P.VISIT_CAMPAIGN_MANAGE))
    commit_or_explain(lambda: services.cancel_plan(plan, current_user), _("Plan cancelled."))
    return redirect(url_for("visits.plans", user=plan.user_id))


@bp.route("/cadence")
@require_permission(P.VISIT_LOG)
def cadence():
    """Firms past their visiting cadence, per commissioner (mine by default)."""
    settings = services.get_settings()
    who = request.args.get("commissioner", str(current_user.id))
    commissioner_id = int(who) if who.isdigit() else None
    page = paginate(queries.past_cadence(settings, today_local(), commissioner_id))
    rows = db.session.execute(queries.past_cadence(settings, today_local(), commissioner_id)
                              .limit(page.per_page).offset((page.page - 1) * page.per_page)).all()
    return render_template("visits/cadence.html", page=page, rows=rows, settings=settings,
                           staff=_staff(), who=who)


# -- coverage ----------------------------------------------------------------------------------

def _period() -> tuple[date, date]:
    today = today_local()
    try:
        start = date.fromisoformat(request.args.get("from", ""))
    except ValueError:
        start = date(today.year, 1, 1)
    try:
        end = date.fromisoformat(request.args.get("to", ""))
    except ValueError:
        end = today
    return (start, end) if start <= end else (end, start)


@bp.route("/coverage")
@require_permission(P.VISIT_REPORT)
def coverage():
    """走访覆盖率 per commissioner, unit, area and the key-enterprise list."""
    settings = services.get_settings()
    start, end = _period()
    tables = {dim: db.session.execute(queries.coverage(dim, settings, start, end)).all()
              for dim in queries.COVERAGE_DIMENSIONS}
    return render_template("visits/coverage.html", tables=tables, start=start, end=end,
                           settings=settings)


# -- campaigns ---------------------------------------------------------------------------------

@bp.route("/campaigns")
@require_permission(P.VISIT_VIEW_UNIT)
def campaigns():
    """Campaigns, newest first."""
    page = paginate(sa.select(Campaign).order_by(Campaign.starts_on.desc(), Campaign.id.desc()))
    return render_template("visits/campaigns.html", page=page)


@bp.route("/campaigns/new", methods=["GET", "POST"])
@require_permission(P.VISIT_CAMPAIGN_MANAGE)
def campaign_create():
    """Open a campaign and assign its visitors."""
    form = CampaignForm()
    form.visitor_ids.choices = options([(u.id, u.display_name) for u in _staff()])
    if form.validate_on_submit() and (campaign := commit_or_explain(
            lambda: services.create_campaign(form.name.data, form.starts_on.data,
                                             form.ends_on.data, form.visitor_ids.data,
                                             current_user, form.description.data),
            _("Campaign created. Now add its target firms."), form=form)):
        return redirect(url_for("visits.campaign_detail", campaign_id=campaign.id))
    return render_template("visits/campaign_form.html", form=form)


def _target_form() -> TargetForm:
    form = TargetForm()
    form.area.choices = options([("", _("Any"))] + [(str(a.id), a.name) for a in
                                                     db.session.scalars(firm_queries.areas())])
    return form


@bp.route("/campaigns/<int:campaign_id>")
@require_permission(P.VISIT_VIEW_UNIT)
def campaign_detail(campaign_id: int):
    """Progress visited / target, overall and per visitor, and the targets."""
    campaign = db.get_or_404(Campaign, campaign_id)
    settings = services.get_settings()
    progress = db.session.execute(queries.campaign_progress(campaign, settings)).all()
    users = {u.id: u for u in db.session.scalars(sa.select(User).where(
        User.id.in_([r[0] for r in progress if r[0]])))}
    page = paginate(queries.campaign_targets(campaign, settings))
    rows = db.session.execute(queries.campaign_targets(campaign, settings)
                              .limit(page.per_page).offset((page.page - 1) * page.per_page)).all()
    return render_template("visits/campaign_detail.html", campaign=campaign, progress=progress,
                           users=users, page=page, rows=rows, form=_target_form(),
                           total=sum(r[1] for r in progress),
                           visited=sum(r[2] or 0 for r in progress))


@bp.route("/campaigns/<int:campaign_id>/targets", methods=["POST"])
@require_permission(P.VISIT_CAMPAIGN_MANAGE)
def campaign_targets(campaign_id: int):
    """Add target firms by filter (area, key firms) or by pasted USCCs."""
    campaign = db.get_or_404(Campaign, campaign_id)
    form = _target_form()
    if not form.validate_on_submit():
        abort(400)
    unknown: list[str] = []
    if (form.usccs.data or "").strip():
        ids, unknown = services.firm_ids_by_uscc(form.usccs.data)
    else:
        filters = firm_queries.FirmFilters(area=form.area.data or "", key=form.key.data or "")
        ids = list(db.session.scalars(firm_queries.firms_query(filters, today_local())
                                      .with_only_columns(Firm.id)))
    commit_or_explain(lambda: services.add_targets(campaign, ids, current_user),
                      lambda added: _("%(n)d target firms added.", n=added))
    if unknown:
        flash(_("Unknown codes: %(codes)s", codes=", ".join(unknown[:20])), "warning")
    return redirect(url_for("visits.campaign_detail", campaign_id=campaign.id))


# -- settings ----------------------------------------------------------------------------------

@bp.route("/settings", methods=["GET", "POST"])
@require_permission(P.VISIT_CONFIGURE)
def settings():
    """The edit window, the cadence and the modes that count as visits."""
    row = services.get_settings()
    form = SettingsForm(obj=row)
    if request.method == "GET":
        form.qualifying_modes.data = row.qualifying_mode_list
    if form.validate_on_submit() and commit_or_explain(
            lambda: services.update_settings(services.SettingsData(
                form.edit_window_days.data, form.key_firm_cadence_months.data,
                form.other_firm_cadence_months.data, form.qualifying_modes.data or []),
                current_user), _("Visit settings saved."), form=form):
        return redirect(url_for("visits.settings"))
    return render_template("visits/settings.html", form=form)

