"""Staff queues and the ticket page. Each view: load → authorize → validate → one service call
→ commit → flash → redirect. Hidden tickets answer 404, whoever asks."""

from __future__ import annotations

import sqlalchemy as sa
from flask import abort, current_app, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from app.auth.models import Unit
from app.core.caches import Store
from app.core.clock import now_utc
from app.core.forms import field_state, options
from app.core.pagination import page_number
from app.core.panels import ANSWER_DIALOG, TICKET_PAGE, panel_values, panels_for
from app.core.permissions import Permission, require, require_permission
from app.core.rendering import fragment, translated
from app.core.transactions import commit_or_explain
from app.extensions import db
from app.tickets import attachment_files, bp, queries, routing, services, timeline
from app.tickets.forms import (
    DIALOG_FIELDS,
    QUEUES,
    ActionForm,
    AttachmentForm,
    CommentForm,
    IntakeForm,
    TicketFilterForm,
    dialogs_action_form,
)
from app.tickets.models import Category, Ticket
from app.tickets.workflow import ACTIONS


@bp.route("/")
@require_permission(Permission.TICKET_VIEW)
def index():
    """The queues: every list shows only tickets the user may see, soonest deadline first,
    narrowed by the filters whose values the form accepts (the others are shown as ignored)."""
    queue = request.args.get("queue", "all")
    if queue not in QUEUES:
        queue = "all"
    user = current_user._get_current_object()  # read often below: once, not per proxy use
    form = TicketFilterForm(request.args, **queries.filter_options(user))
    if not form.validate():
        form.explain_errors()
    page = queries.queue_page(user, queue, now_utc(), _queue_filters(form),
                              _accepted(form, "sort"), page_number(),
                              current_app.config["PAGE_SIZE"])
    args = _args_without_page()
    return render_template("tickets/index.html", page=page, queue=queue,
                           heading_html=_heading_html(user, queue, args),
                           filters_html=_filters_html(form, queue, args),
                           table_head_html=_table_head_html(args),
                           column_labels=translated(COLUMNS))


_headings = Store("tickets.queue_heading")
_filters = Store("tickets.queue_filters")
_table_heads = Store("tickets.queue_table_head")
_dialog_fields = Store("tickets.dialog_fields")

#: The queue table's column titles; each row repeats them (``data-label``) for narrow screens.
COLUMNS = {"reference": _l("Reference"), "title": _l("Title"), "status": _l("Status"),
           "lead_unit": _l("Lead unit"), "due": _l("Due"), "sla": _l("SLA")}


def _filters_html(form: TicketFilterForm, queue: str, args: dict[str, str]):
    """The filter form, the note on ignored values and the filters in force with the links
    that remove them: about a third of the page's rendering, and the same for everyone who
    opens a queue with the same arguments, input and choices (the usual case: none)."""
    return fragment(_filters, (queue, tuple(args.items()), form.shown_state()),
                    lambda: render_template("tickets/_filters.html", form=form, queue=queue,
                                            active_filters=_active_filters(form, args)))


def _heading_html(user, queue: str, args: dict[str, str]):
    """The title, the "record a demand" button and the queue tabs: each tab keeps the search,
    filters and order of this page (from its first page)."""
    can_record = user.can(Permission.TICKET_INTAKE) or user.can(Permission.TICKET_HANDLE)
    return fragment(_headings, (queue, tuple(args.items()), can_record),
                    lambda: render_template("tickets/_heading.html", queue=queue,
                                            can_record=can_record, queues=translated(QUEUES),
                                            tab_urls=_tab_urls(args)))


def _table_head_html(args: dict[str, str]):
    """The table head: its order links keep the page's search and filters."""
    return fragment(_table_heads, tuple(args.items()),
                    lambda: render_template("tickets/_table_head.html", args=args))


def _tab_urls(args: dict[str, str]) -> dict[str, str]:
    """Each queue tab's link: the same search, filters and order in another queue."""
    return {name: url_for("tickets.index", **{**args, "queue": name}) for name in QUEUES}


