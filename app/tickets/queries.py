"""Read-side queries: which tickets a user may see, queues, timelines.

:func:`visible_tickets` is :meth:`Ticket.can_view` written in SQL; a test checks that list and
detail always agree.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from flask_sqlalchemy.pagination import Pagination
from sqlalchemy.orm import defaultload, joinedload

from app.auth.models import Unit
from app.core.caches import Store, memo
from app.core.clock import LOCAL_TZ
from app.core.permissions import Permission
from app.core.rendering import translated
from app.core.search import key_contains, like_pattern, normalise_query
from app.extensions import db
from app.sla.enums import DemandType, ServiceMode, SlaStatus, Urgency
from app.sla.working_time import WorkingTime, describe, working_time_left
from app.tickets import queries_sql
from app.tickets.deadlines import CURRENT_DEADLINE, provisional_bit
from app.tickets.models import (
    Attachment,
    Category,
    Comment,
    DispatchRule,
    Ticket,
    TicketAssistingUnit,
    TicketEvent,
    TicketStatus,
)
from app.tickets.queries_sql import TICKET_IDS
from app.tickets.workflow import PUBLIC_EVENTS


def visibility_clause(user) -> sa.ColumnElement[bool]:
    """The WHERE condition matching exactly the tickets ``user`` may see."""
    if user is None or not getattr(user, "is_authenticated", False):
        return sa.false()
    if user.can(Permission.TICKET_VIEW_ALL):
        return sa.true()
    if user.can(Permission.TICKET_VIEW_UNIT):
        if user.unit_id is None:
            return Ticket.created_by_id == user.id
        assisting = sa.exists().where(TicketAssistingUnit.ticket_id == Ticket.id,
                                      TicketAssistingUnit.unit_id == user.unit_id)
        return sa.or_(Ticket.lead_unit_id == user.unit_id, assisting,
                      Ticket.created_by_id == user.id)
    if user.can(Permission.TICKET_VIEW_OWN):
        if getattr(user, "tracking_ticket_id", None) is not None:
            return Ticket.id == user.tracking_ticket_id  # a tracking link opens one ticket
        own = [Ticket.created_by_id == user.id]
        firm_id = getattr(user, "firm_id", None)
        if firm_id is not None:
            own.append(Ticket.firm_id == firm_id)
        return sa.or_(*own)
    return sa.false()


def visible_tickets(user) -> sa.Select:
    """``select(Ticket)`` limited to what ``user`` may see (DOMAIN §1)."""
    return sa.select(Ticket).where(visibility_clause(user))


def get_visible(user, ticket_id: int) -> Ticket | None:
    """One ticket by id, or ``None`` if it does not exist or the user may not see it."""
    return db.session.scalar(visible_tickets(user).where(Ticket.id == ticket_id))


def get_visible_by_reference(user, reference: str) -> Ticket | None:
    """One ticket by its human reference, under the same rule applied by
    :meth:`Ticket.can_view` (a test checks it agrees with :func:`visible_tickets`): the
    statement is then the same for everyone, and built once (:func:`_by_reference`)."""
    ticket = db.session.execute(_by_reference(), {"reference": reference}).unique() \
        .scalar_one_or_none()
    return ticket if ticket is not None and ticket.can_view(user) else None


@memo("tickets.by_reference_statement")
def _by_reference() -> sa.Select:
    """A ticket by the parameter ``reference`` as its pages load it: its assisting units
    joined (the visibility rule reads them), and what the pages never show not joined (it is
    still read if some code asks for it): the firm's tags, area, industry and commissioner and
    the assignee's unit. Building the statement with these options costs more than running
    it."""
    from app.auth.models import User
    from app.firms.models import Firm

    firm = defaultload(Ticket.firm)
    return (sa.select(Ticket).where(Ticket.reference == sa.bindparam("reference"))
            .options(joinedload(Ticket.assisting_units), firm.lazyload(Firm.tags),
                     firm.lazyload(Firm.area), firm.lazyload(Firm.section),
                     firm.lazyload(Firm.commissioner),
                     defaultload(Ticket.assignee).lazyload(User.unit)))


#: Timeline entries shown at once on the staff ticket page; older ones are a click away.
TIMELINE_LIMIT = 50


@dataclass
class TicketRecords:
    """What the ticket page lists besides the ticket: the newest part of the timeline (in time
    order), the cursor of the entries before it, side requests and attachments."""

    timeline: list = field(default_factory=list)
    older: str | None = None
    extensions: list = field(default_factory=list)
    returns: list = field(default_factory=list)
    replies: list = field(default_factory=list)
    orders: list = field(default_factory=list)
    attachments: list = field(default_factory=list)


def ticket_records(ticket: Ticket, user, staff: bool, before: str | None = None,
                   limit: int = TIMELINE_LIMIT) -> TicketRecords:
    """Everything the ticket page lists, in ONE statement whatever the ticket's history.

    A ``UNION ALL`` of the newest ``limit`` events and comments (before the cursor ``before``,
    ``at~kind~id`` of the oldest entry already shown), the extension and return requests and
    supervision orders (staff only) and the attachments the user may download. Rows carry the
    same labelled columns (:data:`_RECORD_COLUMNS`), whatever their kind. The statement itself
    depends only on what the user may see and the cursor's kind; it is built once per such
    shape (:func:`_records_statement`) and given the ticket and the cursor as parameters.
    """
    from app.tickets.attachment_files import sees_internal

    cursor = _parse_cursor(before)
    # Only an in-progress ticket can have a reply waiting for its unit lead.
    replies = staff and ticket.status == TicketStatus.IN_PROGRESS
    statement = _records_statement(staff, sees_internal(user), cursor and cursor[1], replies,
                                   limit)
    params = {"ticket_id": ticket.id}
    if cursor is not None:
        params |= {"cursor_at": cursor[0], "cursor_id": cursor[2]}
    return _split(db.session.execute(statement, params).all(), limit)


@memo("tickets.records_statements", maxsize=64)
def _records_statement(staff: bool, internal_files: bool, cursor_kind: str | None,
                       replies: bool, limit: int) -> sa.CompoundSelect:
    """:func:`ticket_records`' statement for one shape, with the parameters ``ticket_id``
    and (with a cursor) ``cursor_at`` and ``cursor_id``: building it and its cache key
    cost more than running it."""
    from app.tickets.attachment_files import visible_statement

    ticket_id = sa.bindparam("ticket_id")
    cursor = (None if cursor_kind is None else
              (sa.bindparam("cursor_at"), cursor_kind, sa.bindparam("cursor_id")))
    branches = [_newest(_events(ticket_id, staff, cursor, limit + 1),
                        _comments(ticket_id, staff, cursor, limit + 1), limit + 1)]
    if staff:
        branches += _side_requests(ticket_id, replies)
    attachments = visible_statement(ticket_id, internal_files).with_only_columns(*_record(
        "attachment", Attachment.id, Attachment.created_at, name=Attachment.original_name,
        size=Attachment.size_bytes, visibility=Attachment.visibility))
    branches.append(attachments)
    return sa.union_all(*(_wrapped(b) for b in branches))


def _newest(events: sa.Select, comments: sa.Select, limit: int) -> sa.Select:
    """The newest ``limit`` of the events and comments together, in the timeline's order (the
    one :func:`_split` sorts by): each branch brings its own newest ``limit``, and only the
    ones shown (and the one that tells there are older) are read and converted."""
    both = sa.union_all(_wrapped(events), _wrapped(comments)).subquery()
    return (sa.select(*both.c)
            .order_by(both.c.at.desc(), both.c.kind.desc(), both.c.id.desc()).limit(limit))


def _split(rows, limit: int) -> TicketRecords:
    records = TicketRecords()
    entries = sorted((r for r in rows if r.kind in ("event", "comment")),
                     key=lambda r: (r.at, r.kind, r.id), reverse=True)
    if len(entries) > limit:
        last = entries[limit - 1]
        records.older = f"{last.at.isoformat()}~{last.kind}~{last.id}"
    records.timeline = entries[:limit][::-1]
    lists = {"extension": records.extensions, "return": records.returns,
             "reply": records.replies, "order": records.orders,
             "attachment": records.attachments}
    for row in sorted((r for r in rows if r.kind in lists), key=lambda r: (r.at, r.id)):
        lists[row.kind].append(row)
    for name in ("extensions", "returns", "replies", "orders"):
        getattr(records, name).reverse()  # newest first, as before
    return records


def _parse_cursor(before: str | None):
    """``(at, kind, id)`` from ``at~kind~id``, or ``None`` for the newest entries."""
    try:
        at, kind, row_id = (before or "").split("~")
        moment = datetime.fromisoformat(at)
        if moment.tzinfo is None or kind not in ("event", "comment"):
            return None
        return moment, kind, int(row_id)
    except ValueError:
        return None


def _before(cursor, kind: str, at_column, id_column):
    """Rows strictly before the cursor in the order (at, kind, id), for one kind's table."""
    if cursor is None:
        return sa.true()
    at, cursor_kind, cursor_id = cursor
    if kind < cursor_kind:
        return at_column <= at
    if kind == cursor_kind:
        return sa.or_(at_column < at, sa.and_(at_column == at, id_column < cursor_id))
    return at_column < at


