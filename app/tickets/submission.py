"""The public form's ticket in four statements: the busiest write of the system.

A public submission (``POST /request``) is the one write anyone on the internet can repeat, so
its transaction holds only what it must: the reference counter, the ticket, its ``create``
event and its audit row (and the outbox's one multi-row INSERT when it mails a confirmation).
What the write would otherwise read first is checked or found inside its own INSERT:

* the **registry firm** of the USCC is a subquery of the ticket's INSERT (``firm_id``
  comes back with the ticket's id);
* the **SLA configuration** — calendar, policies, office hours — is the one this process
  kept (:func:`app.sla.services.assume_known_settings`), and the INSERT stores the ticket
  only while the stored revisions are still those; otherwise it inserts nothing, and the
  deadlines are computed again from the database;
* the **category**, offered from the process's list of active ones, is checked the same way:
  the INSERT stores nothing if it was retired meanwhile, and the slow path says so.

Rows derivable later are derived later: the report facts of a submitted ticket are written by
the job ``reports.new_facts`` (:attr:`app.tickets.models.Ticket.derived_rows_later`).
"""

from __future__ import annotations

import sqlalchemy as sa
from flask_babel import gettext as _

from app.core.clock import now_utc
from app.core.errors import ValidationFailed
from app.db import insert_row
from app.extensions import db
from app.firms.models import Firm
from app.sla import services as sla
from app.tickets.models import Category, Channel, DemandType, ServiceMode, Ticket, Urgency
from app.tickets.services import (
    Requester,
    check_demand,
    new_ticket,
    next_reference,
    record_creation,
    set_intake_deadline,
)


class RetiredCategory(ValidationFailed):
    """The category chosen on the form is no longer active (retired after the form was shown)."""


_FIRM = sa.select(Firm.id).where(Firm.uscc == sa.bindparam("firm_uscc"))
#: Found by the INSERT itself: ``firm_id``, the registry firm with the USCC typed (parameter
#: ``firm_uscc``), and the 涉台 mark — asked for on the form (parameter ``is_taiwan``) or the
#: registry firm's own.
FIRM_BY_USCC = (
    ("firm_id", _FIRM.scalar_subquery()),
    ("is_taiwan_related", sa.or_(
        sa.bindparam("is_taiwan", type_=sa.Boolean()),
        sa.exists(_FIRM.where(Firm.is_taiwan_invested)))),
)
_ACTIVE_CATEGORY = sa.exists().where(Category.id == sa.bindparam("category_id"),
                                     Category.is_active.is_(True))
#: What the INSERT checks, with and without a category chosen.
_STILL_TRUE = {False: sla.unchanged, True: sa.and_(sla.unchanged, _ACTIVE_CATEGORY)}


def create_public_ticket(*, uscc: str, requester: Requester, demand_type: DemandType,
                         category_id: int | None, title: str, description: str,
                         ip: str | None, is_taiwan_related: bool = False,
                         channel: Channel = Channel.WEB) -> Ticket:
    """Record an anonymous requester's demand (DOMAIN §3.1 *create*), as
    :func:`app.tickets.services.create_ticket` does, in the statements of the module doc.

    :raises RetiredCategory: the category is no longer active.
    """
    check_demand(None, requester, title, description)
    now = now_utc()
    known = sla.assume_known_settings()
    ticket = new_ticket(now, channel=channel, service_mode=ServiceMode.STANDARD,
                        demand_type=DemandType(demand_type), urgency=Urgency.NORMAL,
                        is_complex=False, category_id=category_id, title=title,
                        description=description, requester=requester, created_by=None)
    ticket.derived_rows_later = True
    ticket.reference = next_reference(now)
    params = {"firm_uscc": uscc, "category_id": category_id,
              "is_taiwan": bool(is_taiwan_related)}
    if known is None or not insert_row(db.session, ticket, computed=FIRM_BY_USCC,
                                       only_if=_STILL_TRUE[category_id is not None],
                                       params={**params, **known}):
        if known is not None:  # the kept configuration is stale: compute from the stored one
            sla.forget_known_settings()
            set_intake_deadline(ticket, now)
        _check_category(category_id)
        insert_row(db.session, ticket, computed=FIRM_BY_USCC, params=params)
    record_creation(ticket, None, ip)
    return ticket


def _check_category(category_id: int | None) -> None:
    if category_id is not None:
        category = db.session.get(Category, category_id)
        if category is None or not category.is_active:
            raise RetiredCategory(_("Choose one of the listed categories."))