def _args_without_page() -> dict[str, str]:
    """The queue page's query arguments but the page number: a changed filter, order or
    queue starts again from the first page."""
    args = request.args.to_dict()
    args.pop("page", None)
    return args


def _accepted(form: TicketFilterForm, name: str):
    """A field's value if the form accepted it, else ``None`` (the filter is ignored)."""
    field = form[name]
    value = field.data.strip() if isinstance(field.data, str) else field.data
    return None if field.errors or value in (None, "") else value


def _queue_filters(form: TicketFilterForm) -> queries.QueueFilters:
    def number(name: str) -> int | None:
        value = _accepted(form, name)
        return int(value) if value is not None else None

    texts = {name: _accepted(form, name) or "" for name in
             ("q", "status", "sla", "service_mode", "demand_type", "urgency", "firm")}
    return queries.QueueFilters(**texts, category_id=number("category"),
                                unit_id=number("unit"),
                                received_from=_accepted(form, "received_from"),
                                received_to=_accepted(form, "received_to"))


def _active_filters(form: TicketFilterForm, args: dict[str, str]) -> list[dict]:
    """The filters in force, each with the link that removes it (keeping the others)."""
    active = []
    for name in form.FILTERS:
        if _accepted(form, name) is None:
            continue
        rest = {key: value for key, value in args.items() if key != name}
        active.append({"name": name, "label": form[name].label.text,
                       "value": form.shown_value(name),
                       "clear_url": url_for("tickets.index", **rest)})
    return active


def _load(reference: str) -> Ticket:
    # The visibility rule asks the user several questions: the user itself, not its proxy.
    ticket = queries.get_visible_by_reference(current_user._get_current_object(), reference)
    require(ticket is not None)
    return ticket


#: Form options for the page's comment and attachment forms, shown with the action form's token.
NO_CSRF = {"csrf": False}
#: Dialog fields choosing a unit: the unit list is read only when a dialog shows one.
UNIT_FIELDS = frozenset({"lead_unit", "suggested_unit", "assisting_units"})


def _action_form(ticket: Ticket, dialogs: list[str]) -> ActionForm:
    """The action form; ``dialogs`` are the dialogs the page shows or the one being posted.
    A page (GET) gets only its dialogs' fields; a posted form has them all, as a refused
    action's page shows it again with every dialog the user may open."""
    if request.method == "GET":
        form = dialogs_action_form(frozenset(name for dialog in dialogs
                                             for name in DIALOG_FIELDS.get(dialog, ())))()
    else:
        form = ActionForm()
    _unit_choices(form, dialogs)
    if request.method == "GET":
        form.version.data = ticket.version
        for name in CHOSEN_UNIT_FIELDS:
            if name in form:
                form[name].data = NOT_CHOSEN  # never chosen for the dispatcher (DOMAIN §3)
    return form


#: Selects of one unit: they start at "Choose…", whose value stands for no unit.
CHOSEN_UNIT_FIELDS = ("lead_unit", "suggested_unit")
NOT_CHOSEN = 0


def _unit_choices(form: ActionForm, dialogs: list[str]) -> None:
    """Fill the unit selects, reading the units only if one of ``dialogs`` shows a unit."""
    selects = [form[name] for name in sorted(UNIT_FIELDS) if name in form]
    choices = next((select.choices for select in selects
                    if select.choices and select.name == "assisting_units"), [])
    if not choices and any(UNIT_FIELDS.intersection(DIALOG_FIELDS.get(name, ()))
                           for name in dialogs):
        units = db.session.scalars(sa.select(Unit).where(Unit.is_active.is_(True))
                                   .order_by(Unit.name)).all()
        choices = options([(u.id, u.name) for u in units])
    choose = options([(NOT_CHOSEN, _("Choose…"))])
    for select in selects:
        select.choices = choose + choices if select.name in CHOSEN_UNIT_FIELDS else choices


