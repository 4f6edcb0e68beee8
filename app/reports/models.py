"""The stored report facts, and the indexes the report queries need on other packages' tables.

Each figure reads one period of one timestamp column (replied, dispatched, closed, requested,
decided); without an index per column a month of a million tickets is a full scan. They are
declared here, against the owners' tables, so the schema and the migration that creates them
stay in step with the code that needs them.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from app.db import UTCDateTime
from app.extensions import db
from app.tickets.models import ExtensionRequest, ReturnRequest, Ticket

#: The states of an open ticket (the snapshot of overdue and due-soon tickets).
OPEN_STATUS_VALUES = ("submitted", "dispatched", "in_progress", "return_requested", "replied",
                      "follow_up")

REPORT_INDEXES = (
    sa.Index("ix_tickets_dispatched_at", Ticket.__table__.c.dispatched_at),
    sa.Index("ix_tickets_replied_at", Ticket.__table__.c.replied_at),
    sa.Index("ix_tickets_closed_at", Ticket.__table__.c.closed_at),
    sa.Index("ix_tickets_handle_due_at", Ticket.__table__.c.handle_due_at),
    sa.Index("ix_tickets_due_at", Ticket.__table__.c.due_at),
    sa.Index("ix_ticket_return_requests_requested_at",
             ReturnRequest.__table__.c.requested_at),
    sa.Index("ix_ticket_extension_requests_decided_at",
             ExtensionRequest.__table__.c.decided_at),
    # The overdue / due-soon snapshot reads every open ticket past or near its deadline (tens
    # of thousands at a million tickets, spread over the whole table): a partial index that
    # covers the columns the snapshot counts by, so it never visits the table.
    sa.Index("ix_tickets_open_due_at_report", Ticket.__table__.c.due_at,
             postgresql_include=["status", "sla_status", "lead_unit_id", "category_id",
                                 "assignee_id", "firm_id", "id"],
             postgresql_where=Ticket.__table__.c.status.in_(OPEN_STATUS_VALUES),
             sqlite_where=Ticket.__table__.c.status.in_(OPEN_STATUS_VALUES)),
)


class ReportFact(db.Model):
    """One row a supervisor figure counts, kept per ticket (see :mod:`app.reports.facts`).

    The facts that change only when a ticket changes — received, dispatched, acknowledged,
    replied (with its handling time in working days), returned, extended, rated — are stored
    here, rewritten in the same transaction as every change of their ticket. A month's
    dashboard then reads a few hundred thousand narrow index entries instead of computing
    working days over a month of tickets and looking up their suspensions in the timeline.
    """

    __tablename__ = "report_facts"
    __table_args__ = (
        sa.Index("ix_report_facts_fact_at", "fact", "at",
                 postgresql_include=["unit_id", "category_id", "handler_id", "firm_id", "a",
                                     "b", "v", "day", "ticket_id"]),
        sa.Index("ix_report_facts_ticket_id", "ticket_id"),
    )

    id: Mapped[int] = mapped_column(sa.BigInteger().with_variant(sa.Integer, "sqlite"),
                                    primary_key=True)
    fact: Mapped[str] = mapped_column(sa.String(16), nullable=False)
    #: Derived data: it goes with its ticket (tickets are never deleted, but a database
    #: cleanup that removes one must not be blocked by its report rows).
    ticket_id: Mapped[int] = mapped_column(sa.ForeignKey("tickets.id", ondelete="CASCADE"),
                                           nullable=False)
    #: The unit the row counts for: the lead unit, or the returning unit of a return.
    unit_id: Mapped[int | None] = mapped_column(sa.Integer)
    category_id: Mapped[int | None] = mapped_column(sa.Integer)
    handler_id: Mapped[int | None] = mapped_column(sa.Integer)
    #: The ticket's firm; the area dimension joins the firm, so a firm that moves area moves
    #: its figures with it.
    firm_id: Mapped[int | None] = mapped_column(sa.Integer)
    #: The instant that puts the row in a period.
    at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    #: The local (Asia/Shanghai) date of ``at`` as days since 1970-01-01, so weekly slices
    #: need no time-zone arithmetic per row.
    day: Mapped[int] = mapped_column(sa.Integer, nullable=False)
    a: Mapped[int] = mapped_column(sa.SmallInteger, nullable=False, default=0)
    b: Mapped[int] = mapped_column(sa.SmallInteger, nullable=False, default=0)
    v: Mapped[int | None] = mapped_column(sa.Integer)


class ReportUnitDay(db.Model):
    """The stored facts summed per unit and local day (and value): what the dashboard by unit,
    the monthly report, the public page and the weekly e-mail read — a few hundred rows per
    day instead of a row per ticket. Kept by :mod:`app.reports.facts` in the same statements
    that rewrite a ticket's facts (the difference is added), rebuilt with them."""

    __tablename__ = "report_unit_days"

    #: The unit's id, 0 for facts without a unit (a ticket never dispatched).
    unit_key: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=False)
    fact: Mapped[str] = mapped_column(sa.String(16), primary_key=True)
    #: As :attr:`ReportFact.day`.
    day: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=False)
    #: The facts' value (handling days, rating level, extension days), -1 for none.
    v: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=False)
    n: Mapped[int] = mapped_column(sa.Integer, nullable=False)
    a: Mapped[int] = mapped_column(sa.Integer, nullable=False)
    b: Mapped[int] = mapped_column(sa.Integer, nullable=False)
