"""Loading, seeding and editing the calendar, the SLA policies and the SLA settings.

Reading is cached twice: per process by revision token (``SlaSettings.calendar_revision`` /
``policy_revision``, changed by every edit, so every gunicorn worker notices an edit on its next
request) and per request in ``flask.g`` (so a page costs at most one small query for it).
Services flush; the caller commits.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, time, timedelta
from decimal import Decimal

import sqlalchemy as sa
from flask import g, has_app_context
from flask_babel import gettext as _

from app.core import audit
from app.core.caches import Cache, memo, request_cache
from app.core.clock import now_utc, today_local
from app.core.errors import ValidationFailed
from app.core.links import path_for
from app.extensions import db
from app.sla.calendar import OfficeHours, WorkCalendar, local_end_of_day
from app.sla.enums import (
    DayKind,
    DaySource,
    DemandType,
    LimitUnit,
    ServiceMode,
    SlaStep,
    Urgency,
)
from app.sla.models import (
    Limit,
    PolicyLimits,
    SlaPolicy,
    SlaSettings,
    WorkCalendarDay,
    new_revision,
)

logger = logging.getLogger("ruyi.sla")

#: From this (month, day) admins and supervisors are warned while next year's official
#: schedule is not in the calendar (it is published in October or November).
CALENDAR_WARNING_FROM = (10, 1)

PolicyKey = tuple[ServiceMode, DemandType, Urgency, bool]


class PolicyNotConfigured(LookupError):
    """No SLA policy row exists for a kind of ticket (run ``flask sla seed-policies``)."""

    def __init__(self, key: PolicyKey):
        self.key = key
        super().__init__(f"No SLA policy for {key}; run 'flask sla seed-policies'.")


# -- settings ------------------------------------------------------------------------------


def get_settings() -> SlaSettings:
    """The one settings row (the migration creates it; recreated with defaults if missing).

    It is also what :func:`load_settings` gives for the rest of the request, so a change
    made to it is what the request's rules then read.
    """
    settings = db.session.get(SlaSettings, 1)
    if settings is None:
        settings = SlaSettings(id=1)
        db.session.add(settings)
        db.session.flush()
    if has_app_context():
        g._sla_settings = settings
    return settings


def load_settings() -> SlaSettings:
    """The settings row for this request: office hours (``.office_hours``) and extension rules.

    To read only: unless the request loaded the row itself (:func:`get_settings`, to change
    it), this is a copy the process keeps while the row is unchanged — one plain SELECT per
    request, without the ORM's load of the row, which cost more CPU than the query (it runs on
    every public submission).
    """
    return _per_request("settings", _read_settings)


_SETTINGS_ROW = sa.select(SlaSettings.__table__).where(SlaSettings.__table__.c.id == 1)


def _read_settings() -> SlaSettings:
    row = db.session.connection().execute(_SETTINGS_ROW).one_or_none()
    if row is None:
        return get_settings()
    return _cached("settings", tuple(row), lambda: SlaSettings(**row._asdict()))


def assume_known_settings() -> dict[str, str] | None:
    """For a write that checks them in its own statement (:func:`unchanged`): the settings this
    process read last become the request's without reading the row, and their revisions are
    returned as that check's parameters. ``None`` if the process has read none yet (the row
    is then read as usual). A write refused by the check calls :func:`forget_known_settings`
    and computes again from the row."""
    cached = _process_cache.get("settings")
    if cached is None or not has_app_context():
        return None
    settings = cached[1]
    g._sla_settings = settings
    return {"sla_calendar_revision": settings.calendar_revision,
            "sla_policy_revision": settings.policy_revision}


def forget_known_settings() -> None:
    """The settings assumed by :func:`assume_known_settings` were not the stored ones: read
    everything again."""
    _process_cache.pop("settings", None)
    _forget_request_values()


#: True while the stored revisions are those of :func:`assume_known_settings` (parameters
#: ``sla_calendar_revision`` and ``sla_policy_revision``): every deadline computed from the
#: kept calendar and policies is then the one the stored configuration gives.
unchanged = sa.exists().where(
    SlaSettings.__table__.c.id == 1,
    SlaSettings.__table__.c.calendar_revision == sa.bindparam("sla_calendar_revision"),
    SlaSettings.__table__.c.policy_revision == sa.bindparam("sla_policy_revision"))


def _revisions() -> tuple[str, str]:
    """The revision tokens, from the request's settings row: one query for settings, calendar
    and policies together."""
    settings = load_settings()
    return settings.calendar_revision, settings.policy_revision


def _per_request(name: str, build: Callable):
    """Memoise a value for the current request (or app context)."""
    if not has_app_context():
        return build()
    key = f"_sla_{name}"
    if key not in g:
        setattr(g, key, build())
    return getattr(g, key)


def _forget_request_values() -> None:
    if has_app_context():
        for name in ("calendar", "policies", "office_hours", "settings"):
            g.pop(f"_sla_{name}", None)


#: name → (the revision it was read at, the value): the calendar, the policies, the settings.
_process_cache: dict[str, tuple[object, object]] = {}
Cache("sla.configuration", clear=_process_cache.clear, size=lambda: len(_process_cache))
request_cache("sla.request_values", lambda: g._get_current_object(),
              tuple(f"_sla_{name}" for name in ("calendar", "policies", "office_hours",
                                                 "settings")))


def _cached(name: str, revision: object, build: Callable):
    cached = _process_cache.get(name)
    if cached is not None and cached[0] == revision:
        return cached[1]
    value = build()
    _process_cache[name] = (revision, value)
    return value


# -- reading -------------------------------------------------------------------------------


def load_calendar() -> WorkCalendar:
    """The working calendar of every configured year, cached until an admin edits a day.

    This year and next year, if the database has no days for them, are covered by provisional
    days computed in memory (:func:`provisional_year`); they are stored the first time a
    deadline over them is stored (:func:`store_provisional_years`). A year beyond next, or a
    past year, still raises :class:`~app.sla.calendar.CalendarNotConfigured`.
    """
    def build():
        today = today_local()
        revision = _revisions()[0]
        return _cached("calendar", (revision, today.year),
                       lambda: _read_calendar(provisional_candidates(today)))

    return _per_request("calendar", build)


def provisional_candidates(today: date | None = None) -> tuple[int, int]:
    """The years provisional days may cover: this year and next (DOMAIN §3.2)."""
    today = today or today_local()
    return today.year, today.year + 1


def _read_calendar(candidates: Iterable[int] = ()) -> WorkCalendar:
    rows = db.session.execute(sa.select(
        WorkCalendarDay.day, WorkCalendarDay.is_workday,
        WorkCalendarDay.source == DaySource.PROVISIONAL))
    days, stored, provisional = [], set(), set()
    for day, is_workday, is_provisional in rows:
        days.append((day, bool(is_workday)))
        stored.add(day.year)
        if is_provisional:
            provisional.add(day.year)
    unsaved = [year for year in candidates if year not in stored]
    for year in unsaved:
        days.extend((data.day, data.kind.is_workday) for data in provisional_year(year))
    return WorkCalendar(days, provisional | set(unsaved), unsaved)


def load_office_hours() -> OfficeHours:
    """The configured office hours (08:30–12:00, 13:30–17:30 unless an admin changed them)."""
    return _per_request("office_hours", lambda: get_settings().office_hours)


def load_policies() -> dict[PolicyKey, PolicyLimits]:
    """Every policy as an immutable snapshot, cached until an admin edits one."""
    def build():
        revision = _revisions()[1]
        return _cached("policies", revision, _read_policies)

    return _per_request("policies", build)


def _read_policies() -> dict[PolicyKey, PolicyLimits]:
    return {p.key: p.snapshot() for p in db.session.scalars(sa.select(SlaPolicy))}


def policy_for(service_mode: ServiceMode | str, demand_type: DemandType | str,
               urgency: Urgency | str, is_complex: bool = False) -> SlaPolicy:
    """The policy row for one kind of ticket (raises :class:`PolicyNotConfigured`)."""
    key = _key(service_mode, demand_type, urgency, is_complex)
    policy = db.session.scalar(sa.select(SlaPolicy).where(
        SlaPolicy.service_mode == key[0], SlaPolicy.demand_type == key[1],
        SlaPolicy.urgency == key[2], SlaPolicy.is_complex == key[3],
    ))
    if policy is None:
        raise PolicyNotConfigured(key)
    return policy


def policy_limits(service_mode: ServiceMode | str, demand_type: DemandType | str,
                  urgency: Urgency | str, is_complex: bool = False) -> PolicyLimits:
    """Like :func:`policy_for` but from the cache: no query when nothing changed."""
    key = _key(service_mode, demand_type, urgency, is_complex)
    try:
        return load_policies()[key]
    except KeyError:
        raise PolicyNotConfigured(key) from None


def _key(service_mode, demand_type, urgency, is_complex) -> PolicyKey:
    return (ServiceMode(service_mode), DemandType(demand_type), Urgency(urgency),
            bool(is_complex))


@dataclass(frozen=True)
class CalendarGap:
    """A year deadlines need now whose official schedule the calendar does not have."""

    year: int
    #: Covered by provisional days (else it has no days at all and deadlines in it fail).
    provisional: bool


def calendar_gaps(today: date | None = None) -> list[CalendarGap]:
    """This year, and from 1 October next year, when not entered from the official schedule.

    The State Council publishes next year's schedule in October or November; from 1 October
    admins and supervisors are told while next year has only provisional days or none.
    """
    today = today or today_local()
    needed = [today.year]
    if (today.month, today.day) >= CALENDAR_WARNING_FROM:
        needed.append(today.year + 1)
    calendar = load_calendar()
    return [CalendarGap(year, year in calendar.provisional_years) for year in needed
            if year in calendar.provisional_years or year not in calendar.years]


def missing_calendar_years(today: date | None = None) -> list[int]:
    """The years of :func:`calendar_gaps` (provisional or without days)."""
    return [gap.year for gap in calendar_gaps(today)]


_alerts_logged: set[tuple[date, int]] = set()
Cache("sla.calendar_alerts", clear=_alerts_logged.clear, size=lambda: len(_alerts_logged))


def calendar_alert(today: date | None = None) -> list[CalendarGap]:
    """:func:`calendar_gaps`, logged as a warning for operators (once a day a year)."""
    today = today or today_local()
    gaps = calendar_gaps(today)
    for gap in gaps:
        if (today, gap.year) not in _alerts_logged:
            _alerts_logged.add((today, gap.year))
            if gap.provisional:
                logger.warning("working calendar %s is provisional: the official holiday "
                               "schedule is not entered yet", gap.year)
            else:
                logger.warning("working calendar not configured for %s; enter it on the "
                               "admin calendar page", gap.year)
    return gaps


def calendar_keepers() -> list:
    """Active users who may edit the working calendar."""
    from app.auth.models import User
    from app.core.permissions import ROLE_PERMISSIONS, Permission

    roles = [role for role, rights in ROLE_PERMISSIONS.items()
             if Permission.CALENDAR_MANAGE in rights]
    return list(db.session.scalars(sa.select(User).where(
        User.role.in_(roles), User.is_active.is_(True)).order_by(User.id)))


def alert_calendar_missing(year: int, where: str = "") -> bool:
    """Tell operators (log) and administrators (a notification, at most one a day a year)
    that a deadline needed a year with no working days at all; returns whether a notification
    was added (the caller commits it). Nothing is guessed meanwhile."""
    from flask import current_app
    from flask_babel import force_locale

    from app.notifications.models import Notification
    from app.notifications.services import notify_all

    logger.error("deadline not computed%s: no working calendar for %s",
                 f" on {where}" if where else "", year)
    with force_locale(current_app.config.get("BABEL_DEFAULT_LOCALE", "zh_Hans_CN")):
        subject = _("Working calendar missing for %(year)s", year=year)
        text = _("A deadline reaching into %(year)s could not be computed: the working calendar "
                 "has no days for it. Enter %(year)s on the calendar page; the affected "
                 "tickets show no date until then.", year=year)
    since = local_end_of_day(today_local() - timedelta(days=1))
    if db.session.scalar(sa.select(Notification.id).where(
            Notification.subject == subject, Notification.created_at > since).limit(1)):
        return False
    admins = calendar_keepers()
    notify_all(admins, subject, text, path_for("sla.calendar", year=year), kind="calendar.missing")
    audit.append("calendar.missing_year", object_type="work_calendar_days", object_id=year,
                 success=False, details={"year": year, "where": where})
    return bool(admins)


def _bump(calendar: bool = False, policies: bool = False) -> None:
    settings = get_settings()
    if calendar:
        settings.calendar_revision = new_revision()
    if policies:
        settings.policy_revision = new_revision()
    db.session.flush()
    _forget_request_values()


# -- default policies ----------------------------------------------------------------------

WD, WM, NM, SAME = (LimitUnit.WORKING_DAYS, LimitUnit.WORKING_MINUTES,
                    LimitUnit.NATURAL_MINUTES, LimitUnit.SAME_WORKING_DAY)


def _limit(value, unit: LimitUnit) -> Limit:
    return Limit(Decimal(str(value)), unit)


def default_limits(service_mode: ServiceMode, demand_type: DemandType, urgency: Urgency,
                   is_complex: bool) -> dict[SlaStep, Limit]:
    """DOMAIN §3.2's default table for one kind of ticket.

    Same-day handling (马上办, urgent, critical) takes precedence over the complex flag; its
    auto-urge comes 2 working hours before the deadline, a value DOMAIN leaves open.
    """
    same_day = service_mode == ServiceMode.HANDLE_NOW or urgency != Urgency.NORMAL
    acknowledge = {Urgency.NORMAL: _limit(1, WD), Urgency.URGENT: _limit(120, WM),
                   Urgency.CRITICAL: _limit(30, NM)}[urgency]
    if same_day:
        handle, urge = _limit(0, SAME), _limit(120, WM)
    elif is_complex:
        handle, urge = _limit(15, WD), _limit(3, WD)
    elif demand_type == DemandType.CONSULT:
        handle, urge = _limit(3, WD), _limit(1, WD)
    else:
        handle, urge = _limit(5, WD), _limit(2, WD)
    return {
        SlaStep.INTAKE: _limit("0.5", WD),
        SlaStep.ACKNOWLEDGE: acknowledge,
        SlaStep.RETURN_WINDOW: _limit(1, WD),
        SlaStep.HANDLE: handle,
        SlaStep.REPLY_REVIEW: _limit(1, WD),
        SlaStep.FOLLOW_UP: _limit(2, WD),
        SlaStep.AUTO_URGE_LEAD: urge,
        SlaStep.AUTO_SUPERVISE_DELAY: _limit(1, WD),
    }


def all_policy_keys() -> Iterable[PolicyKey]:
    """Every service mode × demand type × urgency × complex flag."""
    for mode in ServiceMode:
        for demand in DemandType:
            for urgency in Urgency:
                for is_complex in (False, True):
                    yield mode, demand, urgency, is_complex


def seed_policies(actor=None) -> int:
    """Create the missing policies with DOMAIN's defaults; existing (edited) rows are kept."""
    existing = {p.key for p in db.session.scalars(sa.select(SlaPolicy))}
    created = 0
    for key in all_policy_keys():
        if key in existing:
            continue
        policy = SlaPolicy(service_mode=key[0], demand_type=key[1], urgency=key[2],
                           is_complex=key[3], same_day_cutoff=time(15, 0),
                           due_soon_remaining_days=Decimal(1), due_soon_used_percent=75)
        for step, limit in default_limits(*key).items():
            policy.set_limit(step, limit)
        db.session.add(policy)
        created += 1
    if created:
        db.session.flush()
        audit.record("sla.policies_seed", actor=actor, object_type="sla_policies",
                     details={"created": created})
        _bump(policies=True)
    return created


