"""The stored report facts: what every ticket contributes to the figures, kept current.

A figure of DOMAIN §7 counts **fact rows** (see :mod:`app.reports.queries`). Most of them depend
only on the ticket and its requests — received, dispatched, acknowledged, replied (with the
handling time in working days, suspensions excluded), returned, extended, rated — so they are
computed once per change of the ticket and stored in ``report_facts``:

* every write of a ticket, a return request or an extension request marks the ticket (mapper
  events, so no path that changes a ticket can forget it; registered by :func:`init_app`, the
  one line of :func:`app.create_app` that turns the stored facts on);
* before the transaction commits — and before any report query of the same session reads — the
  marked tickets' rows are deleted and inserted again from :func:`rows_select`, in SQL.

The same statements add the difference of the tickets' rows to ``report_unit_days`` — the rows
summed per unit, fact, local day and value — which is all the dashboard by unit needs (a few
hundred rows a day instead of one per ticket and fact).

The same :func:`rows_select` fills the table for existing tickets (:func:`rebuild`, run by the
migration that created it and by ``flask reports rebuild-facts``). What changes with the mere
passing of time — acknowledgements still waiting past their deadline, handling deadlines passed
without a reply, the overdue snapshot — is never stored; the queries add it live.

The handling time depends on the working calendar: when days change (an admin's edit, a
seed, the official days replacing provisional ones), the facts of the tickets handled over
the changed past days are rewritten in the same transaction (:func:`refresh_for_days`).
``flask reports rebuild-facts`` rewrites every ticket's (after a bulk import).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import timedelta

import sqlalchemy as sa
from flask import current_app, has_app_context
from sqlalchemy import event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from app.core.caches import memo
from app.reports.models import ReportFact, ReportUnitDay
from app.reports.sql import (
    clamp_at_zero,
    local_date,
    local_day_number,
    workday_arrays,
    workday_index,
)
from app.sla.calendar import END_OF_DAY_SECONDS
from app.sla.models import WorkCalendarDay
from app.tickets.models import (
    ExtensionRequest,
    ExtensionStatus,
    ReturnRequest,
    ReturnStatus,
    Ticket,
    TicketEvent,
    TicketStatus,
)

S = TicketStatus
REPLIED_STATES = (S.REPLIED, S.FOLLOW_UP, S.CLOSED)

#: The facts kept in ``report_facts`` (the values of :class:`app.reports.queries.Fact`).
STORED_FACTS = ("intake", "dispatch", "acknowledge", "handling", "return", "extension",
                "rating")
COLUMNS = ("fact", "ticket_id", "unit_id", "category_id", "handler_id", "firm_id", "at", "day",
           "a", "b", "v")
#: Tickets per statement when facts are rewritten.
BATCH = 500
_PENDING = "report_facts_pending"
#: The pending tickets inserted in this transaction since the last sync: no stored rows yet.
_NEW = "report_facts_new"


def _flag(condition) -> sa.Case:
    return sa.case((condition, 1), else_=0)


def _row(fact: str, ticket_id, unit_id, handler_id, at, a=0, b=0, v=None) -> list:
    value = sa.cast(sa.null() if v is None else v, sa.Integer)
    return [sa.literal(fact).label("fact"), ticket_id.label("ticket_id"),
            unit_id.label("unit_id"), Ticket.category_id.label("category_id"),
            handler_id.label("handler_id"), Ticket.firm_id.label("firm_id"), at.label("at"),
            local_day_number(at).label("day"),
            (sa.literal(a) if isinstance(a, int) else a).label("a"),
            (sa.literal(b) if isinstance(b, int) else b).label("b"), value.label("v")]


def _ticket_row(fact: str, at, a=0, b=0, v=None) -> list:
    return _row(fact, Ticket.id, Ticket.lead_unit_id, Ticket.assignee_id, at, a, b, v)


def _paused_working_days(wi):
    """Working days a ticket spent suspended since its current dispatch: Σ wi(end) − Σ wi(start)
    over the pauses (every pause of a replied ticket has ended). ``wi(at)`` gives the
    working-day index of an instant's date and the joins it needs."""
    event_ = sa.orm.aliased(TicketEvent)
    index, joins = wi(event_.at)
    signed = sa.case((event_.from_status == S.SUSPENDED, index), else_=-index)
    total = sa.select(sa.func.coalesce(sa.func.sum(signed), 0)).select_from(event_)
    for target, on in joins:
        total = total.join(target, on)
    total = total.where(event_.ticket_id == Ticket.id, event_.at >= Ticket.dispatched_at,
                        sa.or_(event_.from_status == S.SUSPENDED,
                               event_.to_status == S.SUSPENDED)).scalar_subquery()
    return sa.case((Ticket.paused_seconds > 0, total), else_=0)


