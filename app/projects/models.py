"""Key-enterprise full-lifecycle service projects (重点企业全周期服务, DOMAIN §6)."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.permissions import Permission
from app.db import TimestampMixin, UTCDateTime, enum_type
from app.extensions import db

#: DOMAIN §6: the stages seeded as the default template.
DEFAULT_STAGES = ["签约落地", "企业设立", "立项备案", "用地保障", "规划许可", "施工许可",
                  "竣工验收", "投产达产"]


class StageStatus(StrEnum):
    """Where a stage stands."""

    PENDING = "pending"
    IN_PROGRESS = "in_progress"
    DONE = "done"
    SKIPPED = "skipped"


STAGE_STATUS_LABELS = {
    StageStatus.PENDING: _l("Not started"),
    StageStatus.IN_PROGRESS: _l("In progress"),
    StageStatus.DONE: _l("Done"),
    StageStatus.SKIPPED: _l("Not applicable"),
}
#: Stages that need nothing more.
FINISHED_STAGE_STATES = frozenset({StageStatus.DONE, StageStatus.SKIPPED})


class StageTemplate(db.Model):
    """One stage of the lifecycle template [cfg]; new projects copy the active ones in order."""

    __tablename__ = "project_stage_templates"
    __table_args__ = (sa.CheckConstraint("default_days IS NULL OR default_days > 0",
                                         name="default_days_positive"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(60), unique=True, nullable=False)
    position: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=0)
    #: Calendar days after the previous stage's due date, used to propose due dates.
    default_days: Mapped[int | None] = mapped_column(sa.Integer)
    owner_unit_id: Mapped[int | None] = mapped_column(sa.ForeignKey("units.id"))
    is_active: Mapped[bool] = mapped_column(sa.Boolean, nullable=False, default=True)

    owner_unit = relationship("Unit", lazy="joined")


class Project(TimestampMixin, db.Model):
    """A service project of a key firm (e.g. a new investment), owned by its commissioner."""

    __tablename__ = "projects"
    __table_args__ = (
        sa.Index("ix_projects_firm_id", "firm_id"),
        sa.Index("ix_projects_commissioner_id", "commissioner_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    firm_id: Mapped[int] = mapped_column(sa.ForeignKey("firms.id"), nullable=False)
    name: Mapped[str] = mapped_column(sa.String(200), nullable=False)
    description: Mapped[str | None] = mapped_column(sa.Text)
    commissioner_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), nullable=False)
    started_on: Mapped[date] = mapped_column(sa.Date, nullable=False)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))

    firm = relationship("Firm", lazy="joined", innerjoin=True)
    commissioner = relationship("User", foreign_keys=[commissioner_id], lazy="joined")
    stages = relationship("ProjectStage", back_populates="project", lazy="selectin",
                          cascade="all, delete-orphan", order_by="ProjectStage.position")

    @property
    def current_stage(self) -> ProjectStage | None:
        """The first stage that still needs work."""
        return next((s for s in self.stages if s.status not in FINISHED_STAGE_STATES), None)

    def overdue_stages(self, today: date) -> list[ProjectStage]:
        """Unfinished stages past their due date."""
        return [s for s in self.stages if s.is_overdue(today)]

    def can_view(self, user) -> bool:
        """Supervisors and dispatchers see all; others the projects they serve or own a stage of.

        :func:`app.projects.queries.visibility_clause` is the same rule in SQL.
        """
        if user is None or not getattr(user, "is_authenticated", False):
            return False
        if user.can(Permission.PROJECT_VIEW_ALL):
            return True
        if not user.can(Permission.PROJECT_VIEW):
            return False
        return (self.commissioner_id == user.id
                or any(s.owner_unit_id == user.unit_id for s in self.stages))

    def can_manage(self, user) -> bool:
        """The commissioner, or a supervisor."""
        if not self.can_view(user):
            return False
        if user.can(Permission.PROJECT_MANAGE_ALL):
            return True
        return user.can(Permission.PROJECT_MANAGE) and self.commissioner_id == user.id


class ProjectStage(db.Model):
    """A stage of one project: owner unit, due date, status and completion date."""

    __tablename__ = "project_stages"
    __table_args__ = (
        sa.CheckConstraint("(status = 'done') = (completed_on IS NOT NULL)",
                           name="done_has_completed_on"),
        sa.Index("ix_project_stages_project_id", "project_id"),
        sa.Index("ix_project_stages_status_due_on", "status", "due_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(sa.ForeignKey("projects.id"), nullable=False)
    name: Mapped[str] = mapped_column(sa.String(60), nullable=False)
    position: Mapped[int] = mapped_column(sa.Integer, nullable=False)
    owner_unit_id: Mapped[int | None] = mapped_column(sa.ForeignKey("units.id"))
    due_on: Mapped[date | None] = mapped_column(sa.Date)
    status: Mapped[StageStatus] = mapped_column(enum_type(StageStatus, "project_stage_status"),
                                                nullable=False, default=StageStatus.PENDING)
    completed_on: Mapped[date | None] = mapped_column(sa.Date)
    note: Mapped[str | None] = mapped_column(sa.Text)

    project = relationship("Project", back_populates="stages")
    owner_unit = relationship("Unit", lazy="joined")

    def is_overdue(self, today: date) -> bool:
        """Not finished and past its due date."""
        return (self.status not in FINISHED_STAGE_STATES and self.due_on is not None
                and self.due_on < today)


class ProjectTicket(db.Model):
    """A ticket raised for a project, linked to the stage it belongs to."""

    __tablename__ = "project_tickets"
    __table_args__ = (sa.Index("ix_project_tickets_project_id", "project_id"),)

    ticket_id: Mapped[int] = mapped_column(sa.ForeignKey("tickets.id"), primary_key=True)
    project_id: Mapped[int] = mapped_column(sa.ForeignKey("projects.id"), nullable=False)
    stage_id: Mapped[int | None] = mapped_column(sa.ForeignKey("project_stages.id"))
    linked_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    linked_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))

    ticket = relationship("Ticket", lazy="joined", innerjoin=True)
    stage = relationship("ProjectStage", lazy="joined")


class ProjectEvent(db.Model):
    """One entry of the project timeline (stage changes, linked tickets, notes)."""

    __tablename__ = "project_events"
    __table_args__ = (sa.Index("ix_project_events_project_id_at", "project_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(sa.ForeignKey("projects.id"), nullable=False)
    stage_id: Mapped[int | None] = mapped_column(sa.ForeignKey("project_stages.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    action: Mapped[str] = mapped_column(sa.String(32), nullable=False)
    text: Mapped[str | None] = mapped_column(sa.Text)

    actor = relationship("User", lazy="joined")
    stage = relationship("ProjectStage", lazy="joined")