# -- editing policies and settings ---------------------------------------------------------


@dataclass(frozen=True)
class PolicyData:
    """What an admin may change on a policy."""

    limits: dict[SlaStep, Limit]
    same_day_cutoff: time
    due_soon_remaining_days: Decimal
    due_soon_used_percent: int


#: Units that make sense for each step (an urge lead cannot be "end of the same day").
ALLOWED_UNITS = {
    step: frozenset({WD, WM, NM} | ({SAME} if step in (SlaStep.ACKNOWLEDGE, SlaStep.HANDLE,
                                                       SlaStep.INTAKE, SlaStep.REPLY_REVIEW,
                                                       SlaStep.FOLLOW_UP) else set()))
    for step in SlaStep
}

#: Upper bounds that catch typing slips (150 instead of 15) without forbidding real policies.
MAX_VALUES = {WD: Decimal(250), WM: Decimal(60 * 24 * 30), NM: Decimal(60 * 24 * 60),
              SAME: Decimal(0)}


def validate_limit(step: SlaStep, limit: Limit) -> str | None:
    """Why a limit is unacceptable for a step, or ``None``."""
    if limit.unit not in ALLOWED_UNITS[step]:
        return _("This unit cannot be used for this step.")
    if limit.value < 0 or limit.value > MAX_VALUES[limit.unit]:
        return _("The value must be between 0 and %(max)s.", max=MAX_VALUES[limit.unit])
    if limit.unit in (WM, NM) and limit.value != int(limit.value):
        return _("Minutes must be a whole number.")
    if limit.unit == WD and (limit.value * 2) != int(limit.value * 2):
        return _("Working days must be whole or half days.")
    if limit.unit != SAME and limit.value == 0 and step not in (SlaStep.AUTO_URGE_LEAD,
                                                                SlaStep.AUTO_SUPERVISE_DELAY):
        return _("A limit of zero would be overdue at once.")
    return None


