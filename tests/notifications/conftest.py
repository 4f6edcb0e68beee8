"""Reuse the ticket cast: notifications come from real ticket transitions."""

from tests.tickets.conftest import cast, sla_ready, ticket_in  # noqa: F401