def _events(ticket_id, staff: bool, cursor, limit: int) -> sa.Select:
    statement = (sa.select(*_record("event", TicketEvent.id, TicketEvent.at,
                                    who=TicketEvent.actor_name, action=TicketEvent.action,
                                    from_status=TicketEvent.from_status,
                                    to_status=TicketEvent.to_status, text=TicketEvent.reason,
                                    data=TicketEvent.data))
                 .where(TicketEvent.ticket_id == ticket_id,
                        _before(cursor, "event", TicketEvent.at, TicketEvent.id)))
    if not staff:
        statement = statement.where(TicketEvent.action.in_(sorted(PUBLIC_EVENTS)))
    return statement.order_by(TicketEvent.at.desc(), TicketEvent.id.desc()).limit(limit)


def _comments(ticket_id, staff: bool, cursor, limit: int) -> sa.Select:
    from app.auth.models import User

    statement = (sa.select(*_record("comment", Comment.id, Comment.created_at,
                                    who=User.display_name, text=Comment.body,
                                    visibility=Comment.visibility))
                 .select_from(Comment).outerjoin(User, User.id == Comment.author_id)
                 .where(Comment.ticket_id == ticket_id,
                        _before(cursor, "comment", Comment.created_at, Comment.id)))
    if not staff:
        statement = statement.where(Comment.visibility == "public")
    return statement.order_by(Comment.created_at.desc(), Comment.id.desc()).limit(limit)