def handling_working_days(dialect: str, calendar, few: bool = False):
    """(expression, joins) of the handling time in working days of a replied ticket: from the
    dispatch date to the reply date counted like deadlines (次日起), minus suspended days.

    For a few tickets (``few``: the refresh before every commit), on both databases, a join to
    the calendar's own rows and a count of the working days up to that date on its primary
    key: SQLite computes the CTE's window over the whole calendar even for a ticket with no
    reply, which made it most of the cost of every write, and PostgreSQL's arrays make a
    statement of some 180 KB that the driver and the server parsed again for every
    submission. For many tickets, on PostgreSQL the working-day index is an array indexed by
    day number (no join, so no nested loop over a hundred thousand tickets); elsewhere a join
    to the index CTE. The joins drop the same rows (a date missing from the calendar), so the
    rows are equal.
    """
    if few:
        return _handling_by_lookup()
    if dialect == "postgresql":
        arrays = workday_arrays(calendar)
        start = arrays.wi(Ticket.dispatched_at) + 1 - arrays.is_workday(Ticket.dispatched_at)
        paused = _paused_working_days(lambda at: (arrays.wi(at), []))
        return sa.func.greatest(arrays.wi(Ticket.replied_at) - start - paused, 0), []
    dispatched, replied = workday_index("wi_dispatched"), workday_index("wi_replied")

    def wi(at):
        days = workday_index("wi_paused")
        return days.c.wi, [(days, days.c.day == local_date(at))]

    start = dispatched.c.wi + sa.case((dispatched.c.is_workday, 0), else_=1)
    days = clamp_at_zero(replied.c.wi - start - _paused_working_days(wi))
    joins = [(dispatched, dispatched.c.day == local_date(Ticket.dispatched_at)),
             (replied, replied.c.day == local_date(Ticket.replied_at))]
    return days, joins


def _workdays_up_to(day) -> sa.ScalarSelect:
    """Working days on or before ``day`` (a calendar date column): what the CTE's running
    window gives for that date, counted on the calendar's primary key."""
    other = sa.orm.aliased(WorkCalendarDay)
    return (sa.select(sa.func.count()).select_from(other)
            .where(other.day <= day, other.is_workday).scalar_subquery())


def _handling_by_lookup():
    """:func:`handling_working_days` for a few tickets (see there)."""
    dispatched = sa.orm.aliased(WorkCalendarDay, name="day_dispatched")
    replied = sa.orm.aliased(WorkCalendarDay, name="day_replied")

    def wi(at):
        day = sa.orm.aliased(WorkCalendarDay, name="day_paused")
        return _workdays_up_to(day.day), [(day, day.day == local_date(at))]

    start = _workdays_up_to(dispatched.day) + sa.case((dispatched.is_workday, 0), else_=1)
    days = clamp_at_zero(_workdays_up_to(replied.day) - start - _paused_working_days(wi))
    joins = [(dispatched, dispatched.day == local_date(Ticket.dispatched_at)),
             (replied, replied.day == local_date(Ticket.replied_at))]
    return days, joins


