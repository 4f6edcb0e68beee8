"""The report tables, built once for the screen and for the exports (so they cannot differ).

A table cell holds the number exactly as shown: percentages rounded to one decimal, averages to
one decimal, counts as integers.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import gettext as _

from app.extensions import db
from app.reports.export import Table
from app.reports.queries import (
    DIMENSION_LABELS,
    FIGURES,
    SNAPSHOT_FACTS,
    Breakdown,
    Fact,
    Value,
    drill_export,
    evaluate,
    group_names,
)
from app.sla.working_time import WorkingTime, working_time_left
from app.tickets.models.enums import STATUS_LABELS


def shown(value: Value) -> float | int | None:
    """The number a card or cell shows."""
    if value.value is None:
        return None
    if value.figure.kind == "rate":
        return round(value.value * 100, 1)
    if value.figure.kind == "average":
        return round(value.value, 1)
    return int(value.value)


def shown_text(value: Value) -> str:
    number = shown(value)
    if number is None:
        return "–"
    if value.figure.kind == "rate":
        return f"{number:.1f}%"
    return f"{number:.1f}" if value.figure.kind == "average" else str(number)


@dataclass
class GroupRow:
    """One line of a breakdown table."""

    key: int | None
    name: str
    values: list[Value]


def group_rows(data: Breakdown) -> list[GroupRow]:
    """The breakdown's groups by name, groups without a value (no unit, no category) last."""
    names = group_names(data.by, data.groups.keys())
    rows = [GroupRow(key, names.get(key, _("(none)")) if key is not None else _("(none)"),
                     [evaluate(f, tallies) for f in FIGURES])
            for key, tallies in data.groups.items()]
    return sorted(rows, key=lambda row: (row.key is None, row.name))


def total_row(data: Breakdown) -> list[Value]:
    return [evaluate(f, data.totals) for f in FIGURES]


def previous_row(data: Breakdown) -> list[Value]:
    return [evaluate(f, data.previous) for f in FIGURES]


def _figure_headers() -> list[str]:
    headers = []
    for figure in FIGURES:
        headers.append(str(figure.label) + (" %" if figure.kind == "rate" else ""))
        if figure.kind == "rate":
            headers += [_("%(figure)s: numerator", figure=figure.label),
                        _("%(figure)s: denominator", figure=figure.label)]
    return headers


def _figure_cells(values: list[Value]) -> list:
    cells = []
    for value in values:
        cells.append(shown(value))
        if value.figure.kind == "rate":
            cells += [value.numerator, value.denominator]
    return cells


def breakdown_table(data: Breakdown) -> Table:
    """The breakdown as an export: one line per group and a total line."""
    headers = [str(DIMENSION_LABELS[data.by]), *_figure_headers()]
    lines = [[row.name, *_figure_cells(row.values)] for row in group_rows(data)]
    lines.append([_("Total"), *_figure_cells(total_row(data))])
    widths = [24] + [14] * (len(headers) - 1)
    return Table(f"report-by-{data.by.value}", _("By %(dimension)s",
                                                 dimension=DIMENSION_LABELS[data.by]),
                 headers, widths, lines)


def drill_headers(fact: Fact) -> list[str]:
    headers = [_("Reference"), _("Title"), _("Status"), _("Lead unit"), _("Handler"),
               _("Category"), _("Created"), _("Dispatched"), _("Handling deadline"),
               _("Current deadline"), _("Replied")]
    if fact in SNAPSHOT_FACTS:
        headers.append(_("Working days left"))
    if fact == Fact.HANDLING:
        headers.append(_("Handling time (working days)"))
    return headers


def drill_cells(ticket, at, v, fact: Fact, calendar=None, now=None) -> list:
    """One ticket of a drill-down, as shown and exported."""
    return _cells(ticket.reference, ticket.title, ticket.status,
                  ticket.lead_unit.name if ticket.lead_unit else None,
                  ticket.assignee.display_name if ticket.assignee else None,
                  ticket.category.name if ticket.category else None, ticket.created_at,
                  ticket.dispatched_at, ticket.handle_due_at, ticket.due_at, ticket.replied_at,
                  v, fact, calendar, now)


def _cells(reference, title, status, unit, handler, category, created, dispatched,
           handle_due, due, replied, v, fact: Fact, calendar, now) -> list:
    cells = [reference, title, str(STATUS_LABELS.get(status, status)), unit, handler, category,
             created, dispatched, handle_due, due, replied]
    if fact in SNAPSHOT_FACTS:
        cells.append(working_days_left(calendar, now, due))
    if fact == Fact.HANDLING:
        cells.append(v)
    return cells


def working_days_left(calendar, now, due) -> float | None:
    """Working days from now to the deadline in office hours (negative when overdue, one
    decimal, never -0.0; :mod:`app.sla.working_time`)."""
    left = working_time(calendar, now, due)
    return left.days if left is not None else None


def working_time(calendar, now, due) -> WorkingTime | None:
    """The working time left to ``due``; None without a deadline or a calendar for it."""
    if calendar is None or due is None:
        return None
    try:
        return working_time_left(due, now, calendar)
    except Exception:  # a deadline in a year without a calendar: show nothing, never a 500
        return None


def drill_table(rows, fact: Fact, title: str, calendar, now) -> Table:
    """A drill-down as an export, streamed from the database in batches of plain rows."""
    statement = drill_export(rows, fact).execution_options(yield_per=2000)

    def lines():
        for row in db.session.execute(statement):
            yield _cells(row.reference, row.title, row.status, row.unit, row.handler,
                         row.category, row.created_at, row.dispatched_at, row.handle_due_at,
                         row.due_at, row.replied_at, row.v, fact, calendar, now)

    headers = drill_headers(fact)
    widths = [16, 40, 14, 18, 12, 14, 18, 18, 18, 18, 18, 12, 12][: len(headers)]
    return Table(f"report-{fact.value}", title, headers, widths, lines())


def change(current: Value, previous: Value) -> tuple[str, str] | None:
    """The change against the previous period as text, and whether it is ``better``, ``worse``
    or ``same`` (rates change in percentage points)."""
    now, before = shown(current), shown(previous)
    if now is None or before is None or current.figure.is_snapshot:
        return None
    delta = round(now - before, 1)
    if delta == 0:
        return "±0", "same"
    better = (delta > 0) == current.figure.higher_is_better
    unit = " pt" if current.figure.kind == "rate" else ""
    return f"{delta:+g}{unit}", "better" if better else "worse"
