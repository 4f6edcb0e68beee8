"""The working calendar, SLA policies and SLA settings: runtime-tunable rules kept in the database.

``WorkCalendarDay`` is the official calendar (DOMAIN §3.2), ``SlaPolicy`` holds the limits of
each step per service mode × demand type × urgency × complex flag, and ``SlaSettings`` is the
one row of office hours, extension rules and the revision tokens that tell every worker process
when its cached calendar or policy table has gone stale.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import TimestampMixin, UTCDateTime, enum_type
from app.extensions import db
from app.sla.calendar import OfficeHours
from app.sla.enums import DayKind, DaySource, DemandType, LimitUnit, ServiceMode, SlaStep, Urgency


def new_revision() -> str:
    """A random token: unlike a counter it can never repeat after a rolled-back change."""
    return secrets.token_hex(8)


class WorkCalendarDay(TimestampMixin, db.Model):
    """One date of the official calendar: worked or not, and why."""

    __tablename__ = "work_calendar_days"
    __table_args__ = (
        sa.CheckConstraint(
            "is_workday = (kind IN ('normal', 'makeup_workday'))", name="kind_matches_workday"
        ),
    )

    day: Mapped[date] = mapped_column(sa.Date, primary_key=True)
    is_workday: Mapped[bool] = mapped_column(sa.Boolean, nullable=False)
    kind: Mapped[DayKind] = mapped_column(enum_type(DayKind, "day_kind"), nullable=False)
    #: The holiday a day belongs to or makes up for, e.g. 春节.
    name: Mapped[str | None] = mapped_column(sa.String(50))
    #: Why an administrator changed the day (required for every manual change).
    note: Mapped[str | None] = mapped_column(sa.String(200))
    source: Mapped[DaySource] = mapped_column(
        enum_type(DaySource, "day_source"), nullable=False, default=DaySource.PACKAGE
    )
    updated_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))

    updated_by = relationship("User", foreign_keys=[updated_by_id])

    def __repr__(self) -> str:
        return f"<WorkCalendarDay {self.day} {self.kind}>"


@dataclass(frozen=True)
class Limit:
    """How long a step may take: an amount and how it is counted."""

    value: Decimal
    unit: LimitUnit
    #: ``value`` split once into whole units and the rest, so arithmetic needs no Decimal.
    whole: int = field(init=False, repr=False, compare=False)
    fraction: float = field(init=False, repr=False, compare=False)

    def __post_init__(self):
        whole = int(self.value)
        object.__setattr__(self, "whole", whole)
        object.__setattr__(self, "fraction", float(Decimal(self.value) - whole))


def _limit_columns(step: SlaStep):
    value = mapped_column(f"{step.value}_limit", sa.Numeric(8, 2), nullable=False)
    unit = mapped_column(f"{step.value}_unit", enum_type(LimitUnit, f"{step.value}_unit"),
                         nullable=False)
    return value, unit


class SlaPolicy(TimestampMixin, db.Model):
    """The limits of every step for one kind of ticket (DOMAIN §3.2 [cfg])."""

    __tablename__ = "sla_policies"
    __table_args__ = (
        sa.UniqueConstraint("service_mode", "demand_type", "urgency", "is_complex",
                            name="uq_sla_policies_key"),
        sa.CheckConstraint(
            "intake_limit >= 0 AND acknowledge_limit >= 0 AND return_window_limit >= 0 "
            "AND handle_limit >= 0 AND reply_review_limit >= 0 AND follow_up_limit >= 0 "
            "AND auto_urge_lead_limit >= 0 AND auto_supervise_delay_limit >= 0",
            name="limits_not_negative",
        ),
        sa.CheckConstraint(
            "due_soon_used_percent BETWEEN 1 AND 100", name="due_soon_percent_range"
        ),
        sa.CheckConstraint("due_soon_remaining_days >= 0", name="due_soon_days_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    service_mode: Mapped[ServiceMode] = mapped_column(
        enum_type(ServiceMode, "service_mode"), nullable=False
    )
    demand_type: Mapped[DemandType] = mapped_column(
        enum_type(DemandType, "demand_type"), nullable=False
    )
    urgency: Mapped[Urgency] = mapped_column(enum_type(Urgency, "urgency"), nullable=False)
    is_complex: Mapped[bool] = mapped_column(sa.Boolean, nullable=False, default=False)

    intake_limit, intake_unit = _limit_columns(SlaStep.INTAKE)
    acknowledge_limit, acknowledge_unit = _limit_columns(SlaStep.ACKNOWLEDGE)
    return_window_limit, return_window_unit = _limit_columns(SlaStep.RETURN_WINDOW)
    handle_limit, handle_unit = _limit_columns(SlaStep.HANDLE)
    reply_review_limit, reply_review_unit = _limit_columns(SlaStep.REPLY_REVIEW)
    follow_up_limit, follow_up_unit = _limit_columns(SlaStep.FOLLOW_UP)
    auto_urge_lead_limit, auto_urge_lead_unit = _limit_columns(SlaStep.AUTO_URGE_LEAD)
    auto_supervise_delay_limit, auto_supervise_delay_unit = _limit_columns(
        SlaStep.AUTO_SUPERVISE_DELAY
    )

    #: ``same_working_day`` limits roll to the next working day after this local time.
    same_day_cutoff: Mapped[time] = mapped_column(sa.Time, nullable=False, default=time(15, 0))
    #: Due soon when at most this many working days remain (day-based limits) …
    due_soon_remaining_days: Mapped[Decimal] = mapped_column(
        sa.Numeric(5, 2), nullable=False, default=Decimal(1)
    )
    #: … or when at least this share of the allowed time is used.
    due_soon_used_percent: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=75)
    updated_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))

    updated_by = relationship("User", foreign_keys=[updated_by_id])

    def limit(self, step: SlaStep | str) -> Limit:
        """The limit of one step."""
        step = SlaStep(step)
        return Limit(Decimal(getattr(self, f"{step.value}_limit")),
                     LimitUnit(getattr(self, f"{step.value}_unit")))

    def set_limit(self, step: SlaStep, limit: Limit) -> None:
        """Change the limit of one step."""
        setattr(self, f"{step.value}_limit", limit.value)
        setattr(self, f"{step.value}_unit", limit.unit)

    def snapshot(self) -> PolicyLimits:
        """A detached, immutable copy for caches and pure computations."""
        return PolicyLimits(
            limits={step: self.limit(step) for step in SlaStep},
            same_day_cutoff=self.same_day_cutoff,
            due_soon_remaining_days=Decimal(self.due_soon_remaining_days),
            due_soon_used_percent=self.due_soon_used_percent,
        )

    @property
    def key(self) -> tuple[ServiceMode, DemandType, Urgency, bool]:
        """What the policy applies to."""
        return (ServiceMode(self.service_mode), DemandType(self.demand_type),
                Urgency(self.urgency), bool(self.is_complex))

    def __repr__(self) -> str:
        return f"<SlaPolicy {self.id} {self.key}>"


@dataclass(frozen=True)
class PolicyLimits:
    """The same reading interface as :class:`SlaPolicy`, without a database session."""

    limits: dict[SlaStep, Limit]
    same_day_cutoff: time = time(15, 0)
    due_soon_remaining_days: Decimal = Decimal(1)
    due_soon_used_percent: int = 75

    def limit(self, step: SlaStep) -> Limit:
        """The limit of one step."""
        return self.limits[step]


class SlaSettings(db.Model):
    """The single row of SLA settings: office hours, workflow rules, cache revisions."""

    __tablename__ = "sla_settings"
    __table_args__ = (
        sa.CheckConstraint("id = 1", name="single_row"),
        sa.CheckConstraint(
            "morning_start < morning_end AND morning_end <= afternoon_start "
            "AND afternoon_start < afternoon_end",
            name="office_hours_ordered",
        ),
        sa.CheckConstraint(
            "extension_max_requests >= 0 AND extension_max_total_days >= 0 "
            "AND extension_request_lead_days >= 0",
            name="extension_rules_not_negative",
        ),
        sa.CheckConstraint("reopen_limit >= 0 AND supervision_order_days >= 1",
                           name="workflow_rules_in_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True, default=1)
    morning_start: Mapped[time] = mapped_column(sa.Time, nullable=False, default=time(8, 30))
    morning_end: Mapped[time] = mapped_column(sa.Time, nullable=False, default=time(12, 0))
    afternoon_start: Mapped[time] = mapped_column(sa.Time, nullable=False, default=time(13, 30))
    afternoon_end: Mapped[time] = mapped_column(sa.Time, nullable=False, default=time(17, 30))
    #: DOMAIN §3.1: at most 2 extension requests, ≤ 10 WD in total, asked ≥ 1 WD before.
    extension_max_requests: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=2)
    extension_max_total_days: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=10)
    extension_request_lead_days: Mapped[int] = mapped_column(sa.Integer, nullable=False,
                                                             default=1)
    #: DOMAIN §3.1 [cfg]: after this many reopens only a supervisor may reopen again.
    reopen_limit: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=2,
                                              server_default="2")
    #: Working days a supervision order (督办单) gives the unit to answer, when the supervisor
    #: sets no date and for the orders the scan issues automatically.
    supervision_order_days: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=3,
                                                        server_default="3")
    #: DOMAIN §3.1 [cfg] "unit lead approves where policy says": when set, a handler's reply
    #: waits for the unit lead's approval before it reaches the dispatcher.
    reply_needs_unit_lead_approval: Mapped[bool] = mapped_column(
        sa.Boolean, nullable=False, default=False, server_default=sa.false())
    #: Changed with every calendar edit so each worker process reloads its cached calendar.
    calendar_revision: Mapped[str] = mapped_column(sa.String(32), nullable=False,
                                                   default=new_revision)
    #: Changed with every policy or office-hours edit, for the same reason.
    policy_revision: Mapped[str] = mapped_column(sa.String(32), nullable=False,
                                                 default=new_revision)
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))

    @property
    def office_hours(self) -> OfficeHours:
        """The office periods as the calendar arithmetic uses them."""
        return OfficeHours(((self.morning_start, self.morning_end),
                            (self.afternoon_start, self.afternoon_end)))
