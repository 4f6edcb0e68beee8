"""Who is told what when a ticket moves: one function per message, called by its handler.

Staff are told in-app and by e-mail through :mod:`app.notifications.services`; the requester
in-app when a firm account asked, and by e-mail at the address given with the request. Every
message is written in the transaction of the change that causes it, so a refused or rolled-back
action tells nobody. Links are built from the routes (:func:`app.core.links.path_for`).
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from flask_babel import gettext as _

from app.auth.models import User
from app.core import mail
from app.core.links import path_for
from app.core.permissions import Permission, Role
from app.extensions import db
from app.notifications.services import add_in_app, notify, notify_all
from app.tickets.deadlines import local_text
from app.tickets.models import Ticket
from app.tickets.models.enums import EXTENSION_STATUS_LABELS

# -- to the requester --------------------------------------------------------------------------


def answered_directly(ticket: Ticket) -> None:
    """马上办: the answer itself."""
    _requester(ticket, _("Your request %(ref)s has been answered", ref=ticket.reference),
               ticket.reply_text)


def intake_refused(ticket: Ticket, reason: str | None, proper_channel: str) -> None:
    """Not accepted, with the reason and where to turn instead."""
    _requester(ticket, _("Your request %(ref)s was not accepted", ref=ticket.reference),
               _("Reason: %(reason)s\nPlease turn to: %(channel)s", reason=reason,
                 channel=proper_channel))


def merged(ticket: Ticket, target: Ticket) -> None:
    """Merged into another ticket, which the requester can follow instead."""
    _requester(ticket, _("Your request %(ref)s was merged", ref=ticket.reference),
               _("It is handled together with %(other)s.", other=target.reference))


def information_needed(ticket: Ticket, missing_info: str) -> None:
    """Suspended: what the firm must supply."""
    _requester(ticket, _("Information needed for %(ref)s", ref=ticket.reference), missing_info)


def deadline_extended(ticket: Ticket) -> None:
    """An approved extension: the new handling deadline."""
    _requester(ticket, _("The deadline of %(ref)s was extended", ref=ticket.reference),
               _("New deadline: %(at)s", at=local_text(ticket.handle_due_at)))


def deadline_recomputed(ticket: Ticket, years: str, before: datetime,
                        after: datetime) -> None:
    """The official holiday schedule moved the date the requester was promised."""
    _requester(ticket, _("New answer date for your request %(ref)s", ref=ticket.reference),
               _("The official holiday schedule of %(years)s has been published, so the date "
                 "by which we will answer your request %(ref)s has been recomputed: "
                 "%(before)s → %(after)s (Beijing time).", years=years, ref=ticket.reference,
                 before=local_text(before), after=local_text(after)))


def reply_approved(ticket: Ticket) -> None:
    """The approved reply, to the requester and to the member of staff who recorded it."""
    _requester(ticket, _("Reply to your request %(ref)s", ref=ticket.reference),
               ticket.reply_text or "")
    _creator(ticket, _("Ticket %(ref)s that you recorded has been answered",
                       ref=ticket.reference), ticket.reply_text or "")


def closed(ticket: Ticket, actor) -> None:
    """The member of staff who recorded the ticket learns it is closed (follow-through)."""
    _creator(ticket, _("Ticket %(ref)s that you recorded is closed", ref=ticket.reference),
             ticket.final_reply_text or ticket.reply_text or "", actor=actor)


def final_reply(ticket: Ticket) -> None:
    """The approved final reply."""
    _requester(ticket, _("Final reply to your request %(ref)s", ref=ticket.reference),
               ticket.final_reply_text or "")


# -- to the units and their people -------------------------------------------------------------


def dispatched(ticket: Ticket, units) -> None:
    """The lead and the assisting units' handlers and leads."""
    _units(ticket, units, _("New ticket %(ref)s for your unit", ref=ticket.reference),
           ticket.title)


def return_refused(ticket: Ticket, reason: str | None) -> None:
    """The lead unit keeps the ticket (首办负责)."""
    _units(ticket, [ticket.lead_unit], _("Return of %(ref)s refused", ref=ticket.reference),
           reason)


def extension_decided(ticket: Ticket, decision: str, reason: str | None) -> None:
    """The assignee (or the lead unit) learns the decision on its extension request."""
    label = EXTENSION_STATUS_LABELS.get(decision, decision)  # the reader's words, not the code
    _assignee(ticket, _("Extension of %(ref)s: %(decision)s", ref=ticket.reference,
                        decision=label), reason or "")


