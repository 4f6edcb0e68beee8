"""Tickets (工单): intake, dispatch, handling, reply, follow-up and SLA (DOMAIN §3)."""

from flask import Blueprint

bp = Blueprint("tickets", __name__, url_prefix="/tickets")

from app.tickets import models  # noqa: E402,F401