def _side_requests(ticket_id, replies: bool) -> list[sa.Select]:
    from app.auth.models import User
    from app.tickets.models import (
        ExtensionRequest,
        ReplyApproval,
        ReturnRequest,
        SupervisionOrder,
    )

    extensions = sa.select(*_record(
        "extension", ExtensionRequest.id, ExtensionRequest.requested_at,
        text=ExtensionRequest.reason, status=ExtensionRequest.status,
        days=ExtensionRequest.days, other_at=ExtensionRequest.proposed_due_at)).where(
        ExtensionRequest.ticket_id == ticket_id)
    returns = (sa.select(*_record(
        "return", ReturnRequest.id, ReturnRequest.requested_at, who=Unit.name,
        text=ReturnRequest.reason, status=ReturnRequest.status,
        name=ReturnRequest.legal_basis))
        .select_from(ReturnRequest).outerjoin(Unit, Unit.id == ReturnRequest.unit_id)
        .where(ReturnRequest.ticket_id == ticket_id))
    orders = sa.select(*_record(
        "order", SupervisionOrder.id, SupervisionOrder.created_at,
        text=SupervisionOrder.reason, status=SupervisionOrder.status,
        other_at=SupervisionOrder.due_at)).where(SupervisionOrder.ticket_id == ticket_id)
    if not replies:
        return [extensions, returns, orders]
    waiting = (sa.select(*_record(
        "reply", ReplyApproval.id, ReplyApproval.requested_at, who=User.display_name,
        text=ReplyApproval.text, status=ReplyApproval.status,
        name=ReplyApproval.decision_reason))
        .select_from(ReplyApproval).join(User, User.id == ReplyApproval.requested_by_id)
        .where(ReplyApproval.ticket_id == ticket_id))
    return [extensions, returns, orders, waiting]


