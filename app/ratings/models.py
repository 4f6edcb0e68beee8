"""好差评 (DOMAIN §4): the rating details of a ticket and the rectification a 差评 opens.

The level itself is the ticket's ``rating_level`` (set by the ``rate`` / ``record_follow_up``
transitions); :class:`Rating` adds what §4 needs around it — channel, comment, and the
evaluator, whom the rated unit and handler never see.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.clock import now_utc
from app.db import TimestampMixin, UTCDateTime, enum_type
from app.extensions import db

#: The five levels of 国办发〔2019〕51号, best first; 1–2 are 差评.
LEVEL_LABELS = {
    5: _l("Very satisfied"),
    4: _l("Satisfied"),
    3: _l("Basically satisfied"),
    2: _l("Dissatisfied"),
    1: _l("Very dissatisfied"),
}
BAD_LEVELS = frozenset({1, 2})


class RatingChannel(StrEnum):
    """How the rating reached us: online by the requester, or recorded by a dispatcher."""

    LINK = "link"
    PORTAL = "portal"
    PHONE = "phone"
    SMS = "sms"
    IN_PERSON = "in_person"


RATING_CHANNEL_LABELS = {
    RatingChannel.LINK: _l("Online (tracking link)"),
    RatingChannel.PORTAL: _l("Online (firm account)"),
    RatingChannel.PHONE: _l("Follow-up phone call"),
    RatingChannel.SMS: _l("Text message reply"),
    RatingChannel.IN_PERSON: _l("In person"),
}
#: Channels a dispatcher may record after a follow-up.
RECORDED_CHANNELS = (RatingChannel.PHONE, RatingChannel.SMS, RatingChannel.IN_PERSON)


class Rating(db.Model):
    """The details of a ticket's one rating (DOMAIN §4: one rating per ticket)."""

    __tablename__ = "ratings"
    __table_args__ = (
        sa.CheckConstraint(
            "channel IN ('link', 'portal') OR recorded_by_id IS NOT NULL",
            name="recorded_channel_has_recorder"),
        sa.Index("ix_ratings_unit_id_rated_at", "unit_id", "rated_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(sa.ForeignKey("tickets.id"), unique=True,
                                           nullable=False)
    channel: Mapped[RatingChannel] = mapped_column(enum_type(RatingChannel, "rating_channel"),
                                                   nullable=False)
    comment: Mapped[str | None] = mapped_column(sa.Text)
    #: The evaluator: a firm account, or the requester's name and mobile as given.
    evaluator_user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    evaluator_name: Mapped[str | None] = mapped_column(sa.String(64))
    evaluator_mobile: Mapped[str | None] = mapped_column(sa.String(20))
    recorded_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    #: The rated unit and handler at the time of rating.
    unit_id: Mapped[int | None] = mapped_column(sa.ForeignKey("units.id"))
    handler_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    rated_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=now_utc)

    ticket = relationship("Ticket", lazy="joined")
    unit = relationship("Unit", lazy="joined")

    @property
    def level(self) -> int | None:
        """The level stored on the ticket."""
        return self.ticket.rating_level

    @property
    def is_real_name(self) -> bool:
        """The evaluator can be called back (DOMAIN §4: every real-name 差评 is rectified)."""
        return bool(self.evaluator_user_id or (self.evaluator_name and self.evaluator_mobile))


class RectificationStatus(StrEnum):
    """Where a 差评 rectification stands."""

    AWAITING_CALLBACK = "awaiting_callback"
    AWAITING_CLASSIFICATION = "awaiting_classification"
    IN_PROGRESS = "in_progress"
    APPEALED = "appealed"
    AWAITING_FEEDBACK = "awaiting_feedback"
    CLOSED = "closed"


RECTIFICATION_STATUS_LABELS = {
    RectificationStatus.AWAITING_CALLBACK: _l("Awaiting call-back verification"),
    RectificationStatus.AWAITING_CLASSIFICATION: _l("Awaiting classification"),
    RectificationStatus.IN_PROGRESS: _l("Being rectified"),
    RectificationStatus.APPEALED: _l("Appeal under review"),
    RectificationStatus.AWAITING_FEEDBACK: _l("Awaiting the evaluator's feedback"),
    RectificationStatus.CLOSED: _l("Closed"),
}
OPEN_RECTIFICATION_STATES = frozenset(RectificationStatus) - {RectificationStatus.CLOSED}


class Classification(StrEnum):
    """What the responsible unit makes of a verified 差评."""

    FIX_NOW = "fix_now"
    FIX_BY_DEADLINE = "fix_by_deadline"
    EXPLAIN = "explain"
    APPEAL = "appeal"


CLASSIFICATION_LABELS = {
    Classification.FIX_NOW: _l("Fix now (立行立改)"),
    Classification.FIX_BY_DEADLINE: _l("Fix by a deadline (限期整改)"),
    Classification.EXPLAIN: _l("Explain (no legal basis)"),
    Classification.APPEAL: _l("Appeal (erroneous or malicious rating)"),
}


class FeedbackLevel(StrEnum):
    """The evaluator's rating of the rectification (DOMAIN §4: three levels)."""

    SATISFIED = "satisfied"
    BASICALLY_SATISFIED = "basically_satisfied"
    UNSATISFIED = "unsatisfied"


FEEDBACK_LEVEL_LABELS = {
    FeedbackLevel.SATISFIED: _l("Satisfied"),
    FeedbackLevel.BASICALLY_SATISFIED: _l("Basically satisfied"),
    FeedbackLevel.UNSATISFIED: _l("Unsatisfied"),
}


