"""The ticket (工单): one demand of one firm or requester, carried to its end (DOMAIN §3)."""

from __future__ import annotations

import secrets
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.clock import now_utc
from app.core.permissions import Permission
from app.db import TimestampMixin, UTCDateTime, enum_type
from app.extensions import db
from app.tickets.models.enums import (
    FINISHED_STATES,
    Channel,
    ClosureKind,
    DemandType,
    ServiceMode,
    SlaStatus,
    TicketStatus,
    Urgency,
)
from app.tickets.search import SOURCES, search_keys

#: ``KS2026-000123``: the city prefix, the year of creation, a six-digit yearly sequence.
REFERENCE_PREFIX = "KS"


def format_reference(year: int, number: int) -> str:
    """The human reference for the ``number``-th ticket of ``year``."""
    return f"{REFERENCE_PREFIX}{year}-{number:06d}"


def new_access_token() -> str:
    """256 random bits for the requester's tracking link; never derived from the id."""
    return secrets.token_urlsafe(32)


def _status_in(states) -> str:
    return "(status IN (" + ", ".join(f"'{s}'" for s in sorted(states)) + "))"


_UNIT_STATES_SQL = _status_in({"dispatched", "in_progress", "return_requested", "suspended",
                                "replied"})

#: Facts that hold in every row, enforced by the database as named CHECK constraints.
STATE_INVARIANTS = {
    "closed_has_closed_at": "(status = 'closed') = (closed_at IS NOT NULL)",
    "closed_has_closure_kind": "(status = 'closed') = (closure_kind IS NOT NULL)",
    "suspended_has_paused_at": "(status = 'suspended') = (paused_at IS NOT NULL)",
    "rejected_has_rejected_at": "(status = 'rejected') = (rejected_at IS NOT NULL)",
    "withdrawn_has_withdrawn_at": "(status = 'withdrawn') = (withdrawn_at IS NOT NULL)",
    "merged_has_target": "(status = 'merged') = (merged_into_id IS NOT NULL)",
    "not_merged_into_itself": "merged_into_id IS NULL OR merged_into_id <> id",
    # Exactly one lead unit while a unit holds the ticket; none while it waits for dispatch.
    "unit_states_have_lead_unit": f"NOT {_UNIT_STATES_SQL} OR lead_unit_id IS NOT NULL",
    "submitted_has_no_lead_unit": "status <> 'submitted' OR lead_unit_id IS NULL",
    "lead_unit_with_dispatched_at": "(lead_unit_id IS NULL) = (dispatched_at IS NULL)",
    "replied_states_have_replied_at":
        "status NOT IN ('replied', 'follow_up') OR replied_at IS NOT NULL",
    "firm_or_requester_contact":
        "firm_id IS NOT NULL OR (requester_name IS NOT NULL AND "
        "(requester_mobile IS NOT NULL OR requester_email IS NOT NULL))",
    "rating_level_range": "rating_level IS NULL OR rating_level BETWEEN 1 AND 5",
    "counters_not_negative":
        "paused_seconds >= 0 AND returned_seconds >= 0 AND extension_count >= 0 "
        "AND extension_days >= 0 AND reopen_count >= 0 AND return_count >= 0 "
        "AND urge_count >= 0",
    "version_positive": "version >= 1",
    "provisional_deadlines_bits": "provisional_deadlines BETWEEN 0 AND 63",
}


class TicketReferenceCounter(db.Model):
    """The last reference number handed out in a year.

    One row per year, incremented with a single atomic upsert inside the creating transaction,
    so two tickets created at the same instant wait for each other instead of colliding.
    """

    __tablename__ = "ticket_reference_counters"
    __table_args__ = (sa.CheckConstraint("last_number > 0", name="last_number_positive"),)

    year: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=False)
    last_number: Mapped[int] = mapped_column(sa.Integer, nullable=False)


