"""The public portal: request form, status lookup, tracking link, firm accounts, 马上办 intake."""

from flask import Blueprint

from app.core.panels import ANSWER_DIALOG, register_panel

bp = Blueprint("portal", __name__)

# The answer box offers the snippets; the template asks for them when the dialog is shown.
register_panel(ANSWER_DIALOG, "snippets", "portal/_snippet_picker.html")

from app.portal import models, views  # noqa: E402,F401
