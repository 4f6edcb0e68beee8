"""Firm pages: list, 360° page, create/edit/archive, contacts, tags, import, export."""

from __future__ import annotations

from flask import (
    abort,
    current_app,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user

from app.core.clock import today_local
from app.core.forms import ConfirmForm, options
from app.core.pagination import paginate
from app.core.panels import FIRM_PAGE, panel_values, panels_for
from app.core.permissions import Permission, require, require_permission
from app.core.transactions import commit_or_explain
from app.extensions import db
from app.firms import bp, importer, queries, services
from app.firms import jobs as firm_jobs
from app.firms.forms import (
    CommissionerForm,
    ContactForm,
    FirmFilterForm,
    FirmForm,
    ImportForm,
    LegacyUsccForm,
    TagForm,
)
from app.firms.models import (
    CAPITAL_ORIGIN_LABELS,
    LEGAL_FORM_LABELS,
    TAG_KIND_LABELS,
    TAG_LEVEL_LABELS,
    Contact,
    Firm,
    FirmNameChange,
    FirmTag,
    LegacyUscc,
)

#: The firm list counts matches only this far past the current page ("more than 10000"):
#: exact counts of 100,000 firms cost more than the page itself.
COUNT_LIMIT = 10_000

LABELS = {"capital_origin": CAPITAL_ORIGIN_LABELS, "legal_form": LEGAL_FORM_LABELS,
          "tag_kind": TAG_KIND_LABELS, "tag_level": TAG_LEVEL_LABELS}


@bp.context_processor
def _labels():
    return {"firm_labels": LABELS, "today": today_local()}


def _filters(args) -> tuple[FirmFilterForm, queries.FirmFilters]:
    form = FirmFilterForm(args)
    form.set_choices(db.session.scalars(queries.areas()).all(),
                     db.session.scalars(queries.industry_sections()).all(),
                     db.session.scalars(queries.commissioner_candidates()).all())
    values = queries.FirmFilters(**{name: (form[name].data or "") for name in (
        "q", "area", "section", "origin", "tag", "key", "commissioner", "sort")})
    values.status = form.status.data or "active"
    return form, values


# --- list and export ---------------------------------------------------------------------------

@bp.route("/")
@require_permission(Permission.FIRM_VIEW)
def index():
    """Search, filter, sort and page through the registry."""
    form, filters = _filters(request.args)
    page = paginate(queries.firms_query(filters, today_local()), count_limit=COUNT_LIMIT,
                    key=Firm.id)
    return render_template("firms/index.html", form=form, page=page)


@bp.route("/export.<any(csv, xlsx):fmt>", methods=["POST"])
@require_permission(Permission.FIRM_EXPORT)
def export_list(fmt: str):
    """Start the export of the filtered list (a job); its page shows progress, then the file."""
    _form, filters = _filters(request.args)
    record = commit_or_explain(lambda: firm_jobs.export_firms.enqueue(
        actor=current_user, fmt=fmt, filters=firm_jobs.filters_param(filters)))
    if not record:
        return redirect(url_for("firms.index", **request.args))
    return redirect(url_for("exports.show", job_id=record.id))


# --- one firm ----------------------------------------------------------------------------------

def _firm(firm_id: int) -> Firm:
    return db.get_or_404(Firm, firm_id)


def _render_firm(firm: Firm, revealed: dict | None = None):
    history = db.session.scalars(db.select(FirmNameChange).where(
        FirmNameChange.firm_id == firm.id).order_by(FirmNameChange.changed_at.desc())).all()
    legacy = db.session.scalar(db.select(LegacyUscc).where(LegacyUscc.uscc == firm.uscc))
    industry = dict(db.session.execute(queries.industry_names(
        {firm.industry_code, firm.industry_section})).all())
    commissioner_form = CommissionerForm(commissioner_id=firm.commissioner_id or 0)
    commissioner_form.commissioner_id.choices = _commissioner_choices()
    return render_template("firms/detail.html", firm=firm, history=history, legacy=legacy,
                           industry=industry, revealed=revealed or {}, confirm=ConfirmForm(),
                           commissioner_form=commissioner_form,
                           page_panels=panels_for(FIRM_PAGE),
                           **panel_values(FIRM_PAGE, firm, current_user))


def _commissioner_choices():
    return options([(0, _("— none —"))] + [
        (u.id, f"{u.display_name} ({u.username})")
        for u in db.session.scalars(queries.commissioner_candidates())])


@bp.route("/<int:firm_id>")
@require_permission(Permission.FIRM_VIEW)
def detail(firm_id: int):
    """The firm's 360° page."""
    return _render_firm(_firm(firm_id))


def _firm_form(firm: Firm | None) -> FirmForm:
    form = FirmForm(obj=firm)
    form.set_choices(db.session.scalars(queries.areas()).all(),
                     db.session.scalars(queries.commissioner_candidates()).all())
    if firm is not None and request.method == "GET":
        form.commissioner_id.data = firm.commissioner_id or 0
    return form


def _firm_data(form: FirmForm, uscc: str) -> services.FirmData:
    return services.FirmData(
        uscc=uscc, name=form.name.data, english_name=form.english_name.data,
        area_id=form.area_id.data, industry_code=form.industry_code.data,
        legal_form=form.legal_form.data, capital_origin=form.capital_origin.data,
        address=form.address.data, employees=form.employees.data,
        is_key_firm=form.is_key_firm.data, commissioner_id=form.commissioner_id.data or None)


@bp.route("/new", methods=["GET", "POST"])
@require_permission(Permission.FIRM_EDIT)
def create():
    """Register a firm."""
    form = _firm_form(None)
    if form.validate_on_submit() and (firm := commit_or_explain(
            lambda: services.create_firm(_firm_data(form, form.uscc.data), current_user),
            lambda firm: _("Firm %(name)s registered.", name=firm.name), form=form)):
        return redirect(url_for("firms.detail", firm_id=firm.id))
    return render_template("firms/form.html", form=form, firm=None)


@bp.route("/<int:firm_id>/edit", methods=["GET", "POST"])
@require_permission(Permission.FIRM_EDIT)
def edit(firm_id: int):
    """Edit the profile; the USCC never changes, a new name goes to the history."""
    firm = _firm(firm_id)
    form = _firm_form(firm)
    del form.uscc
    if form.validate_on_submit() and commit_or_explain(
            lambda: services.update_firm(firm, _firm_data(form, firm.uscc), current_user),
            lambda _result: _("Firm %(name)s saved.", name=firm.name), form=form):
        return redirect(url_for("firms.detail", firm_id=firm.id))
    return render_template("firms/form.html", form=form, firm=firm)


@bp.route("/<int:firm_id>/<any(archive, restore):action>", methods=["POST"])
@require_permission(Permission.FIRM_EDIT)
def set_archived(firm_id: int, action: str):
    """Archive or restore (firms are never deleted)."""
    firm = _firm(firm_id)
    if ConfirmForm().validate_on_submit():
        change = services.archive_firm if action == "archive" else services.restore_firm
        commit_or_explain(lambda: change(firm, current_user), lambda _result: (
            _("Firm %(name)s archived.", name=firm.name) if action == "archive"
            else _("Firm %(name)s restored.", name=firm.name)))
    return redirect(url_for("firms.detail", firm_id=firm.id))


@bp.route("/<int:firm_id>/commissioner", methods=["POST"])
@require_permission(Permission.FIRM_EDIT)
def assign_commissioner(firm_id: int):
    """Name or remove the service commissioner."""
    firm = _firm(firm_id)
    form = CommissionerForm()
    form.commissioner_id.choices = _commissioner_choices()
    if form.validate_on_submit():
        commit_or_explain(lambda: services.assign_commissioner(
            firm, form.commissioner_id.data or None, current_user),
            _("Service commissioner updated."))
    return redirect(url_for("firms.detail", firm_id=firm.id))


# --- contacts and tags (editors and the firm's own commissioner) ---------------------------------

def _editable(firm_id: int) -> Firm:
    firm = _firm(firm_id)
    if not firm.can_edit_contacts_and_tags(current_user):
        abort(403)
    return firm


def _contact(firm: Firm, contact_id: int) -> Contact:
    contact = db.get_or_404(Contact, contact_id)
    require(contact.firm_id == firm.id)
    return contact


@bp.route("/<int:firm_id>/contacts/new", methods=["GET", "POST"])
@bp.route("/<int:firm_id>/contacts/<int:contact_id>/edit", methods=["GET", "POST"])
@require_permission(Permission.FIRM_VIEW)
def contact_form(firm_id: int, contact_id: int | None = None):
    """Add or edit a contact person."""
    firm = _editable(firm_id)
    contact = _contact(firm, contact_id) if contact_id else None
    form = ContactForm(obj=contact)
    if form.validate_on_submit():
        data = services.ContactData(form.name.data, form.title.data, form.mobile.data,
                                    form.email.data, form.is_legal_representative.data,
                                    form.is_primary.data)
        if commit_or_explain(lambda: services.save_contact(firm, contact, data, current_user),
                             _("Contact saved."), form=form):
            return redirect(url_for("firms.detail", firm_id=firm.id, _anchor="contacts"))
    return render_template("firms/contact_form.html", form=form, firm=firm, contact=contact)


@bp.route("/<int:firm_id>/contacts/<int:contact_id>/remove", methods=["POST"])
@require_permission(Permission.FIRM_VIEW)
def contact_remove(firm_id: int, contact_id: int):
    """Remove a contact person (audited)."""
    firm = _editable(firm_id)
    contact = _contact(firm, contact_id)
    if ConfirmForm().validate_on_submit():
        commit_or_explain(lambda: services.remove_contact(contact, current_user),
                          _("Contact removed."))
    return redirect(url_for("firms.detail", firm_id=firm.id, _anchor="contacts"))


@bp.route("/<int:firm_id>/contacts/<int:contact_id>/reveal", methods=["POST"])
@require_permission(Permission.FIRM_UNMASK)
def contact_reveal(firm_id: int, contact_id: int):
    """Show one full mobile number; the unmasking is audited (DOMAIN §8)."""
    firm = _firm(firm_id)
    contact = _contact(firm, contact_id)
    if not ConfirmForm().validate_on_submit():
        return redirect(url_for("firms.detail", firm_id=firm.id))
    mobile = commit_or_explain(lambda: services.reveal_mobile(contact, current_user))
    return _render_firm(firm, revealed={contact.id: mobile})


def _tag(firm: Firm, tag_id: int) -> FirmTag:
    tag = db.get_or_404(FirmTag, tag_id)
    require(tag.firm_id == firm.id)
    return tag


@bp.route("/<int:firm_id>/tags/new", methods=["GET", "POST"])
@bp.route("/<int:firm_id>/tags/<int:tag_id>/edit", methods=["GET", "POST"])
@require_permission(Permission.FIRM_VIEW)
def tag_form(firm_id: int, tag_id: int | None = None):
    """Add or edit a recognition."""
    firm = _editable(firm_id)
    tag = _tag(firm, tag_id) if tag_id else None
    form = TagForm(obj=tag)
    if request.method == "GET" and tag is not None:
        form.level.data = tag.level or ""
    if form.validate_on_submit():
        data = services.TagData(form.kind.data, form.level.data or None, form.certified_on.data,
                                form.valid_until.data, form.certificate_no.data,
                                form.exchange.data, form.ticker.data)
        if commit_or_explain(lambda: services.save_tag(firm, tag, data, current_user),
                             _("Tag saved."), form=form):
            return redirect(url_for("firms.detail", firm_id=firm.id, _anchor="tags"))
    return render_template("firms/tag_form.html", form=form, firm=firm, tag=tag)


@bp.route("/<int:firm_id>/tags/<int:tag_id>/remove", methods=["POST"])
@require_permission(Permission.FIRM_VIEW)
def tag_remove(firm_id: int, tag_id: int):
    """Remove a tag entered by mistake."""
    firm = _editable(firm_id)
    tag = _tag(firm, tag_id)
    if ConfirmForm().validate_on_submit():
        commit_or_explain(lambda: services.remove_tag(tag, current_user), _("Tag removed."))
    return redirect(url_for("firms.detail", firm_id=firm.id, _anchor="tags"))


# --- legacy codes ------------------------------------------------------------------------------

@bp.route("/legacy-codes", methods=["GET", "POST"])
@require_permission(Permission.FIRM_ACCEPT_LEGACY_USCC)
def legacy_codes():
    """Supervisors accept legal pilot codes that fail the check character, with a reason."""
    form = LegacyUsccForm()
    if form.validate_on_submit() and commit_or_explain(
            lambda: services.accept_legacy_uscc(form.uscc.data, form.reason.data, current_user),
            lambda row: _("Code %(code)s accepted.", code=row.uscc), form=form):
        return redirect(url_for("firms.legacy_codes"))
    page = paginate(db.select(LegacyUscc).order_by(LegacyUscc.accepted_at.desc()))
    return render_template("firms/legacy_codes.html", form=form, page=page)


# --- import ------------------------------------------------------------------------------------

@bp.route("/import", methods=["GET", "POST"])
@require_permission(Permission.FIRM_IMPORT)
def import_firms():
    """Upload a file: it is kept, and a job checks (dry run) or imports it with a progress
    bar; the result page shows the counts and the error report."""
    form = ImportForm()
    if form.validate_on_submit() and (record := commit_or_explain(
            lambda: _start_import(form), form=form, field="file")):
        return redirect(url_for("exports.show", job_id=record.id))
    return render_template("firms/import.html", form=form, columns=importer.COLUMNS,
                           max_mb=current_app.config["FIRM_IMPORT_MAX_BYTES"] // (1024 * 1024))


def _start_import(form: ImportForm):
    """Keep the upload under a random name and ask for the import job."""
    upload = form.file.data
    stored = importer.store_upload(upload.stream, upload.filename or "",
                                   current_app.config["FIRM_IMPORT_MAX_BYTES"])
    return firm_jobs.import_firms.enqueue(actor=current_user, upload=stored,
                                          filename=upload.filename or "",
                                          dry_run=bool(form.dry_run.data))


@bp.route("/import/template.xlsx")
@require_permission(Permission.FIRM_IMPORT)
def import_template():
    """The import file layout, with one example row."""
    return current_app.response_class(
        importer.template_workbook(),
        mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers={"Content-Disposition": "attachment; filename=firms-template.xlsx"})
