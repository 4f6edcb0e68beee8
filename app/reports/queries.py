"""The supervisor figures of DOMAIN §7, computed by the database.

Every figure is built from **facts**: one ``SELECT`` per fact yields one row per thing counted
(a ticket received, a return requested, an extension approved …) with the same columns —
``ticket_id``, the four dimensions (``unit_id``, ``category_id``, ``handler_id``,
``area_id``), the instant the row belongs to (``at``), two 0/1 flags ``a`` and ``b`` and a value
``v``. The rows that change only when a ticket changes are stored per ticket in ``report_facts``
(:mod:`app.reports.facts`, rewritten in the transaction of every change); what the passing of
time changes (acknowledgements and handling deadlines passed without action, the overdue
snapshot) and the small tables of other packages are selected live. The dashboard sums these
rows per dimension in one query (a ``UNION ALL`` of the facts); a drill-down lists the rows
of the very same fact select, filtered by a flag and a dimension value, and counts them in the
same query. The count on a card and the list behind it therefore cannot disagree: they are one
query function (:func:`fact_select`), aggregated or listed.

Definitions (also shown on the page, see :data:`FIGURES`):

* 及时签收率 — tickets dispatched in the period (current dispatch) whose acknowledgement is
  decided (acknowledged, or still waiting past its deadline): share acknowledged by the deadline.
* 按期办结率 — tickets replied in the period, plus tickets whose handling deadline passed in the
  period without a reply: share replied by the deadline (after extensions and suspensions).
* 平均办理时长 — for tickets replied in the period: working days from the dispatch date to the reply
  date, counted like deadlines (次日起), minus the working days spent suspended. An approved
  return starts a new dispatch, so the misrouted time is excluded too.
* 退单率 — return requests made in the period / dispatches in the period (a ticket whose return was
  approved counts as a dispatch of the returning unit).
* 正确退单率 — of the returns requested in the period and decided, the share approved.
* Extensions — extension requests approved in the period.
* 马上办率 — tickets created in the period answered directly at intake, or handle_now tickets
  replied by their same-working-day deadline / all tickets created in the period.
* 满意率 — ratings given in the period at levels 3–5 / all ratings given in the period.
* 差评回访率 / 整改率 — of the rectifications opened in the period, the share called back / with a
  result (or an upheld appeal).
* 问题化解率 / 现场解决率 — of the issues raised on visits in the period, the share closed out /
  solved on site.
* Overdue / due soon — open tickets now past the current step's deadline / within one working
  day of it (or marked due soon by the SLA scan). These are a snapshot, not a period figure.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import StrEnum

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from app.auth.models import Unit, User
from app.core.clock import to_local
from app.core.permissions import Permission
from app.extensions import db
from app.reports import facts
from app.reports.facts import STORED_FACTS
from app.reports.models import ReportFact, ReportUnitDay
from app.reports.periods import Period, local_midnight
from app.reports.sql import local_day_number
from app.tickets.models import Category, Ticket, TicketStatus

S = TicketStatus


class Fact(StrEnum):
    """The things counted."""

    INTAKE = "intake"
    DISPATCH = "dispatch"
    ACKNOWLEDGE = "acknowledge"
    HANDLING = "handling"
    RETURN = "return"
    EXTENSION = "extension"
    RATING = "rating"
    RECTIFICATION = "rectification"
    VISIT_ISSUE = "visit_issue"
    OPEN = "open"


class Subset(StrEnum):
    """Which rows of a fact: all, flag ``a`` set / not set, flag ``b`` set, value present."""

    ALL = "all"
    A = "a"
    NOT_A = "not_a"
    B = "b"
    MEASURED = "measured"


class Dimension(StrEnum):
    """What the tables break figures down by."""

    UNIT = "unit"
    AREA = "area"
    CATEGORY = "category"
    HANDLER = "handler"


DIMENSION_LABELS = {
    Dimension.UNIT: _l("Unit"),
    Dimension.AREA: _l("Area"),
    Dimension.CATEGORY: _l("Category"),
    Dimension.HANDLER: _l("Handler"),
}

#: Facts that describe the present moment rather than a period.
SNAPSHOT_FACTS = frozenset({Fact.OPEN})
#: Ticket states in which a unit still works on the handling step.
HANDLING_STATES = (S.DISPATCHED, S.IN_PROGRESS, S.RETURN_REQUESTED)
REPLIED_STATES = (S.REPLIED, S.FOLLOW_UP, S.CLOSED)
OPEN_STATES = (S.SUBMITTED, S.DISPATCHED, S.IN_PROGRESS, S.RETURN_REQUESTED, S.REPLIED,
               S.FOLLOW_UP)


@dataclass(frozen=True)
class Scope:
    """Whose figures: every unit (``unit_id`` None) or one unit."""

    unit_id: int | None = None

    @classmethod
    def for_user(cls, user) -> Scope | None:
        """Supervisors see every unit, a unit lead their own; anyone else nothing (None)."""
        if user.can(Permission.REPORT_VIEW_ALL):
            return cls()
        if user.can(Permission.REPORT_VIEW) and user.unit_id is not None:
            return cls(unit_id=user.unit_id)
        return None


@dataclass(frozen=True)
class Context:
    """What every fact needs: the period, the present instant and the due-soon horizon."""

    period: Period
    now: datetime
    due_soon_until: datetime
    scope: Scope = field(default_factory=Scope)


def due_soon_horizon(calendar, now: datetime) -> datetime:
    """The instant one working day after ``now`` (DOMAIN §3.2: due soon = ≤ 1 WD left)."""
    today = to_local(now).date()
    if calendar.is_workday(today):
        return calendar.shift_working_days(now, 1)
    return local_midnight(calendar.working_day_after(today, 0) + timedelta(days=1))


# -- the facts ---------------------------------------------------------------------------------


def _flag(condition) -> sa.Case:
    return sa.case((condition, 1), else_=0)


def _in_period(column, period: Period):
    return sa.and_(column >= period.start_at, column < period.end_at)


def _columns(ticket_id, unit_id, category_id, handler_id, at, a=0, b=0, v=None,
             with_area=False, day=None):
    from app.firms.models import Firm

    area = Firm.area_id if with_area else sa.cast(sa.null(), sa.Integer)
    value = sa.cast(sa.null() if v is None else v, sa.Integer)
    return [ticket_id.label("ticket_id"), unit_id.label("unit_id"),
            category_id.label("category_id"), handler_id.label("handler_id"),
            area.label("area_id"), at.label("at"),
            (local_day_number(at) if day is None else day).label("day"),
            (sa.literal(a) if isinstance(a, int) else a).label("a"),
            (sa.literal(b) if isinstance(b, int) else b).label("b"), value.label("v")]


def _with_firm(select: sa.Select, with_area: bool, firm_id=Ticket.firm_id) -> sa.Select:
    from app.firms.models import Firm

    return select.outerjoin(Firm, Firm.id == firm_id) if with_area else select


def _ticket_fact(ctx: Context, where, at, a=0, b=0, v=None, with_area=False) -> sa.Select:
    select = sa.select(*_columns(Ticket.id, Ticket.lead_unit_id, Ticket.category_id,
                                 Ticket.assignee_id, at, a, b, v, with_area)).select_from(Ticket)
    select = _with_firm(select, with_area).where(where)
    if ctx.scope.unit_id is not None:
        select = select.where(Ticket.lead_unit_id == ctx.scope.unit_id)
    return select


def _stored(fact: Fact, ctx: Context, with_area: bool) -> sa.Select:
    """The stored rows of a fact in the period (:mod:`app.reports.facts`), read by the
    covering index on ``(fact, at)``."""
    f = ReportFact
    select = (sa.select(*_columns(f.ticket_id, f.unit_id, f.category_id, f.handler_id, f.at,
                                  f.a, f.b, f.v, with_area, f.day)).select_from(f))
    select = _with_firm(select, with_area, f.firm_id).where(
        f.fact == fact.value, f.at >= ctx.period.start_at, f.at < ctx.period.end_at)
    if ctx.scope.unit_id is not None:
        select = select.where(f.unit_id == ctx.scope.unit_id)
    return select


def _acknowledge_waiting(ctx: Context, with_area: bool) -> sa.Select:
    """Dispatched in the period, not acknowledged and past the deadline now (decided late);
    the acknowledged ones are stored facts."""
    waiting = sa.and_(_in_period(Ticket.dispatched_at, ctx.period), Ticket.status == S.DISPATCHED,
                      Ticket.acknowledged_at.is_(None), Ticket.acknowledge_due_at < ctx.now)
    return _ticket_fact(ctx, waiting, Ticket.dispatched_at, with_area=with_area)


def _handling_missed(ctx: Context, with_area: bool) -> sa.Select:
    """Handling deadline passed in the period without a reply (the replied tickets are stored
    facts): ``a`` = 0, no handling time."""
    period, now = ctx.period, ctx.now
    missed = sa.and_(Ticket.status.in_(HANDLING_STATES), Ticket.dispatched_at.is_not(None),
                     Ticket.handle_due_at >= period.start_at,
                     Ticket.handle_due_at < min(period.end_at, now))
    return _ticket_fact(ctx, missed, Ticket.handle_due_at, v=sa.cast(sa.null(), sa.Integer),
                        with_area=with_area)


def _rectifications(ctx: Context, with_area: bool) -> sa.Select:
    """差评 rectifications opened in the period (DOMAIN §4); ``a`` = the evaluator was called
    back, ``b`` = rectified (a result recorded, or the appeal upheld)."""
    from app.ratings.models import Rectification as R

    select = (sa.select(*_columns(R.ticket_id, R.unit_id, Ticket.category_id, Ticket.assignee_id,
                                  R.opened_at, a=_flag(R.callback_at.is_not(None)),
                                  b=_flag(sa.or_(R.result.is_not(None),
                                                 R.appeal_upheld.is_(True))),
                                  with_area=with_area))
              .select_from(R).join(Ticket, Ticket.id == R.ticket_id))
    select = _with_firm(select, with_area).where(_in_period(R.opened_at, ctx.period))
    if ctx.scope.unit_id is not None:
        select = select.where(R.unit_id == ctx.scope.unit_id)
    return select


def _visit_issues(ctx: Context, with_area: bool) -> sa.Select:
    """Issues raised on visits in the period (DOMAIN §5); ``a`` = closed out (销号),
    ``b`` = solved on site. ``ticket_id`` is the issue's ticket when it was assigned."""
    from app.firms.models import Firm
    from app.visits.models import Visit, VisitIssue
    from app.visits.queries import closed_out_clause

    area = Firm.area_id if with_area else sa.cast(sa.null(), sa.Integer)
    select = (sa.select(VisitIssue.ticket_id.label("ticket_id"), Visit.unit_id.label("unit_id"),
                        VisitIssue.category_id.label("category_id"),
                        Visit.lead_visitor_id.label("handler_id"), area.label("area_id"),
                        Visit.visited_at.label("at"),
                        local_day_number(Visit.visited_at).label("day"),
                        _flag(closed_out_clause()).label("a"),
                        _flag(VisitIssue.is_solved_on_site.is_(True)).label("b"),
                        sa.cast(sa.null(), sa.Integer).label("v"))
              .select_from(VisitIssue).join(Visit, Visit.id == VisitIssue.visit_id))
    if with_area:
        select = select.join(Firm, Firm.id == Visit.firm_id)
    select = select.where(_in_period(Visit.visited_at, ctx.period))
    if ctx.scope.unit_id is not None:
        select = select.where(Visit.unit_id == ctx.scope.unit_id)
    return select