#: The columns every record row has, with the type each is read as.
_RECORD_COLUMNS = {
    "who": sa.String, "action": sa.String, "from_status": sa.String, "to_status": sa.String,
    "text": sa.Text, "data": sa.JSON, "status": sa.String, "days": sa.Integer,
    "other_at": None, "name": sa.String, "size": sa.Integer, "visibility": sa.String,
}


def _record(kind: str, id_column, at_column, **columns) -> list:
    """One branch's columns in the shared order; missing ones are typed NULLs."""
    from app.db import UTCDateTime

    values = [sa.literal(kind, sa.String).label("kind"), id_column.label("id"),
              sa.type_coerce(at_column, UTCDateTime()).label("at")]
    for name, type_ in _RECORD_COLUMNS.items():
        type_ = type_() if type_ is not None else UTCDateTime()
        column = columns.get(name)
        # A NULL needs a real CAST: PostgreSQL reads a bare NULL in a subquery as text.
        values.append((sa.type_coerce(column, type_) if column is not None
                       else sa.cast(sa.null(), type_)).label(name))
    return values


def _wrapped(statement: sa.Select) -> sa.Select:
    """A branch with its own ORDER BY/LIMIT, wrapped so SQLite accepts it in a UNION."""
    inner = statement.subquery()
    return sa.select(*inner.c)


@dataclass
class QueueFilters:
    """The queue page's filters, already checked by the form: empty means "any"."""

    q: str = ""
    status: str = ""
    sla: str = ""
    service_mode: str = ""
    demand_type: str = ""
    urgency: str = ""
    category_id: int | None = None
    unit_id: int | None = None
    firm: str = ""
    received_from: date | None = None
    received_to: date | None = None


def queue(user, name: str, now, filters: QueueFilters | None = None) -> sa.Select:
    """The ids of one queue of the visible tickets, filtered, nearest deadline first.

    Every column this reads (the order, the state, the SLA mark, the lead unit) is in the
    covering index ``ix_tickets_queue_order`` (or, for one state, ``ix_tickets_status_queue_
    order``), so a page walks index entries only and never sorts; :func:`queue_page` then
    loads the 25 rows it shows. The other filters only add conditions to the visibility
    clause: whatever they say, a user never gets a ticket :func:`visibility_clause` hides.
    """
    return (TICKET_IDS.where(visibility_clause(user), *_queue_conditions(name, now, filters))
            .order_by(*QUEUE_ORDER))


def _queue_conditions(name: str, now, filters: QueueFilters | None,
                      search: sa.ColumnElement[bool] | None = None) -> list[sa.ColumnElement]:
    """The conditions of the queue ``name`` and of the filters, besides the visibility; the
    search's, if given, is the one :func:`_search` built for ``filters.q``."""
    conditions = {
        "intake": lambda: [Ticket.status == TicketStatus.SUBMITTED],
        "to_acknowledge": lambda: [Ticket.status == TicketStatus.DISPATCHED],
        "in_progress": lambda: [Ticket.status.in_(IN_PROGRESS_STATES)],
        "due_soon": lambda: [Ticket.sla_status == SlaStatus.DUE_SOON, Ticket.due_at >= now],
        "overdue": lambda: [Ticket.due_at < now],
    }.get(name, list)()
    return conditions + _filter_conditions(filters or QueueFilters(), now, search)


def _filter_conditions(filters: QueueFilters, now, search: sa.ColumnElement[bool] | None = None
                       ) -> list[sa.ColumnElement[bool]]:
    """One SQL condition per filter that is set (an unknown enum value sets none)."""
    conditions = []
    if filters.q.strip():
        conditions.append(_search(filters.q.strip()) if search is None else search)
    if filters.status in set(TicketStatus):
        conditions.append(Ticket.status == filters.status)
    if filters.sla == SlaStatus.OVERDUE:
        conditions.append(Ticket.due_at < now)
    elif filters.sla in (SlaStatus.ON_TRACK, SlaStatus.DUE_SOON):
        conditions += [Ticket.sla_status == filters.sla, Ticket.due_at >= now]
    for column, value, enum in ((Ticket.service_mode, filters.service_mode, ServiceMode),
                                (Ticket.demand_type, filters.demand_type, DemandType),
                                (Ticket.urgency, filters.urgency, Urgency)):
        if value in set(enum):
            conditions.append(column == value)
    if filters.category_id is not None:
        conditions.append(Ticket.category_id == filters.category_id)
    if filters.unit_id is not None:
        conditions.append(_involves_unit(filters.unit_id))
    if filters.firm.strip():
        conditions.append(_firms_matching(filters.firm))
    if filters.received_from is not None:
        conditions.append(Ticket.submitted_at >= local_day_start(filters.received_from))
    if filters.received_to is not None:
        conditions.append(Ticket.submitted_at
                          < local_day_start(filters.received_to + timedelta(days=1)))
    return conditions


