"""The stored report facts equal a recomputation from each ticket's timeline.

The tickets of the fixture month (suspension, extension, approved and refused returns, a ticket
spanning February and March, direct answers) plus one reopened after its reply, all driven
through the real ticket services. The recomputation below reads only the events (and the
deadlines on the ticket) and counts working days with the Python calendar, day by day — an
independent route to the numbers the database stores.
"""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from app.core import clock
from app.core.clock import to_local
from app.extensions import db
from app.reports import facts
from app.reports.models import ReportFact, ReportUnitDay
from app.sla.services import load_calendar
from app.tickets.models import Ticket, TicketEvent, TicketStatus
from app.tickets.services import transition
from tests.helpers import migration
from tests.reports.conftest import NOW, local

S = TicketStatus


def _working_days(calendar, dispatched, replied, pauses) -> int:
    """Working days after the dispatch date (or after the first working day, for a dispatch on
    a day off) up to the reply date, without the days inside a pause ``(start, end]``."""
    start = to_local(dispatched).date()
    if not calendar.is_workday(start):
        start = calendar.working_day_after(start, 1)
    end = to_local(replied).date()
    paused = set()
    for begin, finish in pauses:
        day = to_local(begin).date() + timedelta(days=1)
        while day <= to_local(finish).date():
            paused.add(day)
            day += timedelta(days=1)
    count, day = 0, start + timedelta(days=1)
    while day <= end:
        count += calendar.is_workday(day) and day not in paused
        day += timedelta(days=1)
    return count


def _after(events, index, *actions):
    return next((e for e in events[index + 1:] if e.action in actions), None)


def _expected(ticket: Ticket, units: dict[str, int]) -> list[tuple]:
    """(fact, unit, at, a, b, v) of one ticket, from its timeline."""
    events = list(db.session.scalars(sa.select(TicketEvent).where(
        TicketEvent.ticket_id == ticket.id).order_by(TicketEvent.at, TicketEvent.id)))
    rows = []
    dispatches = [i for i, e in enumerate(events) if e.action == "dispatch"]
    replies = [e for e in events if e.action == "reply"]
    last_reply = replies[-1] if replies else None
    handle_now_met = (ticket.service_mode == "handle_now" and last_reply is not None
                      and last_reply.at <= ticket.handle_due_at)
    directly = any(e.action == "answer_directly" for e in events) and not dispatches
    rows.append(("intake", ticket.lead_unit_id, events[0].at, int(directly or handle_now_met),
                 0, None))
    for i, e in enumerate(events):
        if e.action == "request_return":
            unit = units[events[max(d for d in dispatches if d < i)].data["lead_unit"]]
            decision = _after(events, i, "approve_return", "reject_return")
            approved = decision is not None and decision.action == "approve_return"
            rows.append(("return", unit, e.at, int(approved), int(decision is not None), None))
            if approved:
                rows.append(("dispatch", unit, e.at, 0, 0, None))
        elif e.action == "approve_extension":
            rows.append(("extension", ticket.lead_unit_id, e.at, 0, 0, e.data["days"]))
        elif e.action in ("rate", "record_follow_up") and e.data.get("level"):
            level = e.data["level"]
            rows.append(("rating", ticket.lead_unit_id, e.at, int(level >= 3), int(level <= 2),
                         level))
    if dispatches and ticket.dispatched_at is not None:
        last = dispatches[-1]
        dispatched = events[last]
        rows.append(("dispatch", ticket.lead_unit_id, dispatched.at, 0, 0, None))
        ack = _after(events, last, "acknowledge")
        if ack is not None:
            rows.append(("acknowledge", ticket.lead_unit_id, dispatched.at, int(ack.data["met"]),
                         0, None))
        if ticket.status in (S.REPLIED, S.FOLLOW_UP, S.CLOSED):
            pauses = [(e.at, _after(events, i, "resume").at)
                      for i, e in enumerate(events) if e.action == "suspend" and i > last]
            days = _working_days(load_calendar(), dispatched.at, last_reply.at, pauses)
            rows.append(("handling", ticket.lead_unit_id, last_reply.at,
                         int(last_reply.data["met"]), 0, days))
    return sorted(rows, key=repr)


def _stored(ticket: Ticket) -> list[tuple]:
    f = ReportFact
    return sorted(db.session.execute(sa.select(f.fact, f.unit_id, f.at, f.a, f.b, f.v).where(
        f.ticket_id == ticket.id)).all(), key=repr)