def _open(ctx: Context, with_area: bool) -> sa.Select:
    """Open tickets now overdue (``a``) or due soon (``b``), by the current step's deadline."""
    overdue = Ticket.due_at < ctx.now
    soon = sa.and_(Ticket.due_at >= ctx.now, sa.or_(Ticket.due_at <= ctx.due_soon_until,
                                                    Ticket.sla_status == "due_soon"))
    where = sa.and_(Ticket.status.in_(OPEN_STATES), Ticket.due_at.is_not(None),
                    sa.or_(overdue, soon))
    return _ticket_fact(ctx, where, Ticket.due_at, a=_flag(overdue), b=_flag(soon),
                        v=sa.cast(sa.null(), sa.Integer), with_area=with_area)


#: What each fact adds to its stored rows (if any) at query time: what time alone changes,
#: and the facts of other packages' small tables.
_LIVE = {
    Fact.ACKNOWLEDGE: _acknowledge_waiting, Fact.HANDLING: _handling_missed,
    Fact.RECTIFICATION: _rectifications, Fact.VISIT_ISSUE: _visit_issues, Fact.OPEN: _open,
}
#: Facts charted per week of the period (:func:`weekly`).
WEEKLY_FACTS = (Fact.INTAKE.value, Fact.HANDLING.value)
#: Facts kept in ``report_facts``.
STORED = frozenset(Fact(value) for value in STORED_FACTS)
#: Facts whose rows are not all tickets: their numbers link to their own pages, not to lists.
NON_TICKET_FACTS = frozenset({Fact.VISIT_ISSUE})