def rows_select(tickets: Callable, dialect: str, calendar,
                few: bool = False) -> sa.CompoundSelect:
    """Every stored fact row of the tickets ``tickets(Ticket.id)`` selects, in SQL (``few``:
    for a few tickets, see :func:`handling_working_days`).

    * intake — every ticket at its creation; ``a`` = 马上办 done: answered directly at intake,
      or a handle_now ticket replied by its same-working-day deadline;
    * dispatch — the current dispatch, and each approved return (a dispatch of the returning
      unit, at the request);
    * acknowledge — acknowledged tickets at their dispatch; ``a`` = by the deadline;
    * handling — replied dispatched tickets at the reply (a 马上办 direct answer has a deadline
      but no unit handled it); ``a`` = by the deadline (extensions and suspensions included),
      ``v`` = handling working days;
    * return — every return request by the returning unit; ``a`` = approved, ``b`` = decided;
    * extension — approved extension requests at the decision; ``v`` = days granted;
    * rating — rated tickets at their closing; ``a`` = levels 3–5, ``b`` = levels 1–2.
    """
    rr, er = ReturnRequest, ExtensionRequest
    direct = sa.and_(Ticket.first_dispatched_at.is_(None), Ticket.replied_at.is_not(None))
    same_day = sa.and_(Ticket.service_mode == "handle_now", Ticket.replied_at.is_not(None),
                       Ticket.handle_due_at.is_not(None),
                       Ticket.replied_at <= Ticket.handle_due_at)
    days, joins = handling_working_days(dialect, calendar, few)
    handling = sa.select(*_ticket_row(
        "handling", Ticket.replied_at, a=_flag(Ticket.replied_at <= Ticket.handle_due_at),
        v=days)).select_from(Ticket)
    for target, on in joins:
        handling = handling.join(target, on)
    ticket_filter = tickets(Ticket.id)
    parts = [
        sa.select(*_ticket_row("intake", Ticket.created_at, a=_flag(sa.or_(direct, same_day))))
        .where(ticket_filter),
        sa.select(*_ticket_row("dispatch", Ticket.dispatched_at))
        .where(ticket_filter, Ticket.dispatched_at.is_not(None)),
        sa.select(*_row("dispatch", rr.ticket_id, rr.unit_id, rr.requested_by_id,
                        rr.requested_at)).select_from(rr).join(Ticket, Ticket.id == rr.ticket_id)
        .where(tickets(rr.ticket_id), rr.status == ReturnStatus.APPROVED),
        sa.select(*_ticket_row("acknowledge", Ticket.dispatched_at,
                               a=_flag(Ticket.acknowledged_at <= Ticket.acknowledge_due_at)))
        .where(ticket_filter, Ticket.dispatched_at.is_not(None),
               Ticket.acknowledged_at.is_not(None)),
        handling.where(ticket_filter, Ticket.handle_due_at.is_not(None),
                       Ticket.dispatched_at.is_not(None), Ticket.replied_at.is_not(None),
                       Ticket.status.in_(REPLIED_STATES)),
        sa.select(*_row("return", rr.ticket_id, rr.unit_id, rr.requested_by_id, rr.requested_at,
                        a=_flag(rr.status == ReturnStatus.APPROVED),
                        b=_flag(rr.status != ReturnStatus.PENDING)))
        .select_from(rr).join(Ticket, Ticket.id == rr.ticket_id).where(tickets(rr.ticket_id)),
        sa.select(*_row("extension", er.ticket_id, Ticket.lead_unit_id, er.requested_by_id,
                        er.decided_at, v=er.days))
        .select_from(er).join(Ticket, Ticket.id == er.ticket_id)
        .where(tickets(er.ticket_id), er.status == ExtensionStatus.APPROVED,
               er.decided_at.is_not(None)),
        sa.select(*_ticket_row("rating", Ticket.closed_at, a=_flag(Ticket.rating_level >= 3),
                               b=_flag(Ticket.rating_level <= 2), v=Ticket.rating_level))
        .where(ticket_filter, Ticket.rating_level.is_not(None), Ticket.closed_at.is_not(None)),
    ]
    return sa.union_all(*parts)


def _unit_days(connection, tickets: Callable) -> dict[tuple, tuple[int, int, int]]:
    """The stored facts of the selected tickets summed per unit, fact, day and value."""
    f = ReportFact
    keys = (sa.func.coalesce(f.unit_id, 0), f.fact, f.day, sa.func.coalesce(f.v, -1))
    statement = (sa.select(*keys, sa.func.count(), sa.func.sum(f.a), sa.func.sum(f.b))
                 .where(tickets(f.ticket_id)).group_by(*keys))
    return {tuple(row[:4]): (int(row[4]), int(row[5]), int(row[6]))
            for row in connection.execute(statement)}


