"""好差评 ratings and 差评 rectification (DOMAIN §4)."""

from flask import Blueprint

from app.core.panels import FIRM_PAGE, register_panel

bp = Blueprint("ratings", __name__, url_prefix="/ratings")

from app.ratings import models, panels, views  # noqa: E402,F401

register_panel(FIRM_PAGE, "ratings", "ratings/_firm_panel.html", panels.firm_rating_panel, order=20)