#: Facts whose live rows are all ``a`` = ``b`` = 0 without a value (what time alone decided:
#: late), so a drill-down into ``a``, ``b`` or the measured rows need not compute them.
_LIVE_ONLY_LATE = frozenset({Fact.ACKNOWLEDGE, Fact.HANDLING})


def fact_select(fact: Fact, ctx: Context, with_area: bool = False,
                subset: Subset = Subset.ALL) -> sa.Select:
    """The rows of one fact: what a card counts and what its drill-down lists (the stored
    rows of the period, plus what is computed live)."""
    fact = Fact(fact)
    parts = [_stored(fact, ctx, with_area)] if fact in STORED else []
    skip_live = fact in _LIVE_ONLY_LATE and subset in (Subset.A, Subset.B, Subset.MEASURED)
    if fact in _LIVE and not skip_live:
        parts.append(_LIVE[fact](ctx, with_area))
    return parts[0] if len(parts) == 1 else sa.union_all(*parts)


def subset_clause(rows, subset: Subset):
    """The rows of a subset, on a fact subquery."""
    return {
        Subset.ALL: sa.true(),
        Subset.A: rows.c.a == 1,
        Subset.NOT_A: rows.c.a == 0,
        Subset.B: rows.c.b == 1,
        Subset.MEASURED: rows.c.v.is_not(None),
    }[Subset(subset)]