def update_policy(policy: SlaPolicy, data: PolicyData, actor) -> SlaPolicy:
    """Change a policy's limits (validated, audited with before and after)."""
    errors = {step.value: message for step, limit in data.limits.items()
              if (message := validate_limit(step, limit))}
    if errors:
        raise ValidationFailed("; ".join(errors.values()))
    before = _policy_values(policy)
    for step, limit in data.limits.items():
        policy.set_limit(step, limit)
    policy.same_day_cutoff = data.same_day_cutoff
    policy.due_soon_remaining_days = data.due_soon_remaining_days
    policy.due_soon_used_percent = data.due_soon_used_percent
    policy.updated_by_id = getattr(actor, "id", None)
    db.session.flush()
    after = _policy_values(policy)
    changes = {k: [before[k], after[k]] for k in after if before[k] != after[k]}
    audit.record("sla.policy_update", actor=actor, obj=policy,
                 details={"key": [str(v) for v in policy.key], "changes": changes})
    _bump(policies=True)
    return policy


def _policy_values(policy: SlaPolicy) -> dict[str, str]:
    values = {step.value: f"{policy.limit(step).value.normalize():f} {policy.limit(step).unit}"
              for step in SlaStep}
    values["same_day_cutoff"] = policy.same_day_cutoff.strftime("%H:%M")
    values["due_soon_remaining_days"] = f"{Decimal(policy.due_soon_remaining_days):f}"
    values["due_soon_used_percent"] = str(policy.due_soon_used_percent)
    return values


