"""Tickets (工单): intake, dispatch, handling, reply, follow-up and SLA (DOMAIN §3)."""

from flask import Blueprint
from flask_babel import lazy_gettext as _l

from app.core.caches import Store
from app.core.i18n import locale_name
from app.core.navigation import register_nav
from app.core.panels import FIRM_PAGE, register_panel
from app.core.permissions import Permission
from app.core.rendering import translated

bp = Blueprint("tickets", __name__, url_prefix="/tickets")

register_nav("tickets.index", _l("Tickets"), Permission.TICKET_VIEW, order=10)


@bp.context_processor
def _ticket_labels():
    from app.sla.enums import (
        DEMAND_TYPE_LABELS,
        SERVICE_MODE_LABELS,
        SLA_STATUS_LABELS,
        SLA_STATUS_STYLES,
        URGENCY_LABELS,
    )
    from app.tickets.models.enums import (
        CHANNEL_LABELS,
        EXTENSION_STATUS_LABELS,
        REPLY_APPROVAL_STATUS_LABELS,
        RETURN_STATUS_LABELS,
        STATUS_LABELS,
        SUPERVISION_STATUS_LABELS,
    )
    from app.tickets.system_texts import shown
    from app.tickets.workflow import EVENT_LABELS, PUBLIC_REASONS

    # Translated once per language and process, not once per row (app/core/rendering.py);
    # the set of them kept per language too, so a page looks its language up once, not 11 times.
    labels = {"status_labels": STATUS_LABELS, "event_labels": EVENT_LABELS,
              "channel_labels": CHANNEL_LABELS, "extension_labels": EXTENSION_STATUS_LABELS,
              "return_labels": RETURN_STATUS_LABELS,
              "reply_approval_labels": REPLY_APPROVAL_STATUS_LABELS,
              "supervision_labels": SUPERVISION_STATUS_LABELS, "sla_labels": SLA_STATUS_LABELS,
              "mode_labels": SERVICE_MODE_LABELS, "demand_labels": DEMAND_TYPE_LABELS,
              "urgency_labels": URGENCY_LABELS}
    translated_labels = _translated_labels.get(locale_name(), lambda: {
        name: translated(mapping) for name, mapping in labels.items()})
    return {**translated_labels, "public_reasons": PUBLIC_REASONS, "sla_styles": SLA_STATUS_STYLES,
            "system_text": shown}


#: language → the context's translated label mappings (:func:`_ticket_labels`).
_translated_labels = Store("tickets.context_labels", limit=16)


from app.tickets import catalogue_admin, cli, models, panels, provisional, views  # noqa: E402,F401

register_panel(FIRM_PAGE, "tickets", "tickets/_firm_panel.html", panels.firm_ticket_panel, order=10)
