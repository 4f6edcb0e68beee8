"""The kinds and states of DOMAIN §3, each a StrEnum with a lazy label map beside it.

Service mode, demand type and urgency belong to the SLA policies and are defined in
:mod:`app.sla`; they are re-exported here so ticket code has one place to import them from.
"""

from __future__ import annotations

from enum import StrEnum

from flask_babel import lazy_gettext as _l

from app.sla.enums import DemandType, ServiceMode, SlaStatus, Urgency

__all__ = [
    "Channel", "ClosureKind", "CommentVisibility", "DemandType", "ExtensionStatus",
    "ReplyApprovalStatus", "ReturnStatus", "ServiceMode", "SlaStatus", "SupervisionStatus",
    "TicketStatus", "UrgeKind", "Urgency",
]


class TicketStatus(StrEnum):
    """The eleven states of DOMAIN §3.1."""

    SUBMITTED = "submitted"
    DISPATCHED = "dispatched"
    IN_PROGRESS = "in_progress"
    RETURN_REQUESTED = "return_requested"
    SUSPENDED = "suspended"
    REPLIED = "replied"
    FOLLOW_UP = "follow_up"
    CLOSED = "closed"
    REJECTED = "rejected"
    MERGED = "merged"
    WITHDRAWN = "withdrawn"


#: States a ticket never leaves (``closed`` can still be reopened by a supervisor).
TERMINAL_STATES = frozenset({TicketStatus.REJECTED, TicketStatus.MERGED, TicketStatus.WITHDRAWN})
#: States in which nothing more is expected: urges, supervision and withdrawal are refused.
FINISHED_STATES = TERMINAL_STATES | {TicketStatus.CLOSED}
#: States in which a unit holds the ticket, so exactly one lead unit must be set.
UNIT_STATES = frozenset({
    TicketStatus.DISPATCHED, TicketStatus.IN_PROGRESS, TicketStatus.RETURN_REQUESTED,
    TicketStatus.SUSPENDED, TicketStatus.REPLIED,
})

STATUS_LABELS = {
    TicketStatus.SUBMITTED: _l("Submitted"),
    TicketStatus.DISPATCHED: _l("Awaiting acknowledgement"),
    TicketStatus.IN_PROGRESS: _l("In progress"),
    TicketStatus.RETURN_REQUESTED: _l("Return under review"),
    TicketStatus.SUSPENDED: _l("Suspended (awaiting the firm)"),
    TicketStatus.REPLIED: _l("Replied, under review"),
    TicketStatus.FOLLOW_UP: _l("Awaiting follow-up"),
    TicketStatus.CLOSED: _l("Closed"),
    TicketStatus.REJECTED: _l("Not accepted"),
    TicketStatus.MERGED: _l("Merged"),
    TicketStatus.WITHDRAWN: _l("Withdrawn"),
}


class Channel(StrEnum):
    """How the demand reached the centre."""

    WEB = "web"
    PORTAL = "portal"
    VISIT = "visit"
    PHONE = "phone"
    HOTLINE_12345 = "hotline_12345"
    WALK_IN = "walk_in"
    API = "api"


CHANNEL_LABELS = {
    Channel.WEB: _l("Public web form"),
    Channel.PORTAL: _l("Firm portal"),
    Channel.VISIT: _l("Visit"),
    Channel.PHONE: _l("Phone"),
    Channel.HOTLINE_12345: _l("12345 hotline"),
    Channel.WALK_IN: _l("Walk-in"),
    Channel.API: _l("API"),
}


class ClosureKind(StrEnum):
    """How a ticket came to be closed."""

    RATED = "rated"
    FOLLOWED_UP = "followed_up"
    UNREACHABLE = "unreachable"
    FINAL_REPLY = "final_reply"


class CommentVisibility(StrEnum):
    """Public comments are shown to the firm; internal ones only to staff."""

    PUBLIC = "public"
    INTERNAL = "internal"


class ExtensionStatus(StrEnum):
    """An extension request: the handler asks, the unit lead endorses, a supervisor decides."""

    AWAITING_ENDORSEMENT = "awaiting_endorsement"
    AWAITING_DECISION = "awaiting_decision"
    APPROVED = "approved"
    REJECTED = "rejected"


EXTENSION_STATUS_LABELS = {
    ExtensionStatus.AWAITING_ENDORSEMENT: _l("Awaiting the unit lead"),
    ExtensionStatus.AWAITING_DECISION: _l("Awaiting the supervisor"),
    ExtensionStatus.APPROVED: _l("Approved"),
    ExtensionStatus.REJECTED: _l("Rejected"),
}

#: Extension requests still open.
OPEN_EXTENSION_STATES = frozenset({ExtensionStatus.AWAITING_ENDORSEMENT,
                                   ExtensionStatus.AWAITING_DECISION})


class ReplyApprovalStatus(StrEnum):
    """A handler's reply waiting for the unit lead where policy requires it (DOMAIN §3.1)."""

    PENDING = "pending"
    APPROVED = "approved"
    RETURNED = "returned"


REPLY_APPROVAL_STATUS_LABELS = {
    ReplyApprovalStatus.PENDING: _l("Awaiting the unit lead"),
    ReplyApprovalStatus.APPROVED: _l("Approved"),
    ReplyApprovalStatus.RETURNED: _l("Returned to the handler"),
}


class ReturnStatus(StrEnum):
    """A unit's request to hand a ticket back (退单)."""

    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"


RETURN_STATUS_LABELS = {
    ReturnStatus.PENDING: _l("Under review"),
    ReturnStatus.APPROVED: _l("Approved"),
    ReturnStatus.REJECTED: _l("Rejected"),
}


class UrgeKind(StrEnum):
    """Who urged: a dispatcher, or the scan before a deadline."""

    MANUAL = "manual"
    AUTO = "auto"


class SupervisionStatus(StrEnum):
    """A supervision order (督办单) is open until the supervisor closes it."""

    OPEN = "open"
    CLOSED = "closed"


SUPERVISION_STATUS_LABELS = {
    SupervisionStatus.OPEN: _l("Open"),
    SupervisionStatus.CLOSED: _l("Closed"),
}