@dataclass(frozen=True)
class SettingsData:
    """Office hours, extension rules and the workflow rules DOMAIN §3.1 marks [cfg]."""

    morning_start: time
    morning_end: time
    afternoon_start: time
    afternoon_end: time
    extension_max_requests: int
    extension_max_total_days: int
    extension_request_lead_days: int
    reopen_limit: int = 2
    supervision_order_days: int = 3
    reply_needs_unit_lead_approval: bool = False


def update_settings(data: SettingsData, actor) -> SlaSettings:
    """Change office hours, extension or workflow rules (validated, audited before/after)."""
    if not (data.morning_start < data.morning_end <= data.afternoon_start < data.afternoon_end):
        raise ValidationFailed(_("Office periods must be in order: morning start, morning end, "
                                 "afternoon start, afternoon end."))
    if data.reopen_limit < 0 or data.supervision_order_days < 1:
        raise ValidationFailed(_("The reopen limit must be 0 or more and a supervision order "
                                 "must allow at least 1 working day."))
    settings = get_settings()
    fields = list(SettingsData.__dataclass_fields__)
    before = {f: str(getattr(settings, f)) for f in fields}
    for name in fields:
        setattr(settings, name, getattr(data, name))
    settings.updated_at = now_utc()
    settings.updated_by_id = getattr(actor, "id", None)
    changes = {f: [before[f], str(getattr(settings, f))] for f in fields
               if before[f] != str(getattr(settings, f))}
    db.session.flush()
    audit.record("sla.settings_update", actor=actor, object_type="sla_settings", object_id=1,
                 details={"changes": changes})
    _bump(policies=True)
    return settings