def _involves_unit(unit_id: int) -> sa.ColumnElement[bool]:
    """The unit leads the ticket or assists on it."""
    assisting = sa.exists().where(TicketAssistingUnit.ticket_id == Ticket.id,
                                  TicketAssistingUnit.unit_id == unit_id)
    return sa.or_(Ticket.lead_unit_id == unit_id, assisting)


def _firms_matching(text: str) -> sa.ColumnElement[bool]:
    """The ticket's firm is a registry firm whose name, English or former name, USCC or
    contact contains ``text`` (the firm list's own search key, trigram-indexed on PostgreSQL),
    or — a walk-in requester's ticket, without a registry firm — the firm name typed
    contains it, matched like the firm registry's names (Simplified, lower-case)."""
    from app.firms.models import Firm

    registry = sa.select(Firm.id).where(key_contains(Firm.search_key, text))
    # The key (indexed) contains every text of the ticket; the typed name's own key decides.
    typed = sa.select(Ticket.id).where(
        Ticket.firm_id.is_(None), queries_sql.key_matches(text),
        Ticket.requester_firm_key.like(like_pattern(normalise_query(text)), escape="\\"),
    ).correlate(None)
    return sa.or_(queries_sql.among(Ticket.firm_id, registry),
                  queries_sql.among(Ticket.id, typed))


def local_day_start(day: date) -> datetime:
    """00:00 Beijing time of ``day``, as UTC: the received dates are local calendar days."""
    return datetime.combine(day, time.min, tzinfo=LOCAL_TZ).astimezone(UTC)


def queue_order(sort: str) -> tuple:
    """The order of a queue: by deadline (the default) or the newest received first."""
    return NEWEST_ORDER if sort == "newest" else QUEUE_ORDER


#: Running deadlines first, soonest first; then the rest, newest first. The expression index
#: ``ix_tickets_queue_order`` stores exactly this order on SQLite and PostgreSQL.
QUEUE_ORDER = (Ticket.due_at.is_(None), Ticket.due_at, Ticket.id.desc())

#: Newest received first: ids grow with submission, so the primary key gives this order.
NEWEST_ORDER = (Ticket.id.desc(),)

#: A queue counts its tickets only up to this many ("more than 500"): an exact count of a
#: unit's tickets over years would cost more than the page.
QUEUE_COUNT_LIMIT = 500


class QueuePage(Pagination):
    """One page of a queue: the page's ids from the index, then those rows with their lead
    unit's name in the same statement; the total counted up to :data:`QUEUE_COUNT_LIMIT`.
    The rows are plain result rows (:data:`LIST_COLUMNS` and ``lead_unit_name``), not ORM
    objects: loading 25 tickets as objects cost more than the two statements."""

    def _query_items(self) -> list[sa.Row]:
        rows, _count = self._query_args["statements"]
        return list(db.session.execute(rows, {"now": self._query_args["now"],
                                              "limit": self.per_page,
                                              "offset": self._query_offset}))

    def _query_count(self) -> int:
        _rows, count = self._query_args["statements"]
        counted = db.session.scalar(count, {"now": self._query_args["now"]})
        self.total_is_lower_bound = counted > QUEUE_COUNT_LIMIT
        return min(counted, QUEUE_COUNT_LIMIT)


