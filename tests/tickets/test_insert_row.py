"""``app.db.insert_row`` (the public submission's insert without a unit-of-work flush) stores the
row a flush stores and leaves the object as if loaded."""

from __future__ import annotations

import sqlalchemy as sa

from app.core.clock import now_utc
from app.db import insert_row
from app.extensions import db
from app.tickets.models import Channel, DemandType, ServiceMode, Ticket, TicketStatus, Urgency

T = Ticket.__table__
#: Columns that differ between two tickets by design.
OWN = {"id", "reference", "access_token"}


def _new_ticket(reference: str, **values) -> Ticket:
    return Ticket(channel=Channel.WEB, service_mode=ServiceMode.STANDARD,
                  demand_type=DemandType.CONSULT, urgency=Urgency.NORMAL, title="同一行",
                  description="两种写法存同样的行。", status=TicketStatus.SUBMITTED,
                  submitted_at=now_utc(), intake_due_at=now_utc(), reference=reference,
                  requester_name="张三", requester_mobile="13812345678", **values)


def _row(ticket_id: int) -> dict:
    row = db.session.execute(sa.select(T).where(T.c.id == ticket_id)).mappings().one()
    values = {key: value for key, value in row.items() if key not in OWN}
    # The search key starts with the reference; the rest must be the same.
    values["search_key"] = row["search_key"].replace(row["reference"].lower(), "…", 1)
    return values


def test_insert_row_stores_what_a_flush_stores(make, cast, frozen_clock):
    firm, category = make.firm(), make.category()
    flushed = _new_ticket("KS2099-000001", firm=firm, category=category,
                          created_by=cast.dispatcher, lead_unit=None)
    db.session.add(flushed)
    db.session.flush()
    inserted = _new_ticket("KS2099-000002", firm=firm, category=category,
                           created_by=cast.dispatcher, lead_unit=None)
    insert_row(db.session, inserted)
    assert _row(inserted.id) == _row(flushed.id)
    assert (inserted.firm_id, inserted.category_id, inserted.version) == (
        firm.id, category.id, 1)


def test_a_relationship_set_to_none_clears_its_key_as_in_a_flush(make, cast):
    """The ORM lets ``firm=None`` win over ``firm_id``; so does insert_row."""
    firm = make.firm()
    flushed, inserted = (_new_ticket(f"KS2099-00001{n}", firm=None) for n in (1, 2))
    flushed.firm_id = inserted.firm_id = firm.id
    db.session.add(flushed)
    db.session.flush()
    insert_row(db.session, inserted)
    assert _row(inserted.id)["firm_id"] is None is _row(flushed.id)["firm_id"]


def test_the_inserted_object_is_persistent_clean_and_changes_like_any_loaded_row(make, cast):
    inserted = _new_ticket("KS2099-000021", created_by=cast.dispatcher)
    insert_row(db.session, inserted)
    state = sa.inspect(inserted)
    assert state.persistent and not db.session.dirty and not db.session.new
    assert db.session.get(Ticket, inserted.id) is inserted
    inserted.title = "改过"
    db.session.flush()
    assert (inserted.version, _row(inserted.id)["title"]) == (2, "改过")


def test_insert_row_runs_every_insert_listener_of_the_model_as_a_flush_does(cast):
    """What a flush runs for a new row is taken from the mapper, so a listener added to the
    model later is run by insert_row without anyone mirroring it."""
    seen = []

    def before(_mapper, connection, target):
        seen.append(("before", target.id, isinstance(connection, sa.Connection)))
        target.title = "由监听器改写"  # a change made here is in the INSERT, as in a flush

    def after(_mapper, _connection, target):
        seen.append(("after", target.id, sa.inspect(target).session is db.session()))

    for name, listener in (("before_insert", before), ("after_insert", after)):
        sa.event.listen(Ticket, name, listener)
    try:
        inserted = _new_ticket("KS2099-000031", created_by=cast.dispatcher)
        insert_row(db.session, inserted)
        flushed = _new_ticket("KS2099-000032", created_by=cast.dispatcher)
        db.session.add(flushed)
        db.session.flush()
    finally:
        for name, listener in (("before_insert", before), ("after_insert", after)):
            sa.event.remove(Ticket, name, listener)
    assert seen == [("before", None, True), ("after", inserted.id, True),
                    ("before", None, True), ("after", flushed.id, True)]
    assert _row(inserted.id)["title"] == _row(flushed.id)["title"] == "由监听器改写"


def test_no_flush_work_listens_on_the_sessions_flush_events(app):
    """insert_row runs the mapper's insert events but cannot run a session's flush events:
    work that must see every new row (search keys, report facts) listens on mappers."""
    from sqlalchemy.orm import Session

    with app.app_context():
        for session in (Session(), db.session()):
            for name in ("before_flush", "after_flush", "after_flush_postexec"):
                assert list(getattr(session.dispatch, name)) == [], name


def test_the_ticket_gets_its_search_keys_and_its_facts_marked_through_insert_row(cast):
    """The two listeners the submission depends on today, by name."""
    from app.reports import facts

    inserted = _new_ticket("KS2099-000041", created_by=cast.dispatcher,
                           requester_firm_name="崑山華碩")
    insert_row(db.session, inserted)
    assert inserted.requester_firm_key == "昆山华硕"
    assert inserted.id in db.session().info["report_facts_pending"]
    facts.sync(db.session())
    assert db.session.scalars(sa.select(facts.ReportFact.fact).where(
        facts.ReportFact.ticket_id == inserted.id)).all() == ["intake"]