def _reopened(month) -> Ticket:
    """T20: dispatched to A Mon 03-09, suspended Tue 03-10 → Thu 03-12, replied 03-12, the reply
    approved, reopened Fri 03-13, replied again Mon 03-16 09:00 (a day after a weekend)."""
    from tests import factories

    def at(*when):
        clock.freeze(local(*when))

    dispatcher, handler = month.dispatcher, month.handler_a
    at(2026, 3, 9, 10, 0)
    t20 = factories.ticket(actor=month.firm_user)
    transition(t20, "dispatch", dispatcher, lead_unit=month.unit_a)
    transition(t20, "acknowledge", handler)
    at(2026, 3, 10, 10, 0)
    transition(t20, "suspend", handler, missing_info="材料", contact_attempt="电话")
    at(2026, 3, 12, 10, 0)
    transition(t20, "resume", handler)
    at(2026, 3, 12, 15, 0)
    transition(t20, "reply", handler, text="已办理。")
    transition(t20, "approve_reply", dispatcher)
    at(2026, 3, 13, 10, 0)
    transition(t20, "reopen", dispatcher, reason="企业不满意")
    at(2026, 3, 16, 9, 0)
    transition(t20, "reply", handler, text="再次办理。")
    clock.freeze(local(*NOW))
    return t20


def test_stored_facts_equal_a_recomputation_from_the_timeline(month):
    t20 = _reopened(month)
    facts.sync(db.session())
    units = {month.unit_a.name: month.unit_a.id, month.unit_b.name: month.unit_b.id}
    tickets = [*month.tickets.values(), t20]
    for ticket in tickets:
        assert _stored(ticket) == _expected(ticket, units), ticket.reference
    # The cases the recomputation must have met, so the comparison is not vacuous.
    stored = [(t.reference, row[0], row[-1]) for t in tickets for row in _stored(t)]
    refs = {name: t.reference for name, t in month.tickets.items()}
    assert (refs["T2"], "handling", 4) in stored      # 03-02 → 03-10, 03-04 … 03-05 paused
    assert (t20.reference, "handling", 3) in stored   # 03-10 → 03-16, 03-11 … 03-12 paused
    assert (refs["T3"], "extension", 3) in stored
    assert sum(1 for ref, fact, _v in stored if ref == refs["T5"] and fact == "dispatch") == 2


def test_the_migrations_backfill_writes_the_facts_the_application_stores(month):
    """The migration that created ``report_facts`` fills it with its own copy of the facts'
    SQL (a migration imports nothing from the application): on the month's tickets — suspended,
    extended, returned, answered at intake, reopened — it writes the rows the application
    stores."""
    _reopened(month)
    facts.sync(db.session())
    stored = _all_facts()
    db.session.execute(sa.delete(ReportFact))
    dialect = db.session.get_bind().dialect.name
    insert = sa.text(migration("538f06f3096e")._facts_insert(dialect == "postgresql"))
    db.session.execute(insert, {"low": 0, "high": 10**9})
    assert _all_facts() == stored
    assert {row[0] for row in stored} == set(facts.STORED_FACTS)


def _all_facts() -> list[tuple]:
    f = ReportFact
    columns = (f.fact, f.ticket_id, f.unit_id, f.category_id, f.handler_id, f.firm_id, f.at,
               f.day, f.a, f.b, f.v)
    return sorted(db.session.execute(sa.select(*columns)).all(),
                  key=lambda row: tuple(str(value) for value in row))


def test_the_facts_follow_each_transition_within_the_transaction(month):
    """No commit needed: a report query of the same session sees its own changes."""
    t13 = month.tickets["T13"]
    assert [row[0] for row in _stored(t13) if row[0] == "acknowledge"] == []
    transition(t13, "acknowledge", month.handler_b)
    facts.sync(db.session())
    assert [row[0] for row in _stored(t13) if row[0] == "acknowledge"] == ["acknowledge"]


def _unit_day_sums() -> set[tuple]:
    d = ReportUnitDay
    return set(db.session.execute(sa.select(d.unit_key, d.fact, d.day, d.v, d.n, d.a, d.b)
                                  .where(d.n != 0)).all())


def _sums_of_the_facts() -> set[tuple]:
    f = ReportFact
    keys = (sa.func.coalesce(f.unit_id, 0), f.fact, f.day, sa.func.coalesce(f.v, -1))
    return set(db.session.execute(sa.select(*keys, sa.func.count(), sa.func.sum(f.a),
                                            sa.func.sum(f.b)).group_by(*keys)).all())


