"""The filters of "My exports and imports" (GET, no CSRF)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField

from app.core.forms import options
from app.core.rendering import translated
from app.jobs.definitions import definition_of
from app.jobs.models import JOB_STATE_LABELS, JobState


def _kind_choices():
    from app.exports.files import FILE_KINDS

    return options([("", _l("All kinds")),
                    *sorted(((k, str(definition_of(k).label)) for k in FILE_KINDS),
                            key=lambda choice: choice[1])])


def _state_choices():
    labels = translated(JOB_STATE_LABELS)
    return options([("", _l("All")), *[(state.value, labels[state]) for state in JobState]])


class MyJobFilterForm(FlaskForm):
    """Kind and state."""

    class Meta:
        csrf = False

    kind = SelectField(_l("Kind"), choices=_kind_choices, default="")
    state = SelectField(_l("State"), choices=_state_choices, default="")