def _add_to_unit_days(connection, before: dict, after: dict) -> None:
    """Add the difference of the tickets' sums to ``report_unit_days``, in key order (so two
    transactions lock shared rows in the same order)."""
    changes = []
    for key in sorted(before.keys() | after.keys()):
        old, new = before.get(key, (0, 0, 0)), after.get(key, (0, 0, 0))
        delta = [x - y for x, y in zip(new, old, strict=True)]
        if any(delta):
            changes.append(dict(zip(("unit_key", "fact", "day", "v"), key, strict=True))
                           | dict(zip(("n", "a", "b"), delta, strict=True)))
    if changes:
        connection.execute(_unit_days_upsert(connection.dialect.name), changes)


@memo("reports.fact_statements")
def _unit_days_upsert(dialect_name: str) -> sa.Insert:
    """The upsert adding to ``report_unit_days``, built once per dialect (building it cost
    more CPU than running it)."""
    dialect = postgresql if dialect_name == "postgresql" else sqlite
    table = ReportUnitDay.__table__
    insert = dialect.insert(table)
    return insert.on_conflict_do_update(
        index_elements=[table.c.unit_key, table.c.fact, table.c.day, table.c.v],
        set_={name: table.c[name] + insert.excluded[name] for name in ("n", "a", "b")})


def _write(connection, tickets: Callable, calendar, unit_days: bool = True) -> None:
    """Replace the stored rows of the selected tickets (and their share of the sums)."""
    dialect = connection.dialect.name
    before = _unit_days(connection, tickets) if unit_days else {}
    connection.execute(sa.delete(ReportFact).where(tickets(ReportFact.ticket_id)))
    select = rows_select(tickets, dialect, calendar)
    connection.execute(sa.insert(ReportFact).from_select(COLUMNS, select))
    if unit_days:
        _add_to_unit_days(connection, before, _unit_days(connection, tickets))


def sum_unit_days(connection) -> None:
    """``report_unit_days`` from scratch, from every stored fact."""
    f = ReportFact
    keys = (sa.func.coalesce(f.unit_id, 0), f.fact, f.day, sa.func.coalesce(f.v, -1))
    connection.execute(sa.delete(ReportUnitDay))
    connection.execute(sa.insert(ReportUnitDay).from_select(
        ("unit_key", "fact", "day", "v", "n", "a", "b"),
        sa.select(*keys, sa.func.count(), sa.func.sum(f.a), sa.func.sum(f.b)).group_by(*keys)))


#: The tickets a refresh rewrites: one expanding parameter, so its statements are built once.
_CHOSEN = sa.bindparam("fact_ticket_ids", expanding=True)
#: What the refresh statements return of each old and new row: its share of the sums.
_SHARE = (ReportFact.unit_id, ReportFact.fact, ReportFact.day, ReportFact.v, ReportFact.a,
          ReportFact.b)


@memo("reports.fact_statements")
def _statements_for(dialect: str) -> tuple:
    """(delete, insert) of a refresh, built once per dialect: building the union of every
    fact kind cost more CPU than running it. A refresh is of a few tickets, so it counts
    working days on the calendar's rows and does not depend on the cached calendar."""
    chosen = lambda column: column.in_(_CHOSEN)  # noqa: E731
    delete = sa.delete(ReportFact).where(chosen(ReportFact.ticket_id)).returning(*_SHARE)
    insert = (sa.insert(ReportFact)
              .from_select(COLUMNS, rows_select(chosen, dialect, None, few=True))
              .returning(*_SHARE))
    return delete, insert


def _sums(rows) -> dict[tuple, tuple[int, int, int]]:
    """Rows ``(unit, fact, day, v, a, b)`` summed like ``report_unit_days``."""
    sums: dict[tuple, list[int]] = {}
    for unit_id, fact, day, v, a, b in rows:
        total = sums.setdefault((unit_id or 0, fact, day, -1 if v is None else v), [0, 0, 0])
        total[0] += 1
        total[1] += a
        total[2] += b
    return {key: tuple(value) for key, value in sums.items()}


