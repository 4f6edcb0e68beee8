"""Ticket models (DOMAIN §3), split by topic; import them from here."""

from app.tickets.models.catalogue import Category, DispatchRule
from app.tickets.models.enums import (
    FINISHED_STATES,
    TERMINAL_STATES,
    UNIT_STATES,
    Channel,
    ClosureKind,
    CommentVisibility,
    DemandType,
    ExtensionStatus,
    ReplyApprovalStatus,
    ReturnStatus,
    ServiceMode,
    SlaStatus,
    SupervisionStatus,
    TicketStatus,
    UrgeKind,
    Urgency,
)
from app.tickets.models.requests import (
    ExtensionRequest,
    ReplyApproval,
    ReturnRequest,
    SupervisionOrder,
    Urge,
)
from app.tickets.models.ticket import (
    Ticket,
    TicketAssistingUnit,
    TicketNotDeletable,
    TicketReferenceCounter,
    format_reference,
    new_access_token,
)
from app.tickets.models.timeline import Attachment, Comment, TicketEvent, TicketEventImmutable

__all__ = [
    "FINISHED_STATES", "TERMINAL_STATES", "UNIT_STATES", "Attachment", "Category", "Channel",
    "ClosureKind", "Comment", "CommentVisibility", "DemandType", "DispatchRule",
    "ExtensionRequest", "ExtensionStatus", "ReplyApproval", "ReplyApprovalStatus",
    "ReturnRequest", "ReturnStatus", "ServiceMode", "SlaStatus", "SupervisionOrder",
    "SupervisionStatus", "Ticket", "TicketAssistingUnit",
    "TicketEvent", "TicketEventImmutable", "TicketNotDeletable", "TicketReferenceCounter",
    "TicketStatus", "Urge", "UrgeKind", "Urgency", "format_reference", "new_access_token",
]
