"""The SLA vocabulary of DOMAIN §3 (service mode, demand type, urgency) and of the engine itself.

Tickets import these enums from here, so a ticket's key into the policy table and the policy
table itself can never disagree on a spelling. Each enum has a lazy-gettext label map beside it.
"""

from __future__ import annotations

from enum import StrEnum

from flask_babel import lazy_gettext as _l


class ServiceMode(StrEnum):
    """How a ticket is served (DOMAIN §3)."""

    HANDLE_NOW = "handle_now"
    STANDARD = "standard"
    LIFECYCLE = "lifecycle"


SERVICE_MODE_LABELS = {
    ServiceMode.HANDLE_NOW: _l("Handle now"),
    ServiceMode.STANDARD: _l("Committed (standard)"),
    ServiceMode.LIFECYCLE: _l("Full-lifecycle service"),
}


class DemandType(StrEnum):
    """What the requester wants (DOMAIN §3)."""

    CONSULT = "consult"
    HELP = "help"
    COMPLAINT = "complaint"
    REPORT = "report"
    SUGGESTION = "suggestion"


DEMAND_TYPE_LABELS = {
    DemandType.CONSULT: _l("Consultation"),
    DemandType.HELP: _l("Request for help"),
    DemandType.COMPLAINT: _l("Complaint"),
    DemandType.REPORT: _l("Report"),
    DemandType.SUGGESTION: _l("Suggestion"),
}


class Urgency(StrEnum):
    """How fast it must move (DOMAIN §3)."""

    NORMAL = "normal"
    URGENT = "urgent"
    CRITICAL = "critical"


URGENCY_LABELS = {
    Urgency.NORMAL: _l("Normal"),
    Urgency.URGENT: _l("Urgent"),
    Urgency.CRITICAL: _l("Critical"),
}


class SlaStep(StrEnum):
    """A limited step of a ticket's life (the rows of DOMAIN §3.2's table)."""

    INTAKE = "intake"
    ACKNOWLEDGE = "acknowledge"
    RETURN_WINDOW = "return_window"
    HANDLE = "handle"
    REPLY_REVIEW = "reply_review"
    FOLLOW_UP = "follow_up"
    #: How long before the handling deadline the system urges (counted backwards).
    AUTO_URGE_LEAD = "auto_urge_lead"
    #: How long after the handling deadline the system opens a supervision order.
    AUTO_SUPERVISE_DELAY = "auto_supervise_delay"


SLA_STEP_LABELS = {
    SlaStep.INTAKE: _l("Intake → dispatch"),
    SlaStep.ACKNOWLEDGE: _l("Acknowledge"),
    SlaStep.RETURN_WINDOW: _l("Return window"),
    SlaStep.HANDLE: _l("Handle"),
    SlaStep.REPLY_REVIEW: _l("Reply review"),
    SlaStep.FOLLOW_UP: _l("Follow-up"),
    SlaStep.AUTO_URGE_LEAD: _l("Automatic urge, before the deadline"),
    SlaStep.AUTO_SUPERVISE_DELAY: _l("Automatic supervision, after the deadline"),
}


class LimitUnit(StrEnum):
    """How a step's limit is counted (DOMAIN §3.2)."""

    #: 次日起: end of the N-th working day after the start (fractions become office minutes).
    WORKING_DAYS = "working_days"
    #: Minutes inside office hours on working days.
    WORKING_MINUTES = "working_minutes"
    #: Clock minutes (critical urgency).
    NATURAL_MINUTES = "natural_minutes"
    #: End of the same working day, or of the next one when started after the cut-off time.
    SAME_WORKING_DAY = "same_working_day"


LIMIT_UNIT_LABELS = {
    LimitUnit.WORKING_DAYS: _l("working days"),
    LimitUnit.WORKING_MINUTES: _l("working minutes"),
    LimitUnit.NATURAL_MINUTES: _l("natural minutes"),
    LimitUnit.SAME_WORKING_DAY: _l("end of the same working day"),
}


class DayKind(StrEnum):
    """What a calendar day is (DOMAIN §3.2). ``normal`` and ``makeup_workday`` are working days."""

    NORMAL = "normal"
    WEEKEND = "weekend"
    HOLIDAY = "holiday"
    MAKEUP_WORKDAY = "makeup_workday"

    @property
    def is_workday(self) -> bool:
        """Whether a day of this kind is worked."""
        return self in (DayKind.NORMAL, DayKind.MAKEUP_WORKDAY)


DAY_KIND_LABELS = {
    DayKind.NORMAL: _l("Working day"),
    DayKind.WEEKEND: _l("Weekend"),
    DayKind.HOLIDAY: _l("Public holiday"),
    DayKind.MAKEUP_WORKDAY: _l("Make-up working day"),
}


class DaySource(StrEnum):
    """Where a calendar row came from; the seed command never overwrites an admin's row."""

    #: From the ``chinese-calendar`` package (the State Council's notices).
    PACKAGE = "package"
    #: Entered as the official schedule for a year the package does not know yet: read from
    #: the State Council notice (``flask calendar seed --from-file``) or confirmed by an admin
    #: publishing a provisional year (earlier: a year added with weekends only); replaced by
    #: the package's data once it knows the year.
    GENERATED = "generated"
    #: Set by an administrator, with a reason; never overwritten by seeding.
    ADMIN = "admin"
    #: Next year before its official schedule is published: weekends off plus the rule-based
    #: statutory holidays (``holidays`` package), no make-up working days guessed. Deadlines
    #: over these days are provisional and recomputed when the official days replace them.
    PROVISIONAL = "provisional"


DAY_SOURCE_LABELS = {
    DaySource.PACKAGE: _l("Official calendar package"),
    DaySource.GENERATED: _l("Entered as official for the year"),
    DaySource.ADMIN: _l("Changed by an administrator"),
    DaySource.PROVISIONAL: _l("Provisional (official schedule not yet published)"),
}


class SlaStatus(StrEnum):
    """The state of one deadline (DOMAIN §3.2)."""

    ON_TRACK = "on_track"
    DUE_SOON = "due_soon"
    OVERDUE = "overdue"
    MET = "met"
    MISSED = "missed"


SLA_STATUS_LABELS = {
    SlaStatus.ON_TRACK: _l("On track"),
    SlaStatus.DUE_SOON: _l("Due soon"),
    SlaStatus.OVERDUE: _l("Overdue"),
    SlaStatus.MET: _l("Met"),
    SlaStatus.MISSED: _l("Missed"),
}

#: Bootstrap colour of each status, for badges and countdowns.
SLA_STATUS_STYLES = {
    SlaStatus.ON_TRACK: "success",
    SlaStatus.DUE_SOON: "warning",
    SlaStatus.OVERDUE: "danger",
    SlaStatus.MET: "secondary",
    SlaStatus.MISSED: "dark",
}