# -- the calendar --------------------------------------------------------------------------

#: Chinese names of the package's holidays: official records are kept in Chinese.
HOLIDAY_NAMES = {
    "New Year's Day": "元旦",
    "Spring Festival": "春节",
    "Tomb-sweeping Day": "清明节",
    "Labour Day": "劳动节",
    "Dragon Boat Festival": "端午节",
    "National Day": "国庆节",
    "Mid-autumn Festival": "中秋节",
    "Anti-Fascist 70th Day": "中国人民抗日战争暨世界反法西斯战争胜利70周年纪念日",
}


@dataclass(frozen=True)
class DayData:
    """One calendar day as the seed or an admin describes it."""

    day: date
    kind: DayKind
    name: str | None = None


def _days_of(year: int) -> Iterable[date]:
    day = date(year, 1, 1)
    while day.year == year:
        yield day
        day += timedelta(days=1)


def package_year(year: int) -> list[DayData]:
    """A year as the ``chinese-calendar`` package knows it (raises NotImplementedError)."""
    import chinese_calendar

    days = []
    for day in _days_of(year):
        is_off, holiday = chinese_calendar.get_holiday_detail(day)
        name = HOLIDAY_NAMES.get(holiday, holiday) if holiday else None
        weekend = day.weekday() >= 5
        if not is_off:
            kind = DayKind.MAKEUP_WORKDAY if weekend else DayKind.NORMAL
        else:
            kind = DayKind.HOLIDAY if name or not weekend else DayKind.WEEKEND
        days.append(DayData(day, kind, name))
    return days


def weekday_rule_year(year: int) -> list[DayData]:
    """A year with only weekends off: the start an admin edits holidays into."""
    return [DayData(d, DayKind.WEEKEND if d.weekday() >= 5 else DayKind.NORMAL)
            for d in _days_of(year)]


def provisional_year(year: int) -> tuple[DayData, ...]:
    """Provisional days of a year whose official schedule is not published: weekends off, plus
    the statutory public holidays computed by rule (元旦, 除夕 and 春节, 清明, 劳动节, 端午, 中秋,
    国庆, and the 补假 a statutory day on a weekend gives), from the ``holidays`` package.

    No 调休 is guessed: a make-up working day, and the weekday off it pays for, come only with
    the State Council's notice (days the package marks as substituted are left out).
    """
    return _provisional_year(year)


@memo("sla.provisional_years", maxsize=8)
def _provisional_year(year: int) -> tuple[DayData, ...]:
    import holidays

    names = holidays.China(years=year, language="zh_CN")
    english = holidays.China(years=year, language="en_US")
    off = {day: names[day] for day in names
           if day.year == year and not english[day].startswith("Day off")}
    return tuple(
        DayData(day, DayKind.HOLIDAY, off[day][:50]) if day in off
        else DayData(day, DayKind.WEEKEND if day.weekday() >= 5 else DayKind.NORMAL)
        for day in _days_of(year))


def store_provisional_years(years: Iterable[int], actor=None) -> list[int]:
    """Store the provisional days of ``years`` that have no days yet; returns those stored.

    Insert-or-ignore on the day's primary key, so two workers storing the same year at once
    neither fail nor duplicate: the second waits for the first and inserts nothing. Only the
    one that inserted writes the audit row, logs and alerts the administrators. No ORM flush
    (it may run in the middle of a ticket's transition).
    """
    stored = []
    for year in sorted(set(years)):
        rows = [{"day": d.day, "is_workday": d.kind.is_workday, "kind": d.kind, "name": d.name,
                 "source": DaySource.PROVISIONAL} for d in provisional_year(year)]
        inserted = db.session.execute(_insert_or_ignore_days(rows)).all()
        if not inserted:
            continue
        stored.append(year)
        holidays_ = sorted({d.name for d in provisional_year(year) if d.name})
        audit.append("calendar.provisional_year", actor=actor, object_type="work_calendar_days",
                     object_id=year, details={"year": year, "days": len(inserted),
                                              "holidays": holidays_})
        logger.warning("provisional working days stored for %s (weekends and rule-based "
                       "statutory holidays, no make-up working days): deadlines over them "
                       "are provisional until the official schedule is entered", year)
        for hook in PROVISIONAL_YEAR_STORED:
            hook(year)
    if stored:
        _bump_revision_without_flush()
    return stored