class RectificationExtension(StrEnum):
    """A request to extend the due date, decided by a supervisor."""

    REQUESTED = "requested"
    APPROVED = "approved"
    REJECTED = "rejected"


class Rectification(TimestampMixin, db.Model):
    """整改: opened by a real-name 差评, owned by the responsible unit (DOMAIN §4)."""

    __tablename__ = "rectifications"
    __table_args__ = (
        sa.CheckConstraint("(status = 'closed') = (closed_at IS NOT NULL)",
                           name="closed_has_closed_at"),
        sa.CheckConstraint("status = 'awaiting_callback' OR callback_at IS NOT NULL",
                           name="verified_has_callback"),
        sa.CheckConstraint(
            "status NOT IN ('in_progress', 'appealed', 'awaiting_feedback') "
            "OR classification IS NOT NULL", name="classified_has_classification"),
        sa.CheckConstraint("classification <> 'fix_by_deadline' OR plan IS NOT NULL",
                           name="deadline_fix_has_plan"),
        sa.CheckConstraint("status <> 'awaiting_feedback' OR result IS NOT NULL",
                           name="feedback_follows_result"),
        sa.CheckConstraint("due_days BETWEEN 1 AND 60", name="due_days_in_range"),
        sa.Index("ix_rectifications_status_due_at", "status", "due_at"),
        sa.Index("ix_rectifications_unit_id_status", "unit_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(sa.ForeignKey("tickets.id"), nullable=False)
    rating_id: Mapped[int] = mapped_column(sa.ForeignKey("ratings.id"), unique=True,
                                           nullable=False)
    unit_id: Mapped[int | None] = mapped_column(sa.ForeignKey("units.id"))
    status: Mapped[RectificationStatus] = mapped_column(
        enum_type(RectificationStatus, "rectification_status"), nullable=False,
        default=RectificationStatus.AWAITING_CALLBACK)
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=now_utc)
    #: Working days allowed from opening (5, up to 15 with a supervisor's approval) [cfg].
    due_days: Mapped[int] = mapped_column(sa.Integer, nullable=False)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)

    callback_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    callback_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    callback_note: Mapped[str | None] = mapped_column(sa.Text)

    classification: Mapped[Classification | None] = mapped_column(
        enum_type(Classification, "rectification_classification"))
    plan: Mapped[str | None] = mapped_column(sa.Text)
    classified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    classified_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))

    appeal_reason: Mapped[str | None] = mapped_column(sa.Text)
    appeal_upheld: Mapped[bool | None] = mapped_column(sa.Boolean)
    appeal_decision_reason: Mapped[str | None] = mapped_column(sa.Text)
    appeal_decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    appeal_decided_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))

    extension_status: Mapped[RectificationExtension | None] = mapped_column(
        enum_type(RectificationExtension, "rectification_extension"))
    extension_days: Mapped[int | None] = mapped_column(sa.Integer)
    extension_reason: Mapped[str | None] = mapped_column(sa.Text)
    extension_decided_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))

    result: Mapped[str | None] = mapped_column(sa.Text)
    resulted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resulted_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))

    feedback_level: Mapped[FeedbackLevel | None] = mapped_column(
        enum_type(FeedbackLevel, "rectification_feedback_level"))
    feedback_channel: Mapped[RatingChannel | None] = mapped_column(
        enum_type(RatingChannel, "rectification_feedback_channel"))
    feedback_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    version: Mapped[int] = mapped_column(sa.Integer, nullable=False)
    __mapper_args__ = {"version_id_col": version}

    ticket = relationship("Ticket", lazy="joined")
    rating = relationship("Rating", lazy="joined")
    unit = relationship("Unit", lazy="joined")

    def is_overdue(self, now: datetime | None = None) -> bool:
        """Open past its due date (the result was not recorded in time)."""
        return self.status in {RectificationStatus.AWAITING_CALLBACK,
                               RectificationStatus.AWAITING_CLASSIFICATION,
                               RectificationStatus.IN_PROGRESS,
                               RectificationStatus.APPEALED} and (now or now_utc()) > self.due_at

    def is_unit_member(self, user) -> bool:
        """The user belongs to the responsible unit."""
        return self.unit_id is not None and getattr(user, "unit_id", None) == self.unit_id

    def can_view(self, user) -> bool:
        """Service centre and supervisors see all; a unit sees its own rectifications."""
        from app.core.permissions import Permission as P

        if not getattr(user, "is_authenticated", False):
            return False
        if user.can(P.RECTIFICATION_SUPERVISE) or user.can(P.RECTIFICATION_CALLBACK):
            return True
        return user.can(P.RECTIFICATION_HANDLE) and self.is_unit_member(user)


class RatingSettings(db.Model):
    """Rectification limits of DOMAIN §4 [cfg]: one row, edited by administrators."""

    __tablename__ = "rating_settings"
    __table_args__ = (
        sa.CheckConstraint("id = 1", name="single_row"),
        sa.CheckConstraint("rectification_days >= 1", name="days_positive"),
        sa.CheckConstraint("rectification_max_days >= rectification_days",
                           name="max_not_below_default"),
    )

    id: Mapped[int] = mapped_column(primary_key=True, default=1)
    rectification_days: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=5)
    rectification_max_days: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=15)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=now_utc,
                                                 onupdate=now_utc)
