"""Indexes the report queries need on tables other packages own.

Each figure reads one period of one timestamp column (replied, dispatched, closed, requested,
decided); without an index per column a month of a million tickets is a full scan. They are
declared here, against the owners' tables, so the schema and the migration that creates them
stay in step with the code that needs them.
"""

from __future__ import annotations

import sqlalchemy as sa

from app.tickets.models import ExtensionRequest, ReturnRequest, Ticket

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
)