#: Called with the year after provisional days were stored (the notifications alert admins).
PROVISIONAL_YEAR_STORED: list[Callable[[int], None]] = []


def _insert_or_ignore_days(rows: list[dict]) -> sa.Insert:
    table = WorkCalendarDay.__table__
    if db.session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return (insert(table).values(rows).on_conflict_do_nothing(index_elements=[table.c.day])
            .returning(table.c.day))


def _bump_revision_without_flush() -> None:
    """A new calendar revision by one UPDATE (other workers reload their calendar), and this
    request's values forgotten, so its next read sees the stored days."""
    table = SlaSettings.__table__
    db.session.execute(sa.update(table).where(table.c.id == 1)
                       .values(calendar_revision=new_revision()))
    settings = db.session.identity_map.get(db.session.identity_key(SlaSettings, 1))
    if settings is not None:
        db.session.expire(settings, ["calendar_revision"])
    _forget_request_values()


def package_years() -> range:
    """The years the installed ``chinese-calendar`` package may know (it has no list API)."""
    from chinese_calendar.constants import holidays

    return range(min(holidays).year, max(max(holidays).year, today_local().year + 1) + 1)


@dataclass
class SeedResult:
    """What seeding one year did."""

    year: int
    created: int = 0
    updated: int = 0
    kept: int = 0
    unavailable: bool = False
    #: The package lacks the year, so it got (or kept) provisional days.
    provisional: bool = False


def seed_calendar(years: Iterable[int] | None = None, actor=None,
                  progress: Callable[[SeedResult], None] | None = None,
                  provisional: bool = True,
                  notice: list[DayData] | None = None) -> list[SeedResult]:
    """Fill the calendar from the package, idempotently.

    Days an administrator changed are kept; provisional rows and rows entered for a year the
    package did not know are replaced by the package's data once it knows their year. A year
    the package does not know gets provisional days if it is this year or next
    (``provisional``) and has no days entered by hand; any other is reported unavailable,
    never guessed. ``notice`` (:func:`read_notice`) gives one year's official days instead
    of the package, as the State Council's notice lists them.

    When official days replace provisional ones, the packages that depend on the days
    recompute in the same transaction (:data:`CALENDAR_CHANGED`); see :func:`last_change`.
    """
    old = load_calendar()
    results = []
    if notice is not None:
        years = [notice[0].day.year]
    for year in years or package_years():
        if notice is not None:
            result = _store_year(year, notice, DaySource.GENERATED)
        else:
            try:
                days = package_year(year)
            except NotImplementedError:
                result = (_seed_provisional(year) if provisional
                          else SeedResult(year, unavailable=True))
            else:
                result = _store_year(year, days, DaySource.PACKAGE)
        results.append(result)
        if progress:
            progress(result)
    changed = [r for r in results if r.created or r.updated]
    if changed:
        audit.record("calendar.seed", actor=actor, object_type="work_calendar_days",
                     details={"years": {str(r.year): [r.created, r.updated, r.kept]
                                        for r in changed},
                              "columns": ["created", "updated", "kept"],
                              "provisional": [r.year for r in changed if r.provisional],
                              "from": "notice" if notice is not None else "package"})
        _bump(calendar=True)
        _calendar_changed(old, date(min(r.year for r in changed), 1, 1),
                          date(max(r.year for r in changed), 12, 31), actor)
    return results


