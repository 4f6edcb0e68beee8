"""The public portal: request form, status lookup, tracking link, firm accounts, 马上办 intake."""

from flask import Blueprint

bp = Blueprint("portal", __name__)

from app.portal import models, views  # noqa: E402,F401