def _dimension_column(rows, by: Dimension):
    return getattr(rows.c, f"{'handler' if by == Dimension.HANDLER else by.value}_id")

# -- figures -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Figure:
    """One figure of DOMAIN §7: a count, a rate (numerator / denominator) or an average."""

    key: str
    label: object
    definition: object
    kind: str  # "count", "rate" or "average"
    numerator: tuple[Fact, Subset]
    denominator: tuple[Fact, Subset] | None = None
    #: Whether a higher value is better (for the arrow of the change).
    higher_is_better: bool = True

    @property
    def is_snapshot(self) -> bool:
        return self.numerator[0] in SNAPSHOT_FACTS

FIGURES: tuple[Figure, ...] = (
    Figure("received", _l("Tickets received"),
           _l("Tickets created in the period, whatever their channel or state."),
           "count", (Fact.INTAKE, Subset.ALL)),
    Figure("acknowledged_on_time", _l("Acknowledged on time (及时签收率)"),
           _l("Of the tickets dispatched in the period whose acknowledgement is decided "
              "(acknowledged, or still waiting past the deadline), the share acknowledged by "
              "the acknowledgement deadline."),
           "rate", (Fact.ACKNOWLEDGE, Subset.A), (Fact.ACKNOWLEDGE, Subset.ALL)),
    Figure("handled_on_time", _l("Handled on time (按期办结率)"),
           _l("Of the tickets replied in the period plus those whose handling deadline passed "
              "in the period without a reply, the share replied by the deadline. Deadlines "
              "include approved extensions and exclude suspended time."),
           "rate", (Fact.HANDLING, Subset.A), (Fact.HANDLING, Subset.ALL)),
    Figure("overdue", _l("Overdue now"),
           _l("Open tickets past the deadline of their current step, at this moment."),
           "count", (Fact.OPEN, Subset.A), higher_is_better=False),
    Figure("due_soon", _l("Due soon"),
           _l("Open tickets within one working day of their current deadline (or marked due "
              "soon by the SLA scan), at this moment."),
           "count", (Fact.OPEN, Subset.B), higher_is_better=False),
    Figure("handling_days", _l("Average handling time (working days)"),
           _l("For tickets replied in the period: working days from the dispatch date to the "
              "reply date, counted like deadlines (the day after dispatch is day 1), minus "
              "working days spent suspended. After an approved return the clock starts at "
              "the new dispatch."),
           "average", (Fact.HANDLING, Subset.MEASURED), higher_is_better=False),
    Figure("return_rate", _l("Return rate (退单率)"),
           _l("Return requests made in the period, divided by the dispatches in the period "
              "(a ticket whose return was approved counts as a dispatch of the returning unit)."),
           "rate", (Fact.RETURN, Subset.ALL), (Fact.DISPATCH, Subset.ALL),
           higher_is_better=False),
    Figure("correct_return_rate", _l("Correct return rate (正确退单率)"),
           _l("Of the return requests made in the period and already decided, the share the "
              "dispatcher approved."),
           "rate", (Fact.RETURN, Subset.A), (Fact.RETURN, Subset.B)),
    Figure("extensions", _l("Extensions approved"),
           _l("Extension requests a supervisor approved in the period."),
           "count", (Fact.EXTENSION, Subset.ALL), higher_is_better=False),
    Figure("handle_now_rate", _l("Handled at once (马上办率)"),
           _l("Tickets created in the period that were answered directly at intake, or that "
              "are in the handle-now mode and were replied by their same-working-day deadline "
              "(the next working day when created after 15:00), divided by all tickets "
              "created in the period."),
           "rate", (Fact.INTAKE, Subset.A), (Fact.INTAKE, Subset.ALL)),
    Figure("callback_rate", _l("Bad ratings called back (差评回访率)"),
           _l("Of the rectifications opened in the period for real-name bad ratings, the share "
              "whose evaluator has been called back (goal 100 %)."),
           "rate", (Fact.RECTIFICATION, Subset.A), (Fact.RECTIFICATION, Subset.ALL)),
    Figure("rectification_rate", _l("Rectified (整改率)"),
           _l("Of the rectifications opened in the period, the share with a recorded result or "
              "an upheld appeal (goal 100 %)."),
           "rate", (Fact.RECTIFICATION, Subset.B), (Fact.RECTIFICATION, Subset.ALL)),
    Figure("issues_resolved", _l("Visit issues resolved (问题化解率)"),
           _l("Issues raised on visits made in the period that are closed out (solved on site, "
              "or their ticket closed with a satisfied rating), divided by all issues raised."),
           "rate", (Fact.VISIT_ISSUE, Subset.A), (Fact.VISIT_ISSUE, Subset.ALL)),
    Figure("solved_on_site", _l("Solved on site (现场解决率)"),
           _l("Issues raised on visits made in the period that were solved on the spot, "
              "divided by all issues raised."),
           "rate", (Fact.VISIT_ISSUE, Subset.B), (Fact.VISIT_ISSUE, Subset.ALL)),
    Figure("satisfaction", _l("Satisfaction (满意率)"),
           _l("Ratings given in the period at levels 3–5 (basically satisfied or better), "
              "divided by all ratings given in the period."),
           "rate", (Fact.RATING, Subset.A), (Fact.RATING, Subset.ALL)),
)
FIGURES_BY_KEY = {figure.key: figure for figure in FIGURES}