def _render(ticket: Ticket, form: ActionForm | None = None, open_action: str | None = None,
            status=200):
    """The ticket page in a constant number of statements: the ticket, its SLA settings,
    one statement for everything it lists, and the unit list only if a dialog needs it."""
    user = current_user._get_current_object()  # the checks below read it often: no proxy
    staff = user.can(Permission.TICKET_COMMENT)
    actions = services.allowed_actions(ticket, user)
    dialogs = [action.form for action in actions]
    if form is None:
        form = _action_form(ticket, dialogs)
    else:
        _unit_choices(form, dialogs)
    records = queries.ticket_records(ticket, user, staff, request.args.get("before"))
    sees_evaluator = user.can(Permission.RATING_SEE_EVALUATOR)
    # the comment and attachment forms show the action form's CSRF field: none of their own
    return render_template(
        "tickets/detail.html", ticket=ticket, form=form, comment_form=CommentForm(meta=NO_CSRF),
        actions=actions, dialog_fields=DIALOG_FIELDS, dialog_field=_dialog_field(), records=records,
        open_action=open_action, sla_rows=queries.deadline_rows(ticket, now_utc()),
        attachment_form=AttachmentForm(meta=NO_CSRF), staff=staff,
        sees_evaluator=sees_evaluator, field_widget=_field_widget(),
        hidden_field=_macro("_macros/forms.html", "hidden_field"),
        timeline=_macro("tickets/_timeline.html", "timeline"),
        timeline_entries=timeline.entries(records.timeline, staff, sees_evaluator),
        page_panels=panels_for(TICKET_PAGE), **panel_values(TICKET_PAGE, ticket, user),
        answer_panels=panels_for(ANSWER_DIALOG),
        suggestion=routing.suggest(ticket) if "dispatch" in dialogs else None,
    ), status


def _macro(template: str, name: str):
    """The macro ``name`` of ``template``: an ``{% import %}`` in the page would compare the
    page's globals with the template's on every render (some two hundred Python calls)."""
    return getattr(current_app.jinja_env.get_template(template).module, name)


def _dialog_field():
    """``dialog_field(field)``: the forms macro's markup of one field of the page's dialogs
    (``render_field`` of ``_macros/forms.html``), kept (:func:`_kept_field`): the page shows
    the same empty fields to everyone, and WTForms renders each one slowly."""
    return _kept_field("tickets.dialog", _macro("_macros/forms.html", "render_field"))


def _field_widget():
    """``field_widget(field, **attributes)``: the field's bare widget with ``attributes``
    (``render_widget`` of ``_macros/forms.html``), kept (:func:`_kept_field`; the attachment
    form's select: its HTML attributes alone cost WTForms a few hundred Python calls)."""
    return _kept_field("tickets.widget", _macro("_macros/forms.html", "render_widget"))


def _kept_field(kind: str, render):
    """``render(field, **attributes)`` kept per language, form, field state
    (:func:`app.core.forms.field_state`) and attributes."""
    def kept_render(field, **attributes):
        key = (kind, type(field._form).__name__, field_state(field),
               tuple(sorted(attributes.items())))
        return fragment(_dialog_fields, key, lambda: render(field, **attributes))

    return kept_render


@bp.route("/new", methods=["GET", "POST"])
@require_permission(Permission.TICKET_CREATE)
def new():
    """Record a demand taken by phone, at the counter or on a visit (firm or unregistered)."""
    if not (current_user.can(Permission.TICKET_INTAKE)
            or current_user.can(Permission.TICKET_HANDLE)):
        abort(403)  # firms submit through the portal
    form = IntakeForm(categories=db.session.scalars(queries.active_categories()).all())
    if form.validate_on_submit():
        firm = queries.find_firm(form.firm_lookup.data or "")
        if form.firm_lookup.data and firm is None:
            form.firm_lookup.errors.append(_("No registered firm matches; leave this blank "
                                             "and describe the requester instead."))
        elif ticket := commit_or_explain(
                lambda: services.create_ticket(current_user, firm=firm,
                                               requester=_requester(form), ip=request.remote_addr,
                                               **_intake_values(form)),
                lambda ticket: _("Ticket %(ref)s recorded.", ref=ticket.reference)):
            return redirect(url_for("tickets.detail", reference=ticket.reference))
    return render_template("tickets/new.html", form=form)