def queue_page(user, name: str, now, filters: QueueFilters, sort: str, page: int,
               per_page: int) -> QueuePage:
    """One page of :func:`queue` in the order ``sort`` names (:func:`queue_order`): two
    statements whatever the page or the data size.

    Without a search or a firm filter (whose conditions depend on the text and the data),
    a queue's two statements are kept per user (everything :func:`visibility_clause` reads
    of them), queue, order and filter values, with the time as a parameter: building them
    and their cache keys cost more than running them.
    """
    order = queue_order(sort)
    if not filters.q.strip() and not filters.firm.strip():
        key = (user.id, user.role, user.unit_id, getattr(user, "firm_id", None),
               getattr(user, "tracking_ticket_id", None), name, order is NEWEST_ORDER,
               tuple(vars(filters).values()))
        statements = _QUEUE_STATEMENTS.get(key, lambda: _queue_statements(
            user, name, filters, order))
    else:
        statements = _search_page_statements(user, name, now, filters, order)
    return QueuePage(page=page, per_page=per_page, max_per_page=None, error_out=False,
                     statements=statements, now=now)


def _queue_statements(user, name: str, filters: QueueFilters,
                      order: tuple) -> tuple[sa.Select, sa.Select]:
    """:func:`queue_page`'s statements without a search: a unit's queue is read from the
    unit's own tickets, page and count (:func:`~app.tickets.queries_sql.unit_page`,
    :func:`~app.tickets.queries_sql.unit_count`), so a backlog it cannot see costs it
    nothing; any other reader's queue walks the queue order."""
    unit_id = _unit_seen(user)
    if unit_id is None:
        return _page_statements(queue(user, name, sa.bindparam("now"), filters), order)
    conditions = _queue_conditions(name, sa.bindparam("now"), filters)
    ids = queries_sql.unit_page(unit_id, conditions, order, order is NEWEST_ORDER).subquery()
    return (_rows_of(ids, order),
            queries_sql.unit_count(unit_id, conditions, QUEUE_COUNT_LIMIT + 1))


def _rows_of(ids, order: tuple) -> sa.Select:
    """The queue rows of the page ``ids``, in ``order``, with their lead unit's name."""
    return (_LIST_ROWS.join(ids, Ticket.id == ids.c.id)
            .outerjoin(Unit, Unit.id == Ticket.lead_unit_id).order_by(*order))


def _page_statements(statement: sa.Select, order: tuple) -> tuple[sa.Select, sa.Select]:
    """A page of ``statement``'s ids in ``order`` (parameters ``limit`` and ``offset``) as
    queue rows, and the count of its ids up to :data:`QUEUE_COUNT_LIMIT` + 1."""
    ordered = statement.order_by(None).order_by(*order)
    ids = ordered.limit(sa.bindparam("limit")).offset(sa.bindparam("offset")).subquery()
    rows = _rows_of(ids, order)
    limited = ordered.order_by(None).limit(QUEUE_COUNT_LIMIT + 1).subquery()
    return rows, sa.select(sa.func.count()).select_from(limited)


def _search_page_statements(user, name: str, now, filters: QueueFilters,
                            order: tuple) -> tuple[sa.Select, sa.Select]:
    """:func:`queue_page`'s statements for a search or a firm filter, built for the text.

    A unit's search (a user who sees a unit's tickets) is written for the database's planner
    (:mod:`app.tickets.queries_sql`), with the same rows, order and total as
    :func:`visibility_clause` gives: on PostgreSQL the assisting tickets are a list
    (:func:`~app.tickets.queries_sql.unit_among`); on SQLite, when the search reads the keys,
    the page walks the order index testing the unit
    (:func:`~app.tickets.queries_sql.unit_walk`) and the total is counted from the unit's
    tickets (:func:`~app.tickets.queries_sql.unit_count`). Other searches and the firm
    filter are lists of ids that the database reads first.
    """
    search = _search(filters.q.strip()) if filters.q.strip() else None
    conditions = _queue_conditions(name, now, filters, search)
    unit_id = _unit_seen(user)
    dialect = db.session.get_bind().dialect.name
    if unit_id is not None and search is not None and not filters.firm.strip():
        if dialect == "postgresql":
            return _page_statements(TICKET_IDS.where(queries_sql.unit_among(unit_id),
                                                     *conditions).order_by(*QUEUE_ORDER), order)
        if dialect == "sqlite" and queries_sql.reads_keys(search):
            rows, _count = _page_statements(TICKET_IDS.where(
                queries_sql.unit_walk(unit_id), *conditions).order_by(*QUEUE_ORDER), order)
            return rows, queries_sql.unit_count(unit_id, conditions, QUEUE_COUNT_LIMIT + 1)
    return _page_statements(
        TICKET_IDS.where(visibility_clause(user), *conditions).order_by(*QUEUE_ORDER), order)


