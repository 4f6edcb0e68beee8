"""好差评 ratings and 差评 rectification (DOMAIN §4)."""

from flask import Blueprint

bp = Blueprint("ratings", __name__, url_prefix="/ratings")

from app.ratings import models, views  # noqa: E402,F401
