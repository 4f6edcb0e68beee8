"""The ticket page's timeline as rows of plain data, for the ``timeline`` macro
(``templates/tickets/_timeline.html``).

Everything a row shows is worked out here once per row — the formatted time, who acted (or
"System", or "The evaluator" for a rating the reader may not attribute), the action's label,
the status change, and which texts the reader may see — so the macro only writes it out:
no look-ups, filters or translations per row in the template, and Jinja's autoescape escapes
every value. The markup itself lives in the template, where a designer edits it.
"""

from __future__ import annotations

from typing import NamedTuple

from app.core.i18n import request_translations
from app.core.rendering import short_datetimes, translated
from app.tickets.models.enums import STATUS_LABELS
from app.tickets.system_texts import shown
from app.tickets.workflow import EVENT_LABELS, PUBLIC_REASONS


class Entry(NamedTuple):
    """One line of the timeline, in the order the macro unpacks it."""

    is_event: bool
    #: when, as the reader's language writes a short date and time
    at: str
    #: who acted or wrote; for an event never empty ("System" when nobody)
    who: str
    #: the action's label (events only)
    label: str
    #: the status before and after, when the event changed it (else both empty); a status
    #: no label names (an old row's) shows as stored, as an unknown action does
    before: str
    after: str
    #: the reason or comment the reader may see, in the reader's language if the system wrote it
    text: str | None
    #: what the firm was asked to supply (a suspension only)
    missing: str | None
    #: a staff-only comment
    internal: bool


def entries(rows, staff: bool, sees_evaluator: bool) -> list[Entry]:
    """The timeline ``rows`` (events and comments of
    :func:`app.tickets.queries.ticket_records`) as the reader sees them. ``staff`` readers see
    every reason; others only the reasons written for the requester (:data:`PUBLIC_REASONS`).
    A rating names its author only to ``sees_evaluator``."""
    gettext = request_translations().ugettext
    # catalogue texts, named literally so that the message extraction finds them
    evaluator, system = gettext("The evaluator"), gettext("System")
    event_labels, status_labels = translated(EVENT_LABELS), translated(STATUS_LABELS)
    short = short_datetimes()
    shown_rows = []
    for row in rows:
        if row.kind != "event":
            shown_rows.append(Entry(False, short(row.at), row.who or "", "", "", "",
                                    shown(row.text, gettext) or "", None,
                                    row.visibility != "public"))
            continue
        action = row.action
        before = after = ""
        if row.from_status and row.to_status and row.from_status != row.to_status:
            before = status_labels.get(row.from_status, row.from_status)
            after = status_labels.get(row.to_status, row.to_status)
        text = (shown(row.text, gettext) if row.text and (staff or action in PUBLIC_REASONS)
                else None)
        missing = (row.data.get("missing_info") or None
                   if action == "suspend" and row.data else None)
        shown_rows.append(Entry(
            True, short(row.at),
            evaluator if action == "rate" and not sees_evaluator else row.who or system,
            event_labels.get(action) or action, before, after, text, missing, False))
    return shown_rows
