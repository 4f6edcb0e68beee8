"""The filters of ``/admin/jobs`` (GET, no CSRF)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField, StringField

from app.core.forms import options
from app.core.rendering import translated
from app.jobs.definitions import all_definitions
from app.jobs.models import JOB_STATE_LABELS, JobState

#: The default view: what may need a person (waiting, running, retrying, failed).
ATTENTION = "attention"
#: Jobs run more than once (retried automatically or by an administrator).
RETRIED = "retried"
STATE_FILTERS = frozenset({ATTENTION, RETRIED, "", *(state.value for state in JobState)})


def _state_choices():
    labels = translated(JOB_STATE_LABELS)
    return options([(ATTENTION, _l("Needs attention")), ("", _l("All")),
                    *[(state.value, labels[state]) for state in JobState],
                    (RETRIED, _l("Retried"))])


def _kind_choices():
    return options([("", _l("All kinds")),
                    *[(d.kind, f"{d.label} ({d.kind})") for d in all_definitions()]])


class JobFilterForm(FlaskForm):
    """State, kind and a search in the requester's name, the error and the job number."""

    class Meta:
        csrf = False

    q = StringField(_l("Search"))
    state = SelectField(_l("State"), choices=_state_choices, default=ATTENTION)

    def state_filter(self) -> str:
        """The chosen state filter; anything unknown is the default view."""
        value = self.state.data if self.state.data is not None else ATTENTION
        return value if value in STATE_FILTERS else ATTENTION
    kind = SelectField(_l("Kind"), choices=_kind_choices)