def test_unit_day_sums_follow_every_change_and_equal_a_rebuild(month):
    """The per-unit sums are kept by differences at each change (T5 moved from unit A to B,
    T20 was replied, reopened and replied again); they equal the sums of the stored facts, and
    a rebuild from scratch gives the same."""
    _reopened(month)
    facts.sync(db.session())
    kept = _unit_day_sums()
    assert kept == _sums_of_the_facts()
    assert any(row[1] == "return" and row[0] == month.unit_a.id for row in kept)
    facts.rebuild(db.session.connection(), load_calendar())
    assert _unit_day_sums() == kept


def test_only_changes_of_what_the_facts_read_rewrite_them(month):
    """An urge count is not read by any figure: the ticket is not marked. A new handler (set
    through the relationship) is: the stored rows follow it."""
    from app.reports.facts import _PENDING

    t12 = month.tickets["T12"]
    facts.sync(db.session())
    t12.urge_count += 1
    db.session.flush()
    assert t12.id not in db.session.info.get(_PENDING, set())
    t12.assignee = month.handler_b
    db.session.flush()
    assert t12.id in db.session.info.get(_PENDING, set())
    facts.sync(db.session())
    assert set(db.session.scalars(sa.select(ReportFact.handler_id).where(
        ReportFact.ticket_id == t12.id))) == {month.handler_b.id}


def test_the_facts_statement_is_compiled_once(db):
    """Every ticket change writes its facts with the same statement: it must have the same
    cache key each time, or SQLAlchemy compiles it again for every change."""
    def key():
        statement = facts.rows_select(lambda column: column.in_([1]), "sqlite", None)
        return statement._generate_cache_key()

    assert key() == key()


def _all_rows() -> list[tuple]:
    f = ReportFact
    return sorted(db.session.execute(sa.select(
        f.fact, f.ticket_id, f.unit_id, f.category_id, f.handler_id, f.firm_id, f.at, f.day,
        f.a, f.b, f.v)).all(), key=repr)


def test_the_refresh_of_a_few_tickets_stores_the_rows_of_the_bulk_rebuild(month):
    """A refresh (a ticket change) counts working days on the calendar's own rows, the bulk
    rebuild with the running window: both give every row alike — suspensions, extensions,
    approved and refused returns, a reopened ticket, direct answers — and the same sums."""
    from tests import factories

    t20 = _reopened(month)
    clock.freeze(local(2026, 3, 14, 10, 0))   # a Saturday: counted from the next working day
    saturday = factories.ticket(actor=month.firm_user)
    transition(saturday, "dispatch", month.dispatcher, lead_unit=month.unit_a)
    transition(saturday, "acknowledge", month.handler_a)
    clock.freeze(local(2026, 3, 17, 10, 0))
    transition(saturday, "reply", month.handler_a, text="已办理。")
    clock.freeze(local(*NOW))
    facts.sync(db.session())
    refreshed, sums = _all_rows(), _unit_day_sums()
    assert {row[0] for row in refreshed} == set(facts.STORED_FACTS)
    handling = [row for row in refreshed if row[0] == "handling"]
    assert any(row[1] == t20.id and row[-1] == 3 for row in handling)
    assert any(row[1] == saturday.id and row[-1] == 1 for row in handling)
    assert len({row[-1] for row in handling}) > 2        # not all the same number of days
    facts.rebuild(db.session.connection(), load_calendar())
    assert _all_rows() == refreshed
    assert _unit_day_sums() == sums
    facts.refresh(db.session(), [row[1] for row in refreshed])
    assert _all_rows() == refreshed
    assert _unit_day_sums() == sums


def test_a_refresh_takes_three_statements(month):
    """Delete the old rows and insert the new ones (both returning their share of the sums),
    then add the difference to the per-unit sums: the sums are not read back."""
    from tests.helpers import count_queries

    t13 = month.tickets["T13"]
    facts.sync(db.session())
    transition(t13, "acknowledge", month.handler_b)
    db.session.flush()
    with count_queries() as counted:
        facts.sync(db.session())
    assert len(counted.statements) == 3, "\n".join(s[:120] for s in counted.statements)


def test_only_an_application_that_registers_the_facts_writes_them(make, monkeypatch):
    """``create_app`` turns the stored facts on with one line (``register_report_facts``); an
    application built without it writes none, whatever its transactions change."""
    from app import create_app

    monkeypatch.setattr(facts, "init_app", lambda _app: None)
    bare = create_app("testing")
    assert "report_facts" not in bare.extensions
    with bare.app_context():
        unregistered = make.ticket()
        db.session.commit()
    registered = make.ticket()
    db.session.commit()
    stored = {ticket_id: fact for fact, ticket_id in db.session.execute(
        sa.select(ReportFact.fact, ReportFact.ticket_id))}
    assert unregistered.id not in stored
    assert stored[registered.id] == "intake"
