"""Audit log filters (GET, no CSRF)."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, SelectField, StringField
from wtforms.validators import Optional

from app.core.forms import options


class AuditFilterForm(FlaskForm):
    """Who, what, outcome and a date range (local dates, Asia/Shanghai)."""

    class Meta:
        csrf = False

    actor = StringField(_l("User"))
    action = StringField(_l("Action"))
    object_type = StringField(_l("Object type"))
    success = SelectField(_l("Outcome"), choices=options([("", _l("All")), ("1", _l("Succeeded")),
                                                          ("0", _l("Failed"))]))
    date_from = DateField(_l("From"), validators=[Optional()])
    date_to = DateField(_l("To"), validators=[Optional()])