def _unit_seen(user) -> int | None:
    """The unit whose tickets, led or assisted, are what ``user`` may see (the unit rule of
    :func:`visibility_clause`), or ``None`` under any other rule."""
    if (user is None or not getattr(user, "is_authenticated", False)
            or user.can(Permission.TICKET_VIEW_ALL)
            or not user.can(Permission.TICKET_VIEW_UNIT)):
        return None
    return user.unit_id


#: (user's id, role, unit, firm, tracked ticket, queue, newest first, filters) → the statements of
#: :func:`queue_page`.
_QUEUE_STATEMENTS = Store("tickets.queue_statements")


#: What a queue row shows (with its lead unit's name): the rows carry nothing else, so a
#: template can never add a query per row.
LIST_COLUMNS = (Ticket.id, Ticket.reference, Ticket.title, Ticket.status, Ticket.due_at,
                Ticket.sla_status, Ticket.lead_unit_id, Ticket.version,
                (Ticket.provisional_deadlines.op("&")(sa.case(
                    {state: provisional_bit("due_at", state) for state in CURRENT_DEADLINE},
                    value=Ticket.status, else_=0)) != 0).label("due_is_provisional"))


#: The columns of a queue row with the lead unit's name, selected once (:class:`QueuePage`).
_LIST_ROWS = sa.select(*LIST_COLUMNS, Unit.name.label("lead_unit_name"))


def _search(text: str) -> sa.ColumnElement[bool]:
    """The ticket's search key (reference, title, description, walk-in requester's firm and
    contact; :mod:`app.tickets.search`) contains ``text``
    (:func:`~app.tickets.queries_sql.key_matches`); a whole reference is looked up through its
    unique index instead."""
    if REFERENCE.fullmatch(text.upper()):
        return Ticket.reference == text.upper()
    return queries_sql.key_matches(text)


REFERENCE = re.compile(r"[A-Z]{1,4}\d{4}-\d{6}")


IN_PROGRESS_STATES = (TicketStatus.IN_PROGRESS, TicketStatus.RETURN_REQUESTED,
                      TicketStatus.SUSPENDED, TicketStatus.REPLIED)


def suggested_lead_unit_id(ticket: Ticket) -> int | None:
    """The dispatch catalogue's lead unit for the ticket's category, if any."""
    if ticket.category_id is None:
        return None
    return db.session.scalar(sa.select(DispatchRule.lead_unit_id).where(
        DispatchRule.category_id == ticket.category_id, DispatchRule.is_active.is_(True)))


#: (label, deadline column, step-done column) shown on the ticket page.
DEADLINES = (
    (_l("Intake"), "intake_due_at", "first_dispatched_at"),
    (_l("Acknowledge"), "acknowledge_due_at", "acknowledged_at"),
    (_l("Return window"), "return_window_ends_at", None),
    (_l("Handle"), "handle_due_at", "replied_at"),
    (_l("Reply review"), "reply_review_due_at", "reply_approved_at"),
    (_l("Follow-up"), "follow_up_due_at", "closed_at"),
)
#: The same labels by deadline column, for :func:`app.core.rendering.translated`.
DEADLINE_LABELS = {due_column: label for label, due_column, _ in DEADLINES}


def deadline_rows(ticket: Ticket, now) -> list[dict]:
    """Each deadline with when its step happened and a simple met / missed / overdue mark;
    the labels translated once per language, not once per page."""
    labels = translated(DEADLINE_LABELS)
    days_left = _days_left(ticket, now)
    rows = []
    for _label, due_column, done_column in DEADLINES:
        due = getattr(ticket, due_column)
        if due is None:
            continue
        label = labels[due_column]
        done = getattr(ticket, done_column) if done_column else None
        provisional = ticket.is_provisional(due_column)
        if done_column is None:  # a window closes; it is not a step to be met
            rows.append({"label": label, "due_at": due, "done_at": None, "days_left": None,
                         "status": None, "provisional": provisional})
            continue
        if done is not None:
            status = SlaStatus.MET if done <= due else SlaStatus.MISSED
        elif now > due:
            status = SlaStatus.OVERDUE
        else:
            status = ticket.sla_status if ticket.due_at == due else SlaStatus.ON_TRACK
        left = days_left(due) if done is None else None
        rows.append({"label": label, "due_at": due, "done_at": done, "status": status,
                     "days_left": left.days if left is not None else None,
                     "left_text": describe(left) if left is not None else None,
                     "late": left is not None and left.late, "provisional": provisional})
    return rows