@dataclass
class Tally:
    """Sums of one fact's rows in one group."""

    n: int = 0
    a: int = 0
    b: int = 0
    v_sum: float = 0.0
    v_count: int = 0

    def count(self, subset: Subset) -> int:
        return {Subset.ALL: self.n, Subset.A: self.a, Subset.NOT_A: self.n - self.a,
                Subset.B: self.b, Subset.MEASURED: self.v_count}[Subset(subset)]

    def add(self, other: Tally) -> None:
        self.n += other.n
        self.a += other.a
        self.b += other.b
        self.v_sum += other.v_sum
        self.v_count += other.v_count


@dataclass(frozen=True)
class Value:
    """A computed figure: its value and the counts it was computed from."""

    figure: Figure
    value: float | None
    numerator: int
    denominator: int | None


def evaluate(figure: Figure, tallies: dict[Fact, Tally]) -> Value:
    """The figure's value from the fact tallies of one group."""
    fact, subset = figure.numerator
    tally = tallies.get(fact, Tally())
    count = tally.count(subset)
    if figure.kind == "count":
        return Value(figure, count, count, None)
    if figure.kind == "average":
        return Value(figure, tally.v_sum / tally.v_count if tally.v_count else None,
                     count, None)
    den_fact, den_subset = figure.denominator
    denominator = tallies.get(den_fact, Tally()).count(den_subset)
    return Value(figure, count / denominator if denominator else None, count, denominator)


#: Buckets of handling time in working days: (label, lowest, highest or None).
HANDLING_BUCKETS = (("0", 0, 0), ("1", 1, 1), ("2", 2, 2), ("3", 3, 3), ("4", 4, 4),
                    ("5", 5, 5), ("6–10", 6, 10), ("11–15", 11, 15), ("> 15", 16, None))