def refresh(session: Session, ticket_ids: Iterable[int], new: Iterable[int] = ()) -> None:
    """Rewrite the stored facts of some tickets, in the session's transaction: the old rows
    are deleted and the new inserted with ``RETURNING``, and the difference of the two is added
    to ``report_unit_days`` — three statements, none of them re-reading the sums. Tickets in
    ``new`` (inserted since their facts were last written) have no rows to delete: a batch of
    only those skips the delete."""
    ids = sorted({int(i) for i in ticket_ids if i is not None})
    if not ids:
        return
    dialect = session.get_bind().dialect.name
    delete, insert = _statements_for(dialect)
    connection = session.connection()
    new = set(new)
    for start in range(0, len(ids), BATCH):
        chosen = {"fact_ticket_ids": ids[start:start + BATCH]}
        before = ({} if new.issuperset(chosen["fact_ticket_ids"])
                  else _sums(connection.execute(delete, chosen)))
        _add_to_unit_days(connection, before, _sums(connection.execute(insert, chosen)))


def rebuild(connection, calendar, batch: int = 50_000, report=None, sums: bool = True) -> int:
    """Recompute the stored facts of every ticket, ``batch`` ticket ids per statement (the
    caller commits); returns the rows stored. ``calendar`` is the working calendar (PostgreSQL
    only); ``report(last_ticket_id)`` is called after each batch; ``sums`` = False leaves
    ``report_unit_days`` alone (for the migration that predates it)."""
    low, high = connection.execute(sa.select(sa.func.min(Ticket.id),
                                             sa.func.max(Ticket.id))).one()
    connection.execute(sa.delete(ReportFact))
    for start in range(low or 0, (high or -1) + 1, batch):
        _write(connection, lambda column, start=start: column.between(start, start + batch - 1),
               calendar, unit_days=False)
        if report is not None:
            report(min(start + batch - 1, high))
    if sums:
        sum_unit_days(connection)
    return connection.execute(sa.select(sa.func.count()).select_from(ReportFact)).scalar_one()


# -- keeping the facts current -----------------------------------------------------------------


#: The ticket attributes the stored rows are computed from (and the relationships that set
#: their foreign keys): a flush that changes none of them (an SLA mark, an urge count) leaves
#: the ticket's facts as they are.
TICKET_ATTRIBUTES = frozenset({
    "created_at", "service_mode", "status", "first_dispatched_at", "dispatched_at",
    "acknowledged_at", "acknowledge_due_at", "handle_due_at", "replied_at", "closed_at",
    "rating_level", "paused_seconds", "lead_unit_id", "lead_unit", "assignee_id", "assignee",
    "category_id", "category", "firm_id", "firm",
})


def _facts_may_change(ticket: Ticket) -> bool:
    state = sa.inspect(ticket)
    if state.was_deleted or not state.has_identity:
        return True
    return any(state.attrs[name].history.has_changes() for name in TICKET_ATTRIBUTES)


def _ticket_id(instance, inserted: bool) -> int | None:
    if isinstance(instance, Ticket):
        if inserted and instance.derived_rows_later:
            return None  # the job writes them (:func:`write_new_tickets_facts`)
        return instance.id if inserted or _facts_may_change(instance) else None
    if isinstance(instance, ReturnRequest | ExtensionRequest):
        return instance.ticket_id if instance.ticket_id is not None else getattr(
            instance.ticket, "id", None)
    return None


def _mark_inserted(_mapper, _connection, instance) -> None:
    """A new ticket, return request or extension request: its ticket's facts are pending (a
    new ticket has no stored rows yet)."""
    _mark(instance, inserted=True)


def _mark_updated(_mapper, _connection, instance) -> None:
    """A changed ticket (if what its facts depend on changed), return or extension request."""
    _mark(instance, inserted=False)


def _registered() -> bool:
    """Whether the current application keeps the stored facts (:func:`init_app`)."""
    return has_app_context() and _REGISTERED in current_app.extensions