def _days_left(ticket: Ticket, now):
    """``days_left(due)``: the working time left (:mod:`app.sla.working_time`, office hours of
    working days; late once negative), for the countdown; None without a calendar. The
    ticket's SLA context is built once, when a deadline first asks."""
    from app.sla.calendar import CalendarNotConfigured
    from app.tickets import deadlines

    sla = None

    def days_left(due) -> WorkingTime | None:
        nonlocal sla
        try:
            sla = sla or deadlines.for_ticket(ticket)
            return working_time_left(due, now, sla.calendar, sla.office_hours)
        except CalendarNotConfigured:
            return None

    return days_left


def active_categories() -> sa.Select:
    """Categories offered on forms, in their configured order."""
    return sa.select(Category).where(Category.is_active.is_(True)).order_by(Category.sort_order,
                                                                            Category.name)


def filter_options(user) -> dict[str, tuple[tuple[str, str], ...]]:
    """The queue filter's choices: ``categories``, the active ones, and ``units``, those the
    user may see tickets of (every active unit if they see all, else their own) — read in ONE
    statement, and kept by the worker for ``QUEUE_CHOICES_TTL`` seconds (a category or unit
    written in this worker empties the store at once). They only decide what the form
    offers: a filter value is checked against them, and a stale unit or category can only
    filter the tickets the user may see anyway."""
    if user.can(Permission.TICKET_VIEW_ALL):
        kind, params = "all units", {}
    elif user.can(Permission.TICKET_VIEW_UNIT) and user.unit_id is not None:
        kind, params = "own unit", {"unit_id": user.unit_id}
    else:
        kind, params = "no unit", {}
    return _FILTER_CHOICES.get((kind, params.get("unit_id")),
                               lambda: _read_filter_options(kind, params))


def _read_filter_options(kind: str, params: dict) -> dict[str, tuple[tuple[str, str], ...]]:
    read = {"categories": [], "units": []}
    for row in db.session.execute(_FILTER_OPTIONS[kind], params):
        read[row.kind].append((str(row.id), row.name))
    return {name: tuple(pairs) for name, pairs in read.items()}


#: (which units, the user's unit) → the choices: :func:`filter_options`.
_FILTER_CHOICES = Store("tickets.filter_choices")


def _filter_options_statement(units_shown: sa.ColumnElement[bool]) -> sa.Select:
    categories = (sa.select(sa.literal("categories").label("kind"), Category.id, Category.name,
                            Category.sort_order.label("rank"))
                  .where(Category.is_active.is_(True)))
    units = (sa.select(sa.literal("units").label("kind"), Unit.id, Unit.name,
                       sa.literal(0).label("rank"))
             .where(units_shown))
    union = sa.union_all(categories, units).subquery()
    return sa.select(union).order_by(union.c.kind, union.c.rank, union.c.name)


#: :func:`filter_options`' statements, built once (with their cache keys): building them
#: cost more than running them.
_FILTER_OPTIONS = {
    "all units": _filter_options_statement(Unit.is_active.is_(True)),
    "own unit": _filter_options_statement(Unit.id == sa.bindparam("unit_id")),
    "no unit": _filter_options_statement(sa.false()),
}


def find_firm(text: str):
    """The registered, non-archived firm a caller names: by USCC, else by exact legal name."""
    from app.firms.models import Firm
    from app.firms.uscc import normalise

    text = (text or "").strip()
    if not text:
        return None
    live = sa.select(Firm).where(Firm.archived_at.is_(None))
    firm = db.session.scalar(live.where(Firm.uscc == normalise(text)))
    if firm is not None:
        return firm
    matches = db.session.scalars(live.where(Firm.name == text).limit(2)).all()
    return matches[0] if len(matches) == 1 else None