@dataclass
class Breakdown:
    """Tallies per fact for every group of a dimension, the totals, and the previous period;
    per week of the period and per handling-time bucket too (the charts), from the same rows."""

    by: Dimension
    groups: dict[int | None, dict[Fact, Tally]]
    totals: dict[Fact, Tally]
    previous: dict[Fact, Tally]
    #: Per week of the period, for the charted facts (:data:`WEEKLY_FACTS`) only.
    weeks: dict[tuple[Fact, int], Tally] = field(default_factory=dict)
    buckets: dict[int, int] = field(default_factory=dict)

    def values(self, tallies: dict[Fact, Tally]) -> list[Value]:
        return [evaluate(figure, tallies) for figure in FIGURES]


def _weighted(rows, fact, prev) -> sa.Select:
    """Fact rows in the summing format of :func:`breakdown`: one row weighs ``n`` = 1."""
    fact = rows.c.fact if fact is None else sa.literal(fact.value)
    prev = rows.c.prev if prev is None else sa.literal(prev)
    measured = sa.case((rows.c.v.is_(None), 0), else_=1)
    return sa.select(fact.label("fact"), prev.label("prev"), rows.c.unit_id, rows.c.category_id,
                     rows.c.handler_id, rows.c.area_id, rows.c.day, sa.literal(1).label("n"),
                     rows.c.a, rows.c.b, rows.c.v, rows.c.v.label("v_sum"),
                     measured.label("v_count"))


def _labelled_live(fact: Fact, ctx: Context, with_area: bool, prev: int):
    return _weighted(_LIVE[fact](ctx, with_area).subquery(), fact, prev)


def _stored_both(ctx: Context, previous: Context, with_area: bool) -> sa.Select:
    """The stored rows of both periods in one index range (the previous period ends where
    this one starts), flagged ``prev``."""
    f = ReportFact
    select = (sa.select(f.fact.label("fact"),
                        sa.case((f.at < ctx.period.start_at, 1), else_=0).label("prev"),
                        *_columns(f.ticket_id, f.unit_id, f.category_id, f.handler_id, f.at,
                                  f.a, f.b, f.v, with_area, f.day)).select_from(f))
    select = _with_firm(select, with_area, f.firm_id).where(
        f.fact.in_(sorted(STORED_FACTS)), f.at >= previous.period.start_at,
        f.at < ctx.period.end_at)
    if ctx.scope.unit_id is not None:
        select = select.where(f.unit_id == ctx.scope.unit_id)
    return _weighted(select.subquery(), None, None)


def _unit_days_both(ctx: Context, previous: Context) -> sa.Select:
    """The same sums per unit and day from ``report_unit_days`` (the breakdown by unit)."""
    d = ReportUnitDay
    first = (previous.period.start - date(1970, 1, 1)).days
    start = (ctx.period.start - date(1970, 1, 1)).days
    end = (ctx.period.end - date(1970, 1, 1)).days
    value = sa.case((d.v < 0, None), else_=d.v)
    measured = d.v >= 0
    no_id = sa.cast(sa.null(), sa.Integer)
    select = sa.select(
        d.fact.label("fact"), sa.case((d.day < start, 1), else_=0).label("prev"),
        sa.case((d.unit_key == 0, None), else_=d.unit_key).label("unit_id"),
        no_id.label("category_id"), no_id.label("handler_id"), no_id.label("area_id"),
        d.day.label("day"), d.n.label("n"), d.a.label("a"), d.b.label("b"), value.label("v"),
        sa.case((measured, d.v * d.n)).label("v_sum"),
        sa.case((measured, d.n), else_=0).label("v_count"),
    ).where(d.day >= first, d.day < end, d.n != 0)
    if ctx.scope.unit_id is not None:
        select = select.where(d.unit_key == ctx.scope.unit_id)
    return select


def _bucket(value):
    return sa.case(*[(value <= high, index) for index, (_label, _low, high)
                     in enumerate(HANDLING_BUCKETS) if high is not None],
                   else_=len(HANDLING_BUCKETS) - 1)


