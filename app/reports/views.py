"""Report pages: the dashboard, drill-downs, exports, the monthly print page and the public
transparency page. Views only parse arguments and pick the scope; figures come from
:mod:`app.reports.queries`, tables from :mod:`app.reports.tables`."""

from __future__ import annotations

import sqlalchemy as sa
from flask import abort, current_app, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_sqlalchemy.pagination import SelectPagination
from werkzeug.routing import BuildError

from app.core.clock import now_utc
from app.core.pagination import page_number
from app.core.permissions import Permission as P
from app.core.permissions import require_permission
from app.core.security import public
from app.core.transactions import commit_or_explain
from app.extensions import db
from app.reports import bp, charts, queries, tables
from app.reports import jobs as report_jobs
from app.reports.export import FORMATS
from app.reports.periods import PERIOD_KIND_LABELS, Period, PeriodError, month_of, parse_period
from app.reports.queries import (
    DIMENSION_LABELS,
    FIGURES,
    FIGURES_BY_KEY,
    Context,
    Dimension,
    Fact,
    Scope,
    Subset,
)
from app.sla.services import load_calendar
from app.sla.working_time import describe


class RowPagination(SelectPagination):
    """Pagination of a drill-down: the items ``(Ticket, at, v)`` and the total come from one
    query (:func:`app.reports.queries.drill_page`); only a page past the end, which has no
    row to carry the total, counts separately."""

    def _query_items(self):
        args = self._query_args
        rows = list(args["session"].execute(queries.drill_page(
            args["rows"], args["fact"], self._query_offset, self.per_page)).all())
        self._total = rows[0].total if rows else None
        return [(ticket, at, v) for ticket, at, v, _total in rows]

    def _query_count(self) -> int:
        if self._total is not None:
            return self._total
        return queries.drill_count(self._query_args["rows"])


@bp.app_template_global()
def ticket_url(ticket) -> str | None:
    """The ticket's page, once the ticket pages exist."""
    for args in ({"reference": ticket.reference}, {"ticket_id": ticket.id}):
        try:
            return url_for("tickets.detail", **args)
        except BuildError:
            continue
    return None


