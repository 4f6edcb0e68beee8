"""The ticket workflow's refusals, raised by the services and the action handlers."""

from __future__ import annotations

from flask_babel import gettext as _

from app.core.errors import DomainError


class InvalidTransition(DomainError):
    """The action is not possible in the ticket's current state, or its data breaks a rule."""


class ConcurrentChange(DomainError):
    """Someone else changed the ticket since it was loaded (optimistic locking)."""

    def __init__(self, ticket=None):
        super().__init__(_("This ticket was changed by someone else in the meantime. "
                           "Reload it and try again; your text has been kept."))
        self.ticket = ticket
