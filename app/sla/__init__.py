"""The SLA engine: the official working calendar, SLA policies and deadline arithmetic.

Public API (what ticket code uses)::

    from app.sla.enums import ServiceMode, DemandType, Urgency, SlaStep, SlaStatus, LimitUnit
    from app.sla.calendar import WorkCalendar, CalendarNotConfigured, OfficeHours
    from app.sla.services import (load_calendar, load_office_hours, policy_for, policy_limits,
                                  PolicyNotConfigured, calendar_alert)
    from app.sla import deadlines

    calendar = load_calendar()                 # cached per process; reloaded after an admin edit
    office = load_office_hours()               # 08:30–12:00, 13:30–17:30 by default
    policy = policy_limits(mode, demand, urgency, is_complex)  # cached; policy_for() = the row
    due = deadlines.compute_deadline(SlaStep.HANDLE, dispatched_at, policy, calendar, office)
    urge = deadlines.urge_at(due, policy, calendar, office)          # when to auto-urge
    supervise = deadlines.supervise_at(due, policy, calendar, office)  # when to auto-supervise
    due = deadlines.extend_deadline(due, 3, calendar)                # approved extension
    due = deadlines.shift_for_pause(due, suspended_at, resumed_at, calendar,
                                    policy.limit(SlaStep.HANDLE).unit, office)
    status = deadlines.policy_status(SlaStep.HANDLE, due, now, dispatched_at, completed_at,
                                     policy, calendar, office)       # on_track … missed
    left = deadlines.remaining_time(due, now, calendar, unit, office)  # seconds, for countdowns
    margin = deadlines.deadline_margin(due, completed_at, calendar, unit, office)

All instants are aware UTC in and out; days are counted in Asia/Shanghai. A computation that
needs a year with no calendar rows raises ``CalendarNotConfigured(year)`` — show it, never guess.
The ``flask sla`` command group lives in :mod:`app.sla.cli` (``sla_cli``); other packages may add
commands to it (e.g. ``scan``). Admin pages: ``sla.calendar`` and ``sla.policies``.
"""

from flask import Blueprint

bp = Blueprint("sla", __name__, url_prefix="/admin")

from app.sla import views  # noqa: E402,F401