class Ticket(TimestampMixin, db.Model):
    """A demand and its whole history of dispatch, handling, reply and follow-up."""

    __tablename__ = "tickets"
    __table_args__ = (
        *(sa.CheckConstraint(sql, name=name) for name, sql in STATE_INVARIANTS.items()),
        sa.Index("ix_tickets_lead_unit_id_status_due_at", "lead_unit_id", "status", "due_at"),
        sa.Index("ix_tickets_status_due_at", "status", "due_at"),
        sa.Index("ix_tickets_sla_status_due_at", "sla_status", "due_at"),
        sa.Index("ix_tickets_firm_id_created_at", "firm_id", "created_at"),
        sa.Index("ix_tickets_assignee_id_status", "assignee_id", "status"),
        sa.Index("ix_tickets_created_by_id", "created_by_id"),
        sa.Index("ix_tickets_category_id", "category_id"),
        sa.Index("ix_tickets_created_at", "created_at"),
        # The queue order (app.tickets.queries.QUEUE_ORDER): open deadlines soonest first, for
        # all tickets and within one state (intake, to acknowledge). The trailing columns make
        # them covering: a queue's filters are checked without reading the table (a handler's
        # queue walks this index, so a rare filter value would otherwise read every row).
        sa.Index("ix_tickets_queue_order", sa.text("(due_at IS NULL)"), "due_at",
                 sa.text("id DESC"), "lead_unit_id", "status", "sla_status", "service_mode",
                 "demand_type", "urgency", "category_id", "firm_id", "submitted_at"),
        sa.Index("ix_tickets_status_queue_order", "status", sa.text("(due_at IS NULL)"),
                 "due_at", sa.text("id DESC"), "lead_unit_id", "sla_status"),
        # A unit's queue (app.tickets.queries_sql.unit_page): the same order within each lead
        # unit, so a handler's page reads only its unit's entries, whatever the backlog.
        sa.Index("ix_tickets_unit_queue_order", "lead_unit_id", sa.text("(due_at IS NULL)"),
                 "due_at", sa.text("id DESC"), "status", "sla_status", "service_mode",
                 "demand_type", "urgency", "category_id", "firm_id", "submitted_at"),
        # Queue search (app.tickets.search): a trigram index on the key on PostgreSQL, so any
        # search of one or two Chinese characters or of three characters reads no other
        # ticket. SQLite has no such index: it searches the FTS5 table ``ticket_search``
        # (kept by triggers; no model: see the migration that added the key).
        # The few tickets whose deadlines were counted over provisional calendar days: what a
        # publication of the official year recomputes.
        sa.Index("ix_tickets_provisional_deadlines", "id",
                 postgresql_where=sa.text("provisional_deadlines <> 0"),
                 sqlite_where=sa.text("provisional_deadlines <> 0")),
        sa.Index("ix_tickets_search_key_trgm", "search_key", postgresql_using="gin",
                 postgresql_ops={"search_key": "gin_trgm_ops"}).ddl_if(dialect="postgresql"),
    )

    #: Not a column: set on a ticket inserted by the public form's write
    #: (:mod:`app.tickets.submission`), whose rows derivable from it later (the report facts)
    #: are written by their job instead of in its transaction.
    derived_rows_later = False

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(sa.String(16), unique=True, nullable=False)
    access_token: Mapped[str] = mapped_column(sa.String(64), unique=True, nullable=False,
                                              default=new_access_token)

    # Who asks: a registered firm, or an unregistered requester described in text.
    firm_id: Mapped[int | None] = mapped_column(sa.ForeignKey("firms.id"))
    requester_name: Mapped[str | None] = mapped_column(sa.String(64))
    requester_mobile: Mapped[str | None] = mapped_column(sa.String(20))
    requester_email: Mapped[str | None] = mapped_column(sa.String(254))
    requester_firm_name: Mapped[str | None] = mapped_column(sa.String(200))
    #: As typed by the requester; only a registered firm's USCC is validated.
    requester_uscc: Mapped[str | None] = mapped_column(sa.String(32))
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))

    channel: Mapped[Channel] = mapped_column(enum_type(Channel, "ticket_channel"), nullable=False)
    service_mode: Mapped[ServiceMode] = mapped_column(
        enum_type(ServiceMode, "ticket_service_mode"), nullable=False)
    demand_type: Mapped[DemandType] = mapped_column(
        enum_type(DemandType, "ticket_demand_type"), nullable=False)
    urgency: Mapped[Urgency] = mapped_column(enum_type(Urgency, "ticket_urgency"), nullable=False)
    is_complex: Mapped[bool] = mapped_column(sa.Boolean, nullable=False, default=False)
    #: 涉台: a Taiwan-invested firm or a Taiwan compatriot. A mark beside the firm's own
    #: category, never a replacement for it (DOMAIN §3): it adds the Taiwan affairs office.
    is_taiwan_related: Mapped[bool] = mapped_column(sa.Boolean, nullable=False, default=False,
                                                    server_default=sa.false())
    category_id: Mapped[int | None] = mapped_column(sa.ForeignKey("ticket_categories.id"))
    title: Mapped[str] = mapped_column(sa.String(200), nullable=False)
    description: Mapped[str] = mapped_column(sa.Text, nullable=False)
    #: Derived from the texts on every write (:func:`_set_search_keys`); never set them.
    search_key: Mapped[str] = mapped_column(sa.Text, nullable=False, default="",
                                            server_default="")
    #: The typed firm name as the queue's firm filter matches it (Simplified, lower-case).
    requester_firm_key: Mapped[str | None] = mapped_column(sa.Text)

    status: Mapped[TicketStatus] = mapped_column(
        enum_type(TicketStatus, "ticket_status"), nullable=False, default=TicketStatus.SUBMITTED)
    lead_unit_id: Mapped[int | None] = mapped_column(sa.ForeignKey("units.id"))
    assignee_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    merged_into_id: Mapped[int | None] = mapped_column(sa.ForeignKey("tickets.id"))

    # Deadlines of DOMAIN §3.2 (UTC). ``due_at`` is the one the current state runs against.
    intake_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    acknowledge_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    return_window_ends_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    handle_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reply_review_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    follow_up_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: Which deadlines above were counted over provisional calendar days (next year before
    #: its official schedule): bits of :data:`app.tickets.deadlines.PROVISIONAL_BITS`;
    #: recomputed when the official days arrive.
    provisional_deadlines: Mapped[int] = mapped_column(sa.SmallInteger, nullable=False,
                                                       default=0, server_default="0")
    #: The state of ``due_at`` as last marked by the SLA scan (on_track, due_soon, overdue).
    sla_status: Mapped[SlaStatus] = mapped_column(enum_type(SlaStatus, "ticket_sla_status"),
                                                  nullable=False, default=SlaStatus.ON_TRACK)

    # When each step happened.
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=now_utc)
    first_dispatched_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    dispatched_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    replied_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reply_approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    rejected_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    paused_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    #: Seconds spent suspended (excluded from the handling clock).
    paused_seconds: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=0)
    #: Seconds held by units whose return was approved (excluded: the ticket was misrouted).
    returned_seconds: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=0)
    extension_count: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=0)
    extension_days: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=0)
    reopen_count: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=0)
    return_count: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=0)
    urge_count: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=0)
    is_supervised: Mapped[bool] = mapped_column(sa.Boolean, nullable=False, default=False)

    reply_text: Mapped[str | None] = mapped_column(sa.Text)
    final_reply_text: Mapped[str | None] = mapped_column(sa.Text)
    final_reply_signed_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    final_reply_signed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closure_kind: Mapped[ClosureKind | None] = mapped_column(
        enum_type(ClosureKind, "ticket_closure_kind"))
    rating_level: Mapped[int | None] = mapped_column(sa.SmallInteger)

    version: Mapped[int] = mapped_column(sa.Integer, nullable=False)
    __mapper_args__ = {"version_id_col": version}

    firm = relationship("Firm", lazy="joined")
    category = relationship("Category", lazy="joined")
    lead_unit = relationship("Unit", foreign_keys=[lead_unit_id], lazy="joined")
    assignee = relationship("User", foreign_keys=[assignee_id], lazy="joined")
    created_by = relationship("User", foreign_keys=[created_by_id])
    final_reply_signed_by = relationship("User", foreign_keys=[final_reply_signed_by_id])
    merged_into = relationship("Ticket", remote_side=[id])
    assisting_units = relationship("TicketAssistingUnit", back_populates="ticket",
                                   cascade="all, delete-orphan", lazy="selectin",
                                   order_by="TicketAssistingUnit.unit_id")

    def __repr__(self) -> str:
        return f"<Ticket {self.reference} {self.status}>"

    @property
    def is_finished(self) -> bool:
        """Closed or terminal: no urges, supervision or withdrawal."""
        return self.status in FINISHED_STATES

    @property
    def assisting_unit_ids(self) -> set[int]:
        """Units helping the lead unit."""
        return {row.unit_id for row in self.assisting_units}

    def is_provisional(self, column: str) -> bool:
        """Whether a stored deadline (``"handle_due_at"``, ``"due_at"``) is provisional."""
        from app.tickets.deadlines import provisional_bit

        return bool(self.provisional_deadlines & provisional_bit(column, self.status))

    def is_overdue(self, now: datetime | None = None) -> bool:
        """The current step's deadline has passed."""
        return self.due_at is not None and (now or now_utc()) > self.due_at

    def involves_unit(self, unit_id: int | None) -> bool:
        """The unit is the lead unit or an assisting unit."""
        return unit_id is not None and (unit_id == self.lead_unit_id
                                        or unit_id in self.assisting_unit_ids)

    def is_lead_unit_member(self, user) -> bool:
        """The user belongs to the unit currently responsible for the ticket."""
        return self.lead_unit_id is not None and getattr(user, "unit_id", None) == self.lead_unit_id

    def belongs_to_firm_user(self, user) -> bool:
        """A firm user's own ticket: their firm's, or one they submitted themselves."""
        if getattr(user, "tracking_ticket_id", None) is not None:
            return user.tracking_ticket_id == self.id  # the tracking link's holder (portal)
        firm_id = getattr(user, "firm_id", None)
        return (firm_id is not None and firm_id == self.firm_id) or (
            self.created_by_id is not None and self.created_by_id == getattr(user, "id", None))

    def was_created_by(self, user) -> bool:
        """``user`` recorded this ticket."""
        return self.created_by_id is not None and self.created_by_id == getattr(user, "id", None)

    def can_view(self, user) -> bool:
        """DOMAIN §1: firms see their own tickets, units those they lead or assist (and the
        member of staff who recorded one sees it), dispatchers and supervisors all; admins and
        auditors none.

        :func:`app.tickets.queries.visible_tickets` applies the same rule in SQL.
        """
        if user is None or not getattr(user, "is_authenticated", False):
            return False
        if user.can(Permission.TICKET_VIEW_ALL):
            return True
        if user.can(Permission.TICKET_VIEW_UNIT):
            # whoever recorded it (from a visit, at intake, for a firm) follows it through
            return self.involves_unit(user.unit_id) or self.was_created_by(user)
        if user.can(Permission.TICKET_VIEW_OWN):
            return self.belongs_to_firm_user(user)
        return False