def reply_awaits_approval(ticket: Ticket, text: str) -> None:
    """The lead unit's leads, who approve the handler's reply."""
    leads = [u for u in _unit_members([ticket.lead_unit])
             if u.can(Permission.TICKET_APPROVE_UNIT_REPLY)]
    notify_all(leads, _("Reply to %(ref)s awaits your approval", ref=ticket.reference), text,
               ticket_link(ticket), ticket=ticket.reference)


def reply_returned(ticket: Ticket, submitter: User, reason: str | None) -> None:
    """The handler whose reply the unit lead returned."""
    notify(submitter, _("Reply to %(ref)s returned by the unit lead", ref=ticket.reference),
           reason or "", ticket_link(ticket), ticket=ticket.reference)


def sent_back(ticket: Ticket, reason: str | None) -> None:
    """The reply goes back to the assignee for rework."""
    _assignee(ticket, _("Reply to %(ref)s sent back", ref=ticket.reference), reason or "")


def reopened(ticket: Ticket, reason: str | None) -> None:
    """The lead unit, if the ticket had one (a direct answer goes back to intake)."""
    if ticket.lead_unit is not None:
        _units(ticket, [ticket.lead_unit], _("Ticket %(ref)s reopened", ref=ticket.reference),
               reason or "")


def withdrawn(ticket: Ticket, reason: str | None) -> None:
    """The lead unit, if the ticket had reached one."""
    if ticket.lead_unit is not None:
        _units(ticket, [ticket.lead_unit], _("Ticket %(ref)s withdrawn", ref=ticket.reference),
               reason)


def urged(ticket: Ticket, reason: str | None) -> None:
    """The assignee (or the lead unit): the deadline is near or past."""
    _assignee(ticket, _("Reminder: ticket %(ref)s is due %(at)s", ref=ticket.reference,
                        at=local_text(ticket.due_at)), reason or ticket.title)


def supervised(ticket: Ticket, reason: str | None, due: datetime) -> None:
    """The assignee (or the lead unit): a supervision order and its answer time."""
    _assignee(ticket, _("Supervision order on ticket %(ref)s", ref=ticket.reference),
              _("%(reason)s\nAnswer by %(at)s", reason=reason, at=local_text(due)))


# -- how ---------------------------------------------------------------------------------------


def ticket_link(ticket: Ticket) -> str:
    """The ticket's staff page, as the in-app notification links it."""
    return path_for("tickets.detail", reference=ticket.reference)


def _unit_members(units) -> list[User]:
    ids = [u.id for u in units if u is not None]
    if not ids:
        return []
    return list(db.session.scalars(sa.select(User).where(
        User.unit_id.in_(ids), User.is_active.is_(True),
        User.role.in_([Role.HANDLER, Role.UNIT_LEAD]))))


def _units(ticket: Ticket, units, subject: str, body: str | None) -> None:
    notify_all(_unit_members(units), subject, body or "", ticket_link(ticket),
               ticket=ticket.reference)


def _assignee(ticket: Ticket, subject: str, body: str) -> None:
    if ticket.assignee is not None:
        notify(ticket.assignee, subject, body, ticket_link(ticket), ticket=ticket.reference)
    else:
        _units(ticket, [ticket.lead_unit], subject, body)


def _creator(ticket: Ticket, subject: str, body: str, actor=None) -> None:
    """The member of staff who recorded the ticket (from a visit, at intake, for a firm),
    unless they did this themselves; firm accounts are told as requesters."""
    creator = ticket.created_by
    if (creator is None or creator.role == Role.FIRM_USER or not creator.is_active
            or creator.id == getattr(actor, "id", None)):
        return
    notify(creator, subject, body, ticket_link(ticket), ticket=ticket.reference)


def _requester(ticket: Ticket, subject: str, body: str | None) -> None:
    firm_user = ticket.created_by
    if firm_user is not None and firm_user.role == Role.FIRM_USER:
        add_in_app(firm_user, subject, body or "", ticket_link(ticket))
    address = ticket.requester_email or getattr(ticket.created_by, "email", None)
    mail.queue(address, subject, body or "", ticket=ticket.reference)
