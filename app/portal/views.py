"""Portal pages: the public form, lookup and tracking link, firm accounts, 马上办 intake.

Public views are marked ``@public`` and listed in the route-protection test; every other view
carries its permission. Tickets are reached by their access token (public) or reference
(firm account), never by their internal id in a public URL.
"""

from __future__ import annotations

import sqlalchemy as sa
from flask import (
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from app.core.navigation import register_nav
from app.core.pagination import paginate
from app.core.permissions import Permission as P
from app.core.permissions import require, require_permission
from app.core.security import public
from app.core.transactions import commit_or_explain
from app.extensions import db, limiter
from app.firms.models import Firm
from app.portal import bp, cache, queries, services
from app.portal.forms import (
    AnswerForm,
    ApproveForm,
    FeedbackForm,
    FilterForm,
    InviteForm,
    LookupForm,
    RateForm,
    RegistrationForm,
    RejectForm,
    RequestForm,
    SnippetForm,
    SupplyForm,
    WithdrawForm,
)
from app.portal.models import REGISTRATION_STATUS_LABELS, AnswerSnippet, FirmRegistration
from app.ratings import services as ratings
from app.tickets import attachment_files, deadlines
from app.tickets.models import Ticket

register_nav("portal.my_tickets", _l("My requests"), P.PORTAL_USE, order=10)
register_nav("portal.my_firm", _l("Firm profile"), P.PORTAL_USE, order=11, group="firms")
register_nav("portal.intake", _l("Intake (handle now)"), P.TICKET_INTAKE, order=25)
register_nav("portal.snippets", _l("Answer snippets"), P.SNIPPET_MANAGE, order=26)
register_nav("portal.registrations", _l("Firm accounts"), P.FIRM_ACCOUNT_APPROVE, order=27,
             group="firms")


@bp.context_processor
def _labels():
    from app.tickets.models.enums import STATUS_LABELS

    return {"status_labels": STATUS_LABELS}


@bp.app_context_processor
def _snippet_picker():
    """``answer_snippets()`` for the 马上办 answer box wherever it is shown (queried on use)."""

    def answer_snippets():
        if not (current_user.is_authenticated and current_user.can(P.TICKET_INTAKE)):
            return []
        return db.session.scalars(sa.select(AnswerSnippet).where(
            AnswerSnippet.is_active.is_(True)).order_by(AnswerSnippet.used_count.desc(),
                                                        AnswerSnippet.title).limit(20)).all()

    return {"answer_snippets": answer_snippets}


def _submit_limit() -> str:
    return current_app.config["PORTAL_SUBMIT_LIMIT"]


def _lookup_limit() -> str:
    return current_app.config["PORTAL_LOOKUP_LIMIT"]


def _reference_limit() -> str:
    return current_app.config["PORTAL_LOOKUP_REFERENCE_LIMIT"]


def _reference_key() -> str:
    return "lookup-ref:" + (request.form.get("reference") or "").strip().upper()[:20]


def _tracking_url(ticket: Ticket) -> str:
    return url_for("portal.track", token=ticket.access_token, _external=True)


def _honeypot_tripped(form) -> bool:
    if form.website.data:
        from app.core import audit

        commit_or_explain(lambda: audit.record("portal.honeypot", success=False,
                                               details={"path": request.path}))
        flash(_("Your request could not be accepted."), "danger")
        return True
    return False


def _request_data(form: RequestForm) -> services.RequestData:
    return services.RequestData(
        firm_name=form.firm_name.data, uscc=form.uscc.data, contact_name=form.contact_name.data,
        mobile=form.mobile.data, email=form.email.data, demand_type=form.demand_type.data,
        category_id=int(form.category.data) if form.category.data else None,
        title=form.title.data, description=form.description.data,
        is_taiwan=form.is_taiwan.data, files=request.files.getlist(form.attachments.name))


def request_form_page(form: RequestForm | None = None, status: int = 200):
    """The public request form (the front page for anonymous visitors); the blank page of an
    anonymous visitor comes from the process cache with their own CSRF token."""

    def render():
        nonlocal form
        if form is None:
            form = RequestForm()
            form.offer_categories(cache.category_choices())
        return render_template("portal/request_form.html", form=form,
                               action=url_for("portal.new_request"))

    if form is None and cache.blank_page_allowed():
        return cache.blank_page(render), status
    return render(), status


# -- public: the request form ------------------------------------------------------------------


@bp.route("/request", methods=["GET", "POST"])
@limiter.limit(_submit_limit, methods=["POST"])
@public
def new_request():
    """Anyone may send a request; a firm account is sent to its own pre-filled form."""
    if current_user.is_authenticated and current_user.can(P.PORTAL_USE):
        return redirect(url_for("portal.my_new_request"))
    if request.method != "POST":
        return request_form_page()
    form = RequestForm()
    form.offer_categories(cache.category_choices())  # the service checks the chosen one
    if form.is_submitted() and _honeypot_tripped(form):
        return request_form_page(form, 400)
    if form.validate_on_submit():
        services.begin_write()  # after the checks that need no database: a shorter turn
        if token := commit_or_explain(  # the token read before the commit expires the row
                lambda: services.submit_request(_request_data(form), actor=None,
                                                ip=request.remote_addr,
                                                tracking_link=_tracking_url).access_token,
                form=form):
            return redirect(url_for("portal.received", token=token))
    return request_form_page(form, 400 if form.errors else 200)


@bp.route("/track/<token>/received")
@public
def received(token: str):
    """The answer to a sent request: reference, tracking link and the promised date."""
    ticket = services.ticket_by_token(token)
    require(ticket is not None)
    promise = commit_or_explain(lambda: deadlines.promise(ticket))  # with an admins' alert
    return render_template("portal/received.html", ticket=ticket,
                           link=_tracking_url(ticket), promise=promise,
                           taiwan_note=services.taiwan_note(ticket))


# -- public: lookup and the tracking link ------------------------------------------------------


@bp.route("/track", methods=["GET", "POST"])
@limiter.limit(_lookup_limit, methods=["POST"])
@limiter.limit(_reference_limit, key_func=_reference_key, methods=["POST"])
@public
def lookup():
    """Reference + mobile number lead to the tracking page; one message for any mismatch."""
    form = LookupForm()
    if form.validate_on_submit() and (ticket := commit_or_explain(  # failures audited too
            lambda: services.lookup(form.reference.data, form.mobile.data), keep_refused=True)):
        return redirect(url_for("portal.track", token=ticket.access_token))
    return render_template("portal/lookup.html", form=form)


def _token_ticket(token: str) -> tuple[Ticket, services.TokenHolder]:
    ticket = services.ticket_by_token(token)
    require(ticket is not None)
    return ticket, services.TokenHolder(ticket)


@bp.route("/track/<token>")
@public
def track(token: str):
    """The requester's view: status, public timeline and replies, deadline, actions."""
    ticket, holder = _token_ticket(token)
    return _requester_page(ticket, holder, base_endpoint="portal.track_action",
                           file_endpoint="portal.track_file", key={"token": token})


@bp.route("/track/<token>/<any(supply, withdraw, rate, feedback):action>", methods=["POST"])
@public
def track_action(token: str, action: str):
    """Supply information, withdraw, rate or rate the rectification, by tracking link."""
    ticket, holder = _token_ticket(token)
    return _requester_action(ticket, holder, action, url_for("portal.track", token=token))


@bp.route("/track/<token>/files/<name>")
@public
def track_file(token: str, name: str):
    """A public attachment of this ticket."""
    ticket, _holder = _token_ticket(token)
    return _send_attachment(ticket, name)


# -- shared by the tracking link and the firm account ------------------------------------------


def _requester_page(ticket: Ticket, actor, *, base_endpoint: str, file_endpoint: str,
                    key: dict, forms: dict | None = None, status: int = 200):
    forms = forms or {}
    context = commit_or_explain(lambda: queries.requester_view(ticket, actor))  # an alert
    return render_template(
        "portal/track.html", ticket=ticket, view=context, key=key,
        base_endpoint=base_endpoint, file_endpoint=file_endpoint,
        supply_form=forms.get("supply") or SupplyForm(),
        withdraw_form=forms.get("withdraw") or WithdrawForm(),
        rate_form=forms.get("rate") or RateForm(),
        feedback_form=forms.get("feedback") or FeedbackForm()), status


_ACTION_FORMS = {"supply": SupplyForm, "withdraw": WithdrawForm, "rate": RateForm,
                 "feedback": FeedbackForm}


def _requester_action(ticket: Ticket, actor, action: str, back: str):
    form = _ACTION_FORMS[action]()
    if form.validate_on_submit():
        if commit_or_explain(lambda: _perform(ticket, actor, action, form),
                             _("Thank you: your request has been updated.")):
            return redirect(back)
    else:
        flash(_("Please correct the highlighted fields."), "danger")
    db.session.rollback()
    is_token = getattr(actor, "tracking_ticket_id", None) is not None
    return _requester_page(
        ticket, actor, base_endpoint="portal.track_action" if is_token else "portal.my_action",
        file_endpoint="portal.track_file" if is_token else "portal.my_file",
        key={"token": ticket.access_token} if is_token else {"reference": ticket.reference},
        forms={action: form}, status=400)


def _perform(ticket: Ticket, actor, action: str, form) -> None:
    if action == "supply":
        services.supply_information(ticket, actor, form.text.data,
                                    request.files.getlist(form.attachments.name),
                                    ip=request.remote_addr)
    elif action == "withdraw":
        services.withdraw(ticket, actor, form.reason.data, ip=request.remote_addr)
    elif action == "rate":
        ratings.rate_online(ticket, actor, form.level.data, form.comment.data,
                            ip=request.remote_addr)
    else:
        rectification = ratings.rectification_of(ticket)
        require(rectification is not None)
        ratings.record_feedback(rectification, actor, form.level.data)


def _send_attachment(ticket: Ticket, name: str):
    row = queries.public_attachment(ticket, name)
    require(row is not None)
    return send_file(attachment_files.path_of(row), mimetype=row.content_type, as_attachment=True,
                     download_name=row.original_name)


# -- firm accounts: registration (public) and the firm's own pages -----------------------------


@bp.route("/portal/register", methods=["GET", "POST"])
@limiter.limit(_submit_limit, methods=["POST"])
@public
def register():
    """A firm contact asks for an account; a dispatcher approves it."""
    form = RegistrationForm()
    if form.is_submitted() and _honeypot_tripped(form):
        return render_template("portal/register.html", form=form), 400
    if form.validate_on_submit():
        data = services.RegistrationData(
            uscc=form.uscc.data, firm_name=form.firm_name.data,
            contact_name=form.contact_name.data, mobile=form.mobile.data,
            email=form.email.data, preferred_language=_current_language())
        if commit_or_explain(lambda: services.register(data), form=form):
            return render_template("portal/registered.html")
    return render_template("portal/register.html", form=form), 400 if form.errors else 200


def _current_language() -> str | None:
    from flask_babel import get_locale

    return str(get_locale()) if get_locale() else None


def _my_ticket(reference: str) -> Ticket:
    ticket = queries.firm_ticket(current_user, reference)
    require(ticket is not None)
    return ticket


@bp.route("/portal/tickets")
@require_permission(P.PORTAL_USE)
def my_tickets():
    """Every ticket of the user's firm, with search and status filter."""
    form = FilterForm(request.args)
    form.status.choices = queries.status_choices()
    page = paginate(queries.firm_tickets(current_user, form.q.data or "",
                                         form.status.data or ""))
    return render_template("portal/my_tickets.html", page=page, form=form)


@bp.route("/portal/tickets/<reference>")
@require_permission(P.PORTAL_USE)
def my_ticket(reference: str):
    """One of the firm's tickets: public timeline and replies only."""
    ticket = _my_ticket(reference)
    return _requester_page(ticket, current_user, base_endpoint="portal.my_action",
                           file_endpoint="portal.my_file", key={"reference": reference})


@bp.route("/portal/tickets/<reference>/<any(supply, withdraw, rate, feedback):action>",
          methods=["POST"])
@require_permission(P.PORTAL_USE)
def my_action(reference: str, action: str):
    """Supply information, withdraw, rate, or rate the rectification, from the account."""
    ticket = _my_ticket(reference)
    return _requester_action(ticket, current_user, action,
                             url_for("portal.my_ticket", reference=reference))


@bp.route("/portal/tickets/<reference>/files/<name>")
@require_permission(P.PORTAL_USE)
def my_file(reference: str, name: str):
    """A public attachment of one of the firm's tickets."""
    return _send_attachment(_my_ticket(reference), name)


@bp.route("/portal/firm")
@require_permission(P.PORTAL_USE)
def my_firm():
    """The firm's own registry profile (no internal notes, no other firm)."""
    firm = db.session.get(Firm, current_user.firm_id)
    require(firm is not None)
    return render_template("portal/my_firm.html", firm=firm)


@bp.route("/portal/requests/new", methods=["GET", "POST"])
@limiter.limit(_submit_limit, methods=["POST"])
@require_permission(P.PORTAL_USE)
def my_new_request():
    """The request form, pre-filled with the firm and the account's contact details."""
    firm = db.session.get(Firm, current_user.firm_id)
    require(firm is not None)
    form = RequestForm()
    form.set_categories(queries.active_categories())
    form.uscc.validators = []
    if not form.is_submitted():
        form.contact_name.data = current_user.display_name
        form.mobile.data = current_user.mobile
        form.email.data = current_user.email
        form.is_taiwan.data = firm.is_taiwan_invested
    form.firm_name.data, form.uscc.data = firm.name, firm.uscc
    if form.validate_on_submit():
        services.begin_write()
        if ticket := commit_or_explain(
                lambda: services.submit_request(_request_data(form), actor=current_user,
                                                ip=request.remote_addr,
                                                tracking_link=_tracking_url),
                lambda ticket: _("Request %(ref)s sent.", ref=ticket.reference), form=form):
            return redirect(url_for("portal.received", token=ticket.access_token))
    return render_template("portal/request_form.html", form=form, firm=firm,
                           action=url_for("portal.my_new_request")), 400 if form.errors else 200


# -- dispatcher: firm account requests ---------------------------------------------------------


@bp.route("/portal/registrations")
@require_permission(P.FIRM_ACCOUNT_APPROVE)
def registrations():
    """Account requests, pending first, with search and status filter."""
    form = FilterForm(request.args)
    form.status.choices = queries.registration_status_choices()
    page = paginate(queries.registrations(form.q.data or "", form.status.data or ""))
    return render_template("portal/registrations.html", page=page, form=form,
                           labels=REGISTRATION_STATUS_LABELS)


def _registration(registration_id: int) -> FirmRegistration:
    row = db.session.get(FirmRegistration, registration_id)
    require(row is not None)
    return row


def _approve_form(row: FirmRegistration) -> ApproveForm:
    form = ApproveForm()
    form.firm.choices = queries.firm_choices(row)
    if not form.is_submitted() and row.firm_id:
        form.firm.data = str(row.firm_id)
    return form


@bp.route("/portal/registrations/<int:registration_id>")
@require_permission(P.FIRM_ACCOUNT_APPROVE)
def registration(registration_id: int):
    """One request, with the registry firms it may be linked to."""
    row = _registration(registration_id)
    return render_template("portal/registration.html", row=row, approve_form=_approve_form(row),
                           reject_form=RejectForm(), labels=REGISTRATION_STATUS_LABELS)


@bp.route("/portal/registrations/<int:registration_id>/approve", methods=["POST"])
@require_permission(P.FIRM_ACCOUNT_APPROVE)
def approve_registration(registration_id: int):
    """Create the account, linked to the chosen firm; show the temporary password once."""
    row = _registration(registration_id)
    form = _approve_form(row)
    if form.validate_on_submit():
        firm = db.session.get(Firm, int(form.firm.data))
        if account := commit_or_explain(lambda: services.approve(row, firm, current_user),
                                        form=form):
            user, password = account
            return render_template("portal/account_created.html", user=user,
                                   password=password, firm=firm)
    return render_template("portal/registration.html", row=row, approve_form=form,
                           reject_form=RejectForm(), labels=REGISTRATION_STATUS_LABELS), 400


@bp.route("/portal/registrations/<int:registration_id>/reject", methods=["POST"])
@require_permission(P.FIRM_ACCOUNT_APPROVE)
def reject_registration(registration_id: int):
    """Refuse the request with a reason sent to the contact."""
    row = _registration(registration_id)
    form = RejectForm()
    if form.validate_on_submit() and commit_or_explain(
            lambda: services.reject(row, form.reason.data, current_user),
            _("The request was rejected."), form=form):
            return redirect(url_for("portal.registrations"))
    return render_template("portal/registration.html", row=row, approve_form=_approve_form(row),
                           reject_form=form, labels=REGISTRATION_STATUS_LABELS), 400


@bp.route("/portal/invite")
@require_permission(P.FIRM_ACCOUNT_APPROVE)
def invite_lookup():
    """Find the registry firm by its USCC, then invite one of its contacts."""
    firm = services.registry_firm(request.args.get("uscc", ""))
    if firm is None or firm.is_archived:
        flash(_("No active registry firm has this unified social credit code."), "warning")
        return redirect(url_for("portal.registrations"))
    return redirect(url_for("portal.invite", firm_id=firm.id))


@bp.route("/portal/firms/<int:firm_id>/invite", methods=["GET", "POST"])
@require_permission(P.FIRM_ACCOUNT_APPROVE)
def invite(firm_id: int):
    """Create an account for a contact of a registry firm."""
    firm = db.session.get(Firm, firm_id)
    require(firm is not None and not firm.is_archived)
    form = InviteForm()
    if form.validate_on_submit():
        data = services.RegistrationData(uscc=firm.uscc, firm_name=firm.name,
                                         contact_name=form.contact_name.data,
                                         mobile=form.mobile.data, email=form.email.data)
        if account := commit_or_explain(lambda: services.invite(firm, data, current_user),
                                        form=form):
            user, password = account
            return render_template("portal/account_created.html", user=user,
                                   password=password, firm=firm)
    return render_template("portal/invite.html", form=form, firm=firm), \
        400 if form.errors else 200


# -- dispatcher: answer snippets ---------------------------------------------------------------


@bp.route("/portal/snippets")
@require_permission(P.SNIPPET_MANAGE)
def snippets():
    """Answer snippets with search; archived ones on request."""
    form = FilterForm(request.args)
    form.status.choices = queries.snippet_status_choices()
    page = paginate(queries.snippets(form.q.data or "", form.status.data or "active"))
    return render_template("portal/snippets.html", page=page, form=form)


def _snippet_data(form: SnippetForm) -> services.SnippetData:
    return services.SnippetData(title=form.title.data, body=form.body.data,
                                category_id=int(form.category.data) if form.category.data
                                else None)


@bp.route("/portal/snippets/new", methods=["GET", "POST"])
@bp.route("/portal/snippets/<int:snippet_id>/edit", methods=["GET", "POST"])
@require_permission(P.SNIPPET_MANAGE)
def snippet_form(snippet_id: int | None = None):
    """Create or edit a snippet."""
    row = db.session.get(AnswerSnippet, snippet_id) if snippet_id else None
    require(snippet_id is None or row is not None)
    form = SnippetForm(obj=row)
    form.set_categories(queries.active_categories())
    if row is not None and not form.is_submitted():
        form.category.data = str(row.category_id or "")
    if form.validate_on_submit() and commit_or_explain(
            lambda: services.create_snippet(_snippet_data(form), current_user) if row is None
            else services.update_snippet(row, _snippet_data(form), current_user),
            _("Snippet saved."), form=form):
            return redirect(url_for("portal.snippets"))
    return render_template("portal/snippet_form.html", form=form, row=row), \
        400 if form.errors else 200


@bp.route("/portal/snippets/<int:snippet_id>/<any(archive, restore):change>", methods=["POST"])
@require_permission(P.SNIPPET_MANAGE)
def snippet_active(snippet_id: int, change: str):
    """Archive or restore a snippet (never deleted)."""
    row = db.session.get(AnswerSnippet, snippet_id)
    require(row is not None)
    from app.core.forms import ConfirmForm

    if not ConfirmForm().validate_on_submit():
        abort(400)
    commit_or_explain(lambda: services.set_snippet_active(row, change == "restore", current_user),
                      _("Snippet updated."))
    return redirect(url_for("portal.snippets"))


# -- dispatcher: intake fast path (马上办) -------------------------------------------------------


@bp.route("/portal/intake")
@require_permission(P.TICKET_INTAKE)
def intake():
    """Submitted tickets waiting for intake, oldest deadline first."""
    form = FilterForm(request.args)
    form.status.choices = []
    page = paginate(queries.intake_queue(form.q.data or ""))
    return render_template("portal/intake.html", page=page, form=form)


def _intake_ticket(ticket_id: int) -> Ticket:
    from app.tickets.queries import get_visible

    ticket = get_visible(current_user, ticket_id)
    require(ticket is not None)
    return ticket


@bp.route("/portal/intake/<int:ticket_id>/answer", methods=["GET", "POST"])
@require_permission(P.TICKET_INTAKE)
def answer(ticket_id: int):
    """Answer directly at intake, starting from a snippet if one fits."""
    ticket = _intake_ticket(ticket_id)
    form = AnswerForm()
    choices = queries.snippet_choices(ticket)
    form.snippet.choices = choices
    chosen = queries.snippet(request.values.get("snippet"))
    if not form.is_submitted():
        form.version.data = str(ticket.version)
        if chosen is not None:
            form.snippet.data, form.answer.data = str(chosen.id), chosen.body
    if form.validate_on_submit() and commit_or_explain(
            lambda: services.answer_directly(ticket, current_user, form.answer.data, chosen,
                                             expected_version=form.version.data or None,
                                             ip=request.remote_addr),
            lambda _done: _("Ticket %(ref)s answered directly.", ref=ticket.reference),
            form=form):
            return redirect(url_for("portal.intake"))
    return render_template("portal/answer.html", ticket=ticket, form=form), \
        400 if form.errors else 200