@bp.before_request
def plan_for_reports():
    """PostgreSQL's JIT compiler costs seconds on the report queries and saves nothing (they
    read a month of rows by index), so it is off for the report transaction; and the sums by
    handler or area group a few hundred thousand rows, which the default 4 MB of sort memory
    turns into a sort on disk instead of a hash table."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(sa.text("SET LOCAL jit = off"))
        db.session.execute(sa.text("SET LOCAL work_mem = '32MB'"))


def _url_exists(endpoint: str) -> bool:
    return endpoint in current_app.view_functions


@bp.context_processor
def _report_globals():
    from app.ratings.models import RECTIFICATION_STATUS_LABELS

    return {"figures": FIGURES, "dimension_labels": DIMENSION_LABELS,
            "rectification_labels": RECTIFICATION_STATUS_LABELS, "url_exists": _url_exists,
            "period_kind_labels": PERIOD_KIND_LABELS, "shown_text": tables.shown_text,
            "change": tables.change}


def _scope() -> Scope:
    scope = Scope.for_user(current_user)
    if scope is None:
        abort(403)
    return scope


def _context(scope: Scope, args=None) -> tuple[Context, str | None]:
    """The period of the query string; bad dates fall back to this month with a message."""
    error = None
    try:
        period = parse_period(request.args if args is None else args)
    except PeriodError:
        period = parse_period({})
        error = _("Choose a valid period: the start must not be after the end, and a custom "
                  "period may cover at most 400 days.")
    return context_for(period, scope), error


def context_for(period: Period, scope: Scope) -> Context:
    now = now_utc()
    return Context(period, now, queries.due_soon_horizon(load_calendar(), now), scope)


def _dimension(args=None) -> Dimension:
    args = request.args if args is None else args
    try:
        return Dimension(args.get("by") or Dimension.UNIT)
    except ValueError:
        abort(404)


def _dashboard_charts(ctx: Context, rows, data) -> dict:
    weeks = queries.weekly(ctx, data)
    distribution = queries.handling_distribution(ctx, data)
    handled = FIGURES_BY_KEY["handled_on_time"]
    index = FIGURES.index(handled)
    week_bars = [charts.Bar(w["period"].start.strftime("%m-%d"), w["received"],
                            str(w["received"])) for w in weeks]
    rates = [w["on_time"] / w["handled"] if w["handled"] else None for w in weeks]
    comparison = [charts.Bar(row.name, row.values[index].value * 100,
                             tables.shown_text(row.values[index]))
                  for row in rows if row.values[index].value is not None]
    return {
        "weeks": weeks, "week_rates": rates, "distribution": distribution,
        "weekly_chart": charts.column_chart(_("Tickets received per week, and the share handled "
                                            "on time"), week_bars, rates,
                                          _("handled on time")),
        "distribution_chart": charts.column_chart(
            _("Tickets replied in the period by handling time in working days"),
            [charts.Bar(label, n, str(n)) for label, n in distribution]),
        "comparison_chart": charts.bar_chart(_("Handled on time by group"), comparison,
                                           maximum=100.0),
    }


@bp.route("/")
@require_permission(P.REPORT_VIEW)
def dashboard():
    """Cards with the previous period, the breakdown table, charts and the overdue lists."""
    scope = _scope()
    ctx, error = _context(scope)
    by = _dimension()
    data = queries.breakdown(ctx, by)
    rows = tables.group_rows(data)
    return render_template(
        "reports/dashboard.html", overdue=_most_urgent(ctx, Subset.A),
        rectifications=queries.open_rectifications(scope), coverage=queries.visit_coverage(ctx),
        due_soon=_most_urgent(ctx, Subset.B), ctx=ctx, by=by, error=error, rows=rows,
        totals=tables.total_row(data), previous=tables.previous_row(data),
        period_args=ctx.period.query_args(), scope=scope, **_dashboard_charts(ctx, rows, data))


def _most_urgent(ctx: Context, subset: Subset, limit: int = 10) -> list:
    """The first open tickets by remaining working time (overdue ones most late first)."""
    rows = queries.drill_rows(Fact.OPEN, subset, ctx)
    calendar = load_calendar()
    # The first rows are chosen among the narrow fact rows; only they join the tickets.
    return [(t, _left_text(tables.working_time(calendar, ctx.now, t.due_at)))
            for t, _at, _v, _total
            in db.session.execute(queries.drill_page(rows, Fact.OPEN, 0, limit))]


def _left_text(left) -> str | None:
    return describe(left) if left is not None else None


def _drill_arguments(args=None):
    """fact, subset, dimension and key of a drill-down; anything unknown is a 404."""
    args = request.args if args is None else args
    try:
        fact = Fact(args.get("fact", ""))
        subset = Subset(args.get("subset") or Subset.ALL)
        by = Dimension(args["by"]) if args.get("by") else None
    except ValueError:
        abort(404)
    if fact in queries.NON_TICKET_FACTS:
        abort(404)
    keyed = by is not None and "key" in args
    key = args.get("key") or None
    if key is not None and not key.isdigit():
        abort(404)
    return fact, subset, by, (int(key) if key else None), keyed


@bp.route("/tickets")
@require_permission(P.REPORT_VIEW)
def drill():
    """The exact tickets behind one number: same fact rows, listed instead of counted."""
    scope = _scope()
    ctx, error = _context(scope)
    fact, subset, by, key, keyed = _drill_arguments()
    rows = queries.drill_rows(fact, subset, ctx, by, key, keyed)
    page = RowPagination(rows=rows, fact=fact, session=db.session(),
                         page=page_number(), per_page=current_app.config["PAGE_SIZE"],
                         error_out=False, count=True)
    group_name = None
    if keyed:
        group_name = (queries.group_names(by, [key]).get(key) if key is not None
                      else _("(none)"))
    return render_template(
        "reports/drill.html", ctx=ctx, error=error, fact=fact, subset=subset, by=by, key=key,
        keyed=keyed, group_name=group_name, page=page, headers=tables.drill_headers(fact),
        cells=[tables.drill_cells(t, at, v, fact, load_calendar(), ctx.now)
               for t, at, v in page.items],
        tickets=[t for t, _at, _v in page.items], title=drill_title(fact, subset))


def drill_title(fact: Fact, subset: Subset) -> str:
    """What a drill-down lists, in words."""
    titles = {
        (Fact.INTAKE, Subset.ALL): _("Tickets received"),
        (Fact.INTAKE, Subset.A): _("Handled at once (马上办)"),
        (Fact.DISPATCH, Subset.ALL): _("Dispatches"),
        (Fact.ACKNOWLEDGE, Subset.ALL): _("Acknowledgements due"),
        (Fact.ACKNOWLEDGE, Subset.A): _("Acknowledged on time"),
        (Fact.ACKNOWLEDGE, Subset.NOT_A): _("Acknowledged late or not yet"),
        (Fact.HANDLING, Subset.ALL): _("Handling due"),
        (Fact.HANDLING, Subset.A): _("Handled on time"),
        (Fact.HANDLING, Subset.NOT_A): _("Handled late or not yet"),
        (Fact.HANDLING, Subset.MEASURED): _("Replied (handling time)"),
        (Fact.RETURN, Subset.ALL): _("Return requests"),
        (Fact.RETURN, Subset.A): _("Returns approved"),
        (Fact.RETURN, Subset.B): _("Returns decided"),
        (Fact.EXTENSION, Subset.ALL): _("Extensions approved"),
        (Fact.RATING, Subset.ALL): _("Ratings"),
        (Fact.RATING, Subset.A): _("Satisfied ratings (levels 3–5)"),
        (Fact.RATING, Subset.B): _("Bad ratings (差评)"),
        (Fact.OPEN, Subset.A): _("Overdue tickets"),
        (Fact.OPEN, Subset.B): _("Tickets due soon"),
    }
    return titles.get((fact, subset), _("Tickets"))


def _period_details(ctx: Context) -> dict:
    return {"period": ctx.period.label(), "unit_id": ctx.scope.unit_id}


def _start_export(kind, **params):
    """Ask for a report export job and show its page (the file comes when it is done)."""
    args = {k: v for k, v in request.args.items() if k != "page"}
    record = commit_or_explain(lambda: kind.enqueue(actor=current_user, args=args, **params))
    if not record:
        return redirect(url_for("reports.dashboard", **args))
    return redirect(url_for("exports.show", job_id=record.id))


@bp.route("/export/breakdown.<any(csv, xlsx):fmt>", methods=["POST"])
@require_permission(P.REPORT_EXPORT)
def export_breakdown(fmt: str):
    """The breakdown table (by unit, area, category or handler) as shown on the dashboard."""
    _scope()
    _dimension()
    return _start_export(report_jobs.export_breakdown, fmt=fmt)


@bp.route("/export/tickets.<any(csv, xlsx):fmt>", methods=["POST"])
@require_permission(P.REPORT_EXPORT)
def export_drill(fmt: str):
    """Every ticket of a drill-down (not only the page shown)."""
    _scope()
    _drill_arguments()
    return _start_export(report_jobs.export_drill, fmt=fmt)


@bp.route("/monthly")
@require_permission(P.REPORT_VIEW)
def monthly():
    """A printable monthly report: the figures, the change, and the table by unit."""
    scope = _scope()
    ctx = context_for(_month(request.args), scope)
    data = queries.breakdown(ctx, Dimension.UNIT)
    return render_template("reports/monthly.html", ctx=ctx, rows=tables.group_rows(data),
                           totals=tables.total_row(data), previous=tables.previous_row(data))


@bp.route("/monthly/export.<any(csv, xlsx):fmt>", methods=["POST"])
@require_permission(P.REPORT_EXPORT)
def export_monthly(fmt: str):
    """The monthly report's table by unit as a file (a job)."""
    _scope()
    _month(request.args)
    return _start_export(report_jobs.export_monthly, fmt=fmt)