class TicketAssistingUnit(db.Model):
    """A unit helping the lead unit (协办), with its own sub-deadline."""

    __tablename__ = "ticket_assisting_units"
    __table_args__ = (sa.Index("ix_ticket_assisting_units_unit_id_due_at", "unit_id", "due_at"),)

    ticket_id: Mapped[int] = mapped_column(sa.ForeignKey("tickets.id"), primary_key=True)
    unit_id: Mapped[int] = mapped_column(sa.ForeignKey("units.id"), primary_key=True)
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    added_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=now_utc)
    responded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    response: Mapped[str | None] = mapped_column(sa.Text)

    ticket = relationship("Ticket", back_populates="assisting_units")
    unit = relationship("Unit", lazy="joined")


class TicketNotDeletable(RuntimeError):
    """Tickets are never deleted (DOMAIN §3.1); they end closed, rejected, merged or withdrawn."""


@sa.event.listens_for(Ticket, "before_delete")
def _refuse_delete(_mapper, _connection, target):
    raise TicketNotDeletable(f"tickets are never deleted ({target!r})")


@sa.event.listens_for(Ticket, "before_insert")
def _set_search_keys(_mapper, _connection, ticket: Ticket) -> None:
    """Every new ticket's search keys, from its texts: a mapper event, so no path that writes a
    ticket can forget it (:func:`app.db.insert_row` runs the mapper's insert events too)."""
    keys = search_keys(*(getattr(ticket, name) for name in SOURCES))
    for name, key in keys.items():
        if getattr(ticket, name) != key:
            setattr(ticket, name, key)


@sa.event.listens_for(Ticket, "before_update")
def _refresh_search_keys(mapper, connection, ticket: Ticket) -> None:
    """A ticket's search keys again when one of its searchable texts changed."""
    if _texts_changed(ticket):
        _set_search_keys(mapper, connection, ticket)


def _texts_changed(ticket: Ticket) -> bool:
    attrs = sa.inspect(ticket).attrs
    return any(attrs[name].history.has_changes() for name in SOURCES)