def _mark(instance, inserted: bool) -> None:
    if not _registered():
        return
    ticket_id = _ticket_id(instance, inserted)
    if ticket_id is None:
        return
    info = sa.orm.object_session(instance).info
    info.setdefault(_PENDING, set()).add(ticket_id)
    if inserted and isinstance(instance, Ticket):
        info.setdefault(_NEW, set()).add(ticket_id)


def _forget_new_tickets(session: Session, _previous) -> None:
    """After a rollback an id taken as new may come back (SQLite reuses the highest one):
    from then on its old rows are deleted as for any ticket."""
    session.info.pop(_NEW, None)


def sync(session: Session) -> None:
    """Write the facts of the tickets changed in this transaction so far."""
    if session.info.get(_PENDING):
        session.flush()
        pending = session.info.pop(_PENDING, set())
        refresh(session, pending, session.info.pop(_NEW, ()))


def _sync_before_commit(session: Session) -> None:
    sync(session)


#: (target, event, listener) of the stored facts: every write of a ticket, a return request or
#: an extension request marks the ticket (mapper events: :func:`app.db.insert_row` runs them
#: too), and the marked tickets' facts are written before the commit.
_LISTENERS = [
    *((model, name, listener) for model in (Ticket, ReturnRequest, ExtensionRequest)
      for name, listener in (("after_insert", _mark_inserted), ("after_update", _mark_updated))),
    (Session, "after_soft_rollback", _forget_new_tickets),
    (Session, "before_commit", _sync_before_commit),
]
_REGISTERED = "report_facts"


def init_app(app) -> None:
    """Keep the stored report facts current in ``app``'s transactions (called by
    :func:`app.create_app`): the listeners above, and the rewrite of the facts a change of the
    working calendar affects (:func:`refresh_for_days`). They are the process's, added once;
    they act only while an application that registered them is the current one."""
    from app.sla import services as sla_services

    app.extensions[_REGISTERED] = True
    for target, name, listener in _LISTENERS:
        if not event.contains(target, name, listener):
            event.listen(target, name, listener)
    if refresh_for_days not in sla_services.CALENDAR_CHANGED:
        sla_services.CALENDAR_CHANGED.append(refresh_for_days)


# -- the tickets inserted without their facts -------------------------------------------------


#: Tickets with no stored fact at all: every ticket has its ``intake`` row once written, and
#: only a ticket inserted with ``derived_rows_later`` and not changed since (so still
#: ``submitted``) has none. Read through the state's index; a batch at a time.
_WITHOUT_FACTS = (sa.select(Ticket.id)
                  .where(Ticket.status == S.SUBMITTED,
                         ~sa.exists().where(ReportFact.ticket_id == Ticket.id))
                  .order_by(Ticket.id).limit(BATCH))


def write_new_tickets_facts(session: Session) -> int:
    """Write the facts of the tickets inserted without them (the public form's), in the
    session's transaction (the job ``reports.new_facts`` commits); returns how many."""
    done = 0
    while ids := list(session.scalars(_WITHOUT_FACTS)):
        refresh(session, ids, new=ids)
        done += len(ids)
    return done


# -- after a change of the working calendar ---------------------------------------------------


def refresh_for_days(change) -> int:
    """Rewrite the stored facts whose handling time counted a changed day: the replied
    tickets dispatched before the change's last day and replied after its first. Only past
    days matter (no reply counted a future day yet). Returns the tickets rewritten."""
    from app.core.clock import today_local
    from app.extensions import db
    from app.sla.calendar import local_end_of_day

    if not _registered():
        return 0
    last = min(change.last, today_local())
    if last < change.first:
        return 0
    begins = local_end_of_day(change.first) - timedelta(seconds=END_OF_DAY_SECONDS)
    ids = list(db.session.scalars(sa.select(Ticket.id).where(
        Ticket.replied_at.is_not(None), Ticket.dispatched_at.is_not(None),
        Ticket.dispatched_at <= local_end_of_day(last), Ticket.replied_at >= begins)))
    refresh(db.session, ids)
    change.outcomes["facts"] = len(ids)
    return len(ids)