def _month(args) -> Period:
    """The month of the monthly report (``start``); a bad date is a 404."""
    try:
        return month_of(parse_period({"period": "month", "start": args.get("start")}).start)
    except PeriodError:
        abort(404)


#: The figures of the public page: volume, on-time rate and satisfaction (no personal data).
PUBLIC_FIGURES = ("received", "handled_on_time", "satisfaction")


@bp.app_template_global()
def export_formats():
    return FORMATS


@bp.route("/public")
@public
def transparency():
    """Monthly volume, on-time rate and satisfaction per unit, for anyone (DOMAIN §7)."""
    if not current_app.config.get("REPORTS_PUBLIC_PAGE", True):
        abort(404)
    month = request.args.get("month") or ""
    try:
        period = month_of(parse_period({"period": "month",
                                        "start": f"{month}-01" if month else None}).start)
    except PeriodError:
        period = month_of(parse_period({}).start)
    ctx = context_for(period, Scope())
    data = queries.breakdown(ctx, Dimension.UNIT)
    indexes = [FIGURES.index(FIGURES_BY_KEY[key]) for key in PUBLIC_FIGURES]
    rows = [(row.name, [row.values[i] for i in indexes]) for row in tables.group_rows(data)
            if row.key is not None]
    totals = tables.total_row(data)
    return render_template("reports/public.html", ctx=ctx, rows=rows,
                           totals=[totals[i] for i in indexes],
                           public_figures=[FIGURES[i] for i in indexes],
                           previous_month=period.previous().start.isoformat()[:7],
                           next_month=period.end.isoformat()[:7])