def read_notice(lines: Iterable[str], year: int) -> list[DayData]:
    """A year's official days from the State Council's notice, written one day a line as
    ``YYYY-MM-DD,kind,name`` (kind ``holiday`` or ``makeup_workday``; ``#`` starts a comment):
    every other day is worked Monday to Friday and off at weekends.

    :raises ValidationFailed: a line that is not of this form, a day of another year, or a
        kind that does not fit the day (a make-up working day on a weekday).
    """
    listed: dict[date, DayData] = {}
    for number, raw in enumerate(lines, 1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        parts = [part.strip() for part in line.split(",")]
        try:
            day = date.fromisoformat(parts[0])
            kind = DayKind(parts[1])
        except (ValueError, IndexError):
            raise ValidationFailed(_("Line %(n)d: write YYYY-MM-DD,holiday|makeup_workday,name.",
                                     n=number)) from None
        weekend = day.weekday() >= 5
        if day.year != year or kind not in (DayKind.HOLIDAY, DayKind.MAKEUP_WORKDAY) or (
                kind == DayKind.MAKEUP_WORKDAY and not weekend):
            raise ValidationFailed(_("Line %(n)d: %(day)s cannot be a %(kind)s of %(year)s.",
                                     n=number, day=parts[0], kind=parts[1], year=year))
        listed[day] = DayData(day, kind, (parts[2] if len(parts) > 2 else "")[:50] or None)
    if not listed:
        raise ValidationFailed(_("The notice lists no holiday."))
    return [listed.get(d.day, d) for d in weekday_rule_year(year)]


def publish_year(year: int, reason: str, actor) -> int:
    """An administrator confirms a provisional year as official (the days as the calendar
    page now shows them, after entering the notice's holidays and make-up working days):
    its provisional days become days entered for the year, and everything counted over them
    is recomputed in the same transaction (:data:`CALENDAR_CHANGED`). Returns the days
    confirmed."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed(_("Give the reason for the change."))
    old = load_calendar()
    rows = db.session.scalars(sa.select(WorkCalendarDay).where(
        WorkCalendarDay.day.between(date(year, 1, 1), date(year, 12, 31)),
        WorkCalendarDay.source == DaySource.PROVISIONAL)).all()
    if not rows:
        raise ValidationFailed(_("%(year)s has no provisional days to publish.", year=year))
    for row in rows:
        row.source, row.note = DaySource.GENERATED, reason[:200]
        row.updated_by_id = getattr(actor, "id", None)
        row.updated_at = now_utc()
    db.session.flush()
    audit.record("calendar.publish_year", actor=actor, object_type="work_calendar_days",
                 object_id=year, details={"year": year, "reason": reason, "days": len(rows)})
    _bump(calendar=True)
    _calendar_changed(old, date(year, 1, 1), date(year, 12, 31), actor)
    return len(rows)


@dataclass
class CalendarChange:
    """Calendar days changed from ``first`` to ``last``: the calendar before and after, and
    what the packages that depend on the days did about it (``outcomes``, by name)."""

    old: WorkCalendar
    new: WorkCalendar
    first: date
    last: date
    actor: object = None
    outcomes: dict = field(default_factory=dict)

    @property
    def published(self) -> frozenset[int]:
        """Years that were provisional and now have their official days."""
        return frozenset(y for y in self.old.provisional_years
                         if y in self.new.years and y not in self.new.provisional_years)


#: Called with a :class:`CalendarChange` after calendar days changed, in the same transaction
#: (the tickets recompute provisional deadlines, the reports refresh their facts).
CALENDAR_CHANGED: list[Callable[[CalendarChange], None]] = []


def _calendar_changed(old: WorkCalendar, first: date, last: date, actor) -> CalendarChange:
    change = CalendarChange(old, load_calendar(), first, last, actor)
    for hook in CALENDAR_CHANGED:
        hook(change)
    if has_app_context():
        g._sla_last_change = change
    return change


def last_change() -> CalendarChange | None:
    """The calendar change this request (or command) made last, with its outcomes."""
    return g.get("_sla_last_change") if has_app_context() else None


def _seed_provisional(year: int) -> SeedResult:
    """Provisional days for a year the package lacks, if it may have them and none entered."""
    sources = _sources_of(year)
    if year not in provisional_candidates() or sources - {DaySource.PROVISIONAL}:
        return SeedResult(year, unavailable=True)
    result = _store_year(year, list(provisional_year(year)), DaySource.PROVISIONAL)
    result.provisional = True
    if result.created:
        logger.warning("provisional working days stored for %s by the calendar seed", year)
    return result


def _sources_of(year: int) -> set[DaySource]:
    return {DaySource(s) for s in db.session.scalars(sa.select(WorkCalendarDay.source).where(
        WorkCalendarDay.day.between(date(year, 1, 1), date(year, 12, 31))).distinct())}


def _store_year(year: int, days: list[DayData], source: DaySource, actor=None) -> SeedResult:
    existing = {row.day: row for row in db.session.scalars(
        sa.select(WorkCalendarDay).where(WorkCalendarDay.day.between(date(year, 1, 1),
                                                                     date(year, 12, 31))))}
    result = SeedResult(year)
    new_rows = []
    for data in days:
        row = existing.get(data.day)
        if row is None:
            new_rows.append({"day": data.day, "is_workday": data.kind.is_workday,
                             "kind": data.kind, "name": data.name, "source": source,
                             "updated_by_id": getattr(actor, "id", None)})
            result.created += 1
        elif row.source == DaySource.ADMIN:
            result.kept += 1
        elif (row.kind, row.name, row.source) != (data.kind, data.name, source):
            row.kind, row.is_workday, row.name, row.source = (
                data.kind, data.kind.is_workday, data.name, source)
            result.updated += 1
    if new_rows:
        db.session.execute(sa.insert(WorkCalendarDay), new_rows)
    db.session.flush()
    return result


def add_year(year: int, actor) -> SeedResult:
    """Add a whole year: from the package when it knows it, else with provisional days.

    Provisional days are only a start — the admin then enters the holidays and 调休 days of
    the State Council's notice and publishes the year; the admin page says so.
    """
    if not 2000 <= year <= 2100:
        raise ValidationFailed(_("Enter a year between 2000 and 2100."))
    if db.session.scalar(sa.select(sa.func.count()).where(
            WorkCalendarDay.day.between(date(year, 1, 1), date(year, 12, 31)))):
        raise ValidationFailed(_("The calendar already has days for %(year)s.", year=year))
    try:
        result = _store_year(year, package_year(year), DaySource.PACKAGE, actor)
        how = "package"
    except NotImplementedError:
        result = _store_year(year, list(provisional_year(year)), DaySource.PROVISIONAL, actor)
        result.provisional = True
        how = "provisional"
    audit.record("calendar.add_year", actor=actor, object_type="work_calendar_days",
                 object_id=year, details={"year": year, "from": how, "days": result.created})
    _bump(calendar=True)
    return result


def set_days(first: date, last: date, kind: DayKind, name: str | None, reason: str,
             actor) -> list[WorkCalendarDay]:
    """Change a day, or a range of days, with a mandatory reason (audited day by day); what
    was counted over them follows (:data:`CALENDAR_CHANGED`)."""
    old = load_calendar()
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed(_("Give the reason for the change."))
    if last < first:
        raise ValidationFailed(_("The last day must not be before the first."))
    if (last - first).days > 366:
        raise ValidationFailed(_("Change at most one year of days at once."))
    rows = db.session.scalars(sa.select(WorkCalendarDay).where(
        WorkCalendarDay.day.between(first, last)).order_by(WorkCalendarDay.day)).all()
    if len(rows) != (last - first).days + 1:
        raise ValidationFailed(_("Some of these days are in a year the calendar does not "
                                 "have yet; add the year first."))
    _check_kind_fits_weekdays(rows, kind)
    name = (name or "").strip() or None
    changes = []
    for row in rows:
        before = {"kind": str(row.kind), "name": row.name}
        row.kind, row.is_workday, row.name = kind, kind.is_workday, name
        row.note, row.source, row.updated_by_id = reason[:200], DaySource.ADMIN, actor.id
        row.updated_at = now_utc()
        changes.append({"day": row.day.isoformat(), "from": before,
                        "to": {"kind": str(kind), "name": name}})
    db.session.flush()
    audit.record("calendar.day_change", actor=actor, object_type="work_calendar_days",
                 object_id=first.isoformat() if first == last
                 else f"{first.isoformat()}..{last.isoformat()}",
                 details={"reason": reason, "changes": changes})
    _bump(calendar=True)
    _calendar_changed(old, first, last, actor)
    return rows


def _check_kind_fits_weekdays(rows: list[WorkCalendarDay], kind: DayKind) -> None:
    """Kinds name the official categories: a worked weekend day is a make-up working day, a
    weekday off is a holiday. Holidays may include weekend days (春节 spans a weekend)."""
    weekend = [r.day.weekday() >= 5 for r in rows]
    if kind == DayKind.NORMAL and any(weekend):
        raise ValidationFailed(_("A Saturday or Sunday that is worked is a make-up working "
                                 "day, not a normal working day."))
    if kind == DayKind.MAKEUP_WORKDAY and not all(weekend):
        raise ValidationFailed(_("Only a Saturday or Sunday can be a make-up working day."))
    if kind == DayKind.WEEKEND and not all(weekend):
        raise ValidationFailed(_("A weekday that is not worked is a public holiday."))


def year_days(year: int) -> dict[date, WorkCalendarDay]:
    """The rows of one year, by date (for the admin grid)."""
    return {row.day: row for row in db.session.scalars(
        sa.select(WorkCalendarDay).where(
            WorkCalendarDay.day.between(date(year, 1, 1), date(year, 12, 31))))}


#: Functions counting the open tickets whose deadlines are provisional (the tickets package
#: registers one), shown on the calendar page: every use of provisional days is visible.
PROVISIONAL_USE_COUNTERS: list[Callable[[], int]] = []


def provisional_uses() -> int:
    """Open tickets with a deadline counted over provisional days."""
    return sum(count() for count in PROVISIONAL_USE_COUNTERS)


def year_status(year: int) -> str:
    """``official``, ``provisional`` (stored), ``unsaved`` (provisional, in memory only:
    no stored deadline has used it yet) or ``missing``."""
    sources = _sources_of(year)
    if DaySource.PROVISIONAL in sources:
        return "provisional"
    if sources:
        return "official"
    return "unsaved" if year in load_calendar().unsaved_years else "missing"


def configured_years() -> list[int]:
    """Years with at least one calendar row (complete or not), ascending."""
    year = sa.func.extract("year", WorkCalendarDay.day)
    return sorted(int(y) for y in db.session.scalars(sa.select(year).distinct()))