def _requester(form: IntakeForm) -> services.Requester:
    return services.Requester(name=form.requester_name.data, mobile=form.requester_mobile.data,
                              email=form.requester_email.data,
                              firm_name=form.requester_firm_name.data)


def _intake_values(form: IntakeForm) -> dict:
    return {"channel": form.channel.data, "service_mode": form.service_mode.data,
            "demand_type": form.demand_type.data, "urgency": form.urgency.data,
            "category": db.session.get(Category, form.category.data) if form.category.data
            else None, "title": form.title.data, "description": form.description.data,
            "is_taiwan_related": form.is_taiwan_related.data}


@bp.route("/<reference>")
@require_permission(Permission.TICKET_VIEW)
def detail(reference: str):
    """The ticket page: deadlines, timeline, and exactly the actions the user may take."""
    return _render(_load(reference))


@bp.route("/<reference>/act/<action>", methods=["POST"])
@require_permission(Permission.TICKET_VIEW)
def act(reference: str, action: str):
    """Perform one workflow action; on refusal the user's text stays in the form."""
    ticket = _load(reference)
    spec = ACTIONS.get(action) or abort(404)
    form = _action_form(ticket, [spec.form])
    if not form.validate_on_submit():
        return _render(ticket, form, action, 400)
    done = commit_or_explain(
        lambda: services.perform(ticket, action, current_user, expected_version=form.version.data,
                                 ip=request.remote_addr, **_action_data(form, spec.form)),
        lambda _done: _("%(action)s: done.", action=spec.label))
    if not done:
        status = 409 if isinstance(done.error, services.ConcurrentChange) else 400
        return _render(_load(reference), form, action, status)
    return redirect(url_for("tickets.detail", reference=reference))


def _action_data(form: ActionForm, dialog: str) -> dict:
    """The action's keyword data from the dialog's fields, ids turned into rows."""
    data = {}
    for name in DIALOG_FIELDS.get(dialog, ()):
        value = getattr(form, name).data
        if name in ("lead_unit", "suggested_unit"):
            value = db.session.get(Unit, value) if value else None
        elif name == "assisting_units":
            value = [db.session.get(Unit, unit_id) for unit_id in value or []]
        elif name == "target":
            value = queries.get_visible_by_reference(current_user, (value or "").strip())
            if value is None and form.target.data:
                raise services.InvalidTransition(_("No ticket with that reference."))
        if name == "is_complex" and not value:
            continue  # unticked: keep the flag the ticket already has
        if value not in (None, ""):
            data[name] = value
    return data


@bp.route("/<reference>/comment", methods=["POST"])
@require_permission(Permission.TICKET_COMMENT)
def comment(reference: str):
    """Add a staff comment (internal unless marked public)."""
    ticket = _load(reference)
    form = CommentForm()
    if form.validate_on_submit():
        commit_or_explain(lambda: services.add_comment(ticket, current_user, form.body.data,
                                                       form.visibility.data),
                          _("Comment added."))
    return redirect(url_for("tickets.detail", reference=reference))


@bp.route("/<reference>/attachments", methods=["POST"])
@require_permission(Permission.TICKET_COMMENT)
def attach(reference: str):
    """Attach a file: checked by content and size; a refused file leaves nothing behind."""
    ticket = _load(reference)
    form = AttachmentForm()
    if form.validate_on_submit():
        commit_or_explain(lambda: attachment_files.attach(ticket, current_user,
                                                          request.files.get("file"),
                                                          form.visibility.data),
                          _("File attached."))
    return redirect(url_for("tickets.detail", reference=reference))


@bp.route("/<reference>/attachments/<int:attachment_id>")
@require_permission(Permission.TICKET_VIEW)
def download(reference: str, attachment_id: int):
    """Send one attachment the user may see, always as a download under its shown name."""
    ticket = _load(reference)
    row = attachment_files.get_visible(ticket, current_user, attachment_id)
    require(row is not None)
    commit_or_explain(lambda: attachment_files.record_download(row, current_user))
    return send_file(attachment_files.path_of(row), mimetype=row.content_type,
                     as_attachment=True, download_name=row.original_name)