def breakdown(ctx: Context, by: Dimension = Dimension.UNIT) -> Breakdown:
    """Every fact of the period and of the previous period, summed per group, per week of the
    period (the charted facts) and per handling-time bucket, in ONE query: the stored facts of
    both periods by one index range, plus the few rows computed live. Weeks and buckets are
    computed only for the rows the charts use (per-row arithmetic is most of the cost)."""
    facts.sync(db.session())
    with_area = by == Dimension.AREA
    previous = Context(ctx.period.previous(), ctx.now, ctx.due_soon_until, ctx.scope)
    stored = (_unit_days_both(ctx, previous) if by == Dimension.UNIT
              else _stored_both(ctx, previous, with_area))
    parts = [stored]
    parts += [_labelled_live(f, ctx, with_area, 0) for f in _LIVE]
    parts += [_labelled_live(f, previous, with_area, 1)
              for f in _LIVE if f not in SNAPSHOT_FACTS]
    rows = sa.union_all(*parts).subquery()
    key = _dimension_column(rows, by)
    start_number = (ctx.period.start - date(1970, 1, 1)).days
    current = rows.c.prev == 0
    week = sa.case((sa.and_(current, rows.c.fact.in_(WEEKLY_FACTS)),
                    (rows.c.day - start_number) // 7))
    bucket = sa.case((sa.and_(current, rows.c.fact == Fact.HANDLING.value,
                              rows.c.v.is_not(None)), _bucket(rows.c.v)))
    statement = (sa.select(rows.c.fact, rows.c.prev, key, week, bucket, sa.func.sum(rows.c.n),
                           sa.func.sum(rows.c.a), sa.func.sum(rows.c.b),
                           sa.func.sum(rows.c.v_sum), sa.func.sum(rows.c.v_count))
                 .group_by(rows.c.fact, rows.c.prev, key, week, bucket))
    data = Breakdown(by, defaultdict(dict), defaultdict(Tally), defaultdict(Tally),
                     defaultdict(Tally), defaultdict(int))
    for label, prev, group, week_index, bucket_index, n, a, b, v_sum, v_count in (
            db.session.execute(statement)):
        tally = Tally(int(n), int(a or 0), int(b or 0), float(v_sum or 0), int(v_count or 0))
        fact = Fact(label)
        if prev:
            data.previous[fact].add(tally)
            continue
        data.groups[group].setdefault(fact, Tally()).add(tally)
        data.totals[fact].add(tally)
        if fact not in SNAPSHOT_FACTS and week_index is not None:
            data.weeks[(fact, int(week_index))].add(tally)
        if fact == Fact.HANDLING and bucket_index is not None:
            data.buckets[int(bucket_index)] += int(n)
    data.groups, data.totals, data.previous = (dict(data.groups), dict(data.totals),
                                               dict(data.previous))
    return data


# -- drill-down --------------------------------------------------------------------------------


def drill_rows(fact: Fact, subset: Subset, ctx: Context, by: Dimension | None = None,
               key: int | None = None, keyed: bool = False):
    """The fact rows behind one number (a subquery); ``keyed`` with ``key=None`` selects the
    group without a value (e.g. tickets with no category)."""
    facts.sync(db.session())
    with_area = by == Dimension.AREA
    rows = fact_select(fact, ctx, with_area, Subset(subset)).subquery()
    conditions = [subset_clause(rows, subset)]
    if by is not None and keyed:
        column = _dimension_column(rows, by)
        conditions.append(column.is_(None) if key is None else column == key)
    return sa.select(rows).where(*conditions).subquery("drill")


def drill_count(rows) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(rows))


def _order(rows, fact: Fact) -> tuple:
    """The most urgent first for the snapshot, the most recent first otherwise."""
    return (rows.c.at.asc(),) if fact in SNAPSHOT_FACTS else (rows.c.at.desc(),)


def drill_tickets(rows, fact: Fact) -> sa.Select:
    """``(Ticket, at, v)`` for the rows, the most urgent or most recent first."""
    return (sa.select(Ticket, rows.c.at, rows.c.v).join(rows, rows.c.ticket_id == Ticket.id)
            .order_by(*_order(rows, fact), Ticket.id))


def drill_export(rows, fact: Fact) -> sa.Select:
    """The columns an export of the rows shows, as plain values (no ORM objects: a hundred
    thousand rows stream at database speed), in the order of :func:`drill_tickets`."""
    handler = sa.orm.aliased(User)
    return (sa.select(Ticket.reference, Ticket.title, Ticket.status, Unit.name.label("unit"),
                      handler.display_name.label("handler"), Category.name.label("category"),
                      Ticket.created_at, Ticket.dispatched_at, Ticket.handle_due_at,
                      Ticket.due_at, Ticket.replied_at, rows.c.at, rows.c.v)
            .select_from(rows).join(Ticket, rows.c.ticket_id == Ticket.id)
            .outerjoin(Unit, Unit.id == Ticket.lead_unit_id)
            .outerjoin(handler, handler.id == Ticket.assignee_id)
            .outerjoin(Category, Category.id == Ticket.category_id)
            .order_by(*_order(rows, fact), Ticket.id))


def drill_page(rows, fact: Fact, offset: int, limit: int) -> sa.Select:
    """One page of ``(Ticket, at, v, total)``: the page's rows and how many there are in all
    come from the same query (a window count over the fact rows); only the page's tickets are
    read from the tickets table."""
    page = (sa.select(rows.c.ticket_id, rows.c.at, rows.c.v,
                      sa.func.count().over().label("total"))
            .order_by(*_order(rows, fact), rows.c.ticket_id).offset(offset).limit(limit)
            .subquery("page"))
    return (sa.select(Ticket, page.c.at, page.c.v, page.c.total)
            .join(page, page.c.ticket_id == Ticket.id)
            .order_by(*_order(page, fact), Ticket.id))


# -- charts ------------------------------------------------------------------------------------


def weekly(ctx: Context, data: Breakdown | None = None) -> list[dict]:
    """Per 7-day slice of the period: tickets received, handled and handled on time."""
    data = data or breakdown(ctx)
    result = []
    for index, slice_ in enumerate(ctx.period.weeks()):
        received = data.weeks.get((Fact.INTAKE, index), Tally())
        handled = data.weeks.get((Fact.HANDLING, index), Tally())
        result.append({"period": slice_, "received": received.n, "handled": handled.n,
                       "on_time": handled.a})
    return result


def handling_distribution(ctx: Context, data: Breakdown | None = None) -> list[tuple[str, int]]:
    """How many tickets replied in the period took each number of working days."""
    data = data or breakdown(ctx)
    return [(label, data.buckets.get(index, 0))
            for index, (label, _low, _high) in enumerate(HANDLING_BUCKETS)]


# -- names -------------------------------------------------------------------------------------


def group_names(by: Dimension, keys) -> dict[int, str]:
    """Display names of the groups (one query)."""
    from app.firms.models import Area

    ids = [k for k in keys if k is not None]
    if not ids:
        return {}
    model, column = {Dimension.UNIT: (Unit, Unit.name), Dimension.AREA: (Area, Area.name),
                     Dimension.CATEGORY: (Category, Category.name),
                     Dimension.HANDLER: (User, User.display_name)}[by]
    return dict(db.session.execute(sa.select(model.id, column).where(model.id.in_(ids))).all())


# -- rectifications and visit coverage ---------------------------------------------------------


def open_rectifications(scope: Scope, limit: int = 10) -> tuple[int, list]:
    """Open 差评 rectifications, the earliest due first: (how many, the first ``limit``)."""
    from app.ratings.models import OPEN_RECTIFICATION_STATES, Rectification

    statement = sa.select(Rectification).where(
        Rectification.status.in_([str(s) for s in OPEN_RECTIFICATION_STATES]))
    if scope.unit_id is not None:
        statement = statement.where(Rectification.unit_id == scope.unit_id)
    total = db.session.scalar(sa.select(sa.func.count()).select_from(statement.subquery()))
    rows = db.session.scalars(statement.order_by(Rectification.due_at, Rectification.id)
                              .limit(limit)).all()
    return total or 0, list(rows)


@dataclass(frozen=True)
class CoverageRow:
    """走访覆盖率 of one group: firms in its list, and those visited in the period."""

    key: object
    name: str
    firms: int
    visited: int

    @property
    def rate(self) -> float | None:
        return self.visited / self.firms if self.firms else None


def visit_coverage(ctx: Context) -> dict[str, list[CoverageRow]]:
    """Coverage per unit (the firms its staff serve) and in total (every firm, by area), with
    the visits package's own rule (DOMAIN §5); a unit lead sees their unit's line only."""
    from app.visits.queries import coverage
    from app.visits.services import get_settings

    settings = get_settings()
    start, last = ctx.period.start, ctx.period.last_day
    units = [CoverageRow(*row) for row in db.session.execute(
        coverage("unit", settings, start, last))]
    if ctx.scope.unit_id is not None:
        units = [row for row in units if row.key == ctx.scope.unit_id]
    areas = [CoverageRow(*row) for row in db.session.execute(
        coverage("area", settings, start, last))]
    total = CoverageRow(None, "", sum(r.firms for r in areas), sum(r.visited for r in areas))
    return {"units": units, "total": [total]}
