"""Demo tickets: about 2,000 over the last six months, made by the real services.

Every ticket is created and moved by the code the pages call — the portal's ``submit_request``,
``create_ticket``, :func:`~app.tickets.services.transition`, the ratings and rectification
services and the SLA scan — with the clock frozen at the moment each step happens. All tickets
share one timeline: a queue of the next step of every ticket, worked off in time order, so the
clock only ever moves forward (references are numbered in creation order, and the daily scan
sees the world as it was that morning). Deadlines, met/missed marks, urges, supervision
orders, ratings and rectifications are therefore exactly what production would have produced.

Each ticket follows a *story* (a generator that performs one step and yields how many working
hours pass before the next). Steps that would fall after "now" never happen, so recent
tickets are caught mid-way; the most recent few are told to stop in each open state, some
late, some due soon. Runs once per database (an audit row marks it).
"""

from __future__ import annotations

import heapq
import itertools
import logging
import random
import time as timer
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import sqlalchemy as sa

from app.auth import services as accounts
from app.auth.models import Unit, UnitKind, User
from app.core import audit, clock, mail
from app.core.audit import AuditEvent
from app.core.errors import DomainError
from app.core.permissions import Role
from app.demo import texts
from app.extensions import db
from app.firms.models import Firm
from app.portal import services as portal
from app.ratings import services as ratings
from app.sla import services as sla
from app.sla.calendar import CalendarNotConfigured
from app.tickets import services as tickets
from app.tickets.models import (
    FINISHED_STATES,
    Category,
    Channel,
    DemandType,
    ServiceMode,
    Ticket,
    TicketStatus,
    Urgency,
)
from app.tickets.scan import run_scan

logger = logging.getLogger("ruyi.demo")

DEFAULT_TICKET_COUNT = 2000
HISTORY_DAYS = 182
SEED_ACTION = "demo.tickets_seed"
#: Mornings of the week on which the simulated cron runs ``flask sla scan`` (Mon, Thu).
SCAN_WEEKDAYS = (0, 3)
S = TicketStatus

#: How each story goes, in the proportions of a real year (the list is cycled).
PLANS = (["normal"] * 14 + ["late"] * 3 + ["suspend"] * 2 + ["extension"] * 2
         + ["return", "return_refused", "send_back", "reopen", "final_reply", "withdraw",
            "reject", "merge", "stuck", "never_ack", "direct", "direct", "same_day",
            "unreachable", "bad_rating", "reopen_closed", "supervised"])

#: The newest tickets stop in each open state: (plan, working hours before now it was created).
HOLDS = [("hold_submitted", 1), ("hold_dispatched", 3), ("hold_due_soon", 34),
         ("hold_return_requested", 5), ("hold_suspended", 20), ("hold_replied", 14),
         ("hold_follow_up", 22), ("hold_overdue", 70), ("hold_extension", 12), ("merge", 4),
         ("hold_overdue", 120)]

#: (demand type, weight); urgency likewise.
DEMAND_WEIGHTS = [(DemandType.CONSULT, 35), (DemandType.HELP, 30), (DemandType.COMPLAINT, 15),
                  (DemandType.REPORT, 5), (DemandType.SUGGESTION, 15)]
URGENCY_WEIGHTS = [(Urgency.NORMAL, 86), (Urgency.URGENT, 10), (Urgency.CRITICAL, 4)]
CHANNELS = [Channel.WEB, Channel.PORTAL, Channel.PHONE, Channel.HOTLINE_12345, Channel.WALK_IN,
            Channel.VISIT, Channel.PHONE, Channel.API, Channel.WEB, Channel.HOTLINE_12345]
LEVELS = [5] * 10 + [4] * 5 + [3] * 3 + [2] + [1]


@dataclass
class Cast:
    """The people, units, firms and categories the stories use."""

    dispatcher: User
    supervisor: User
    firm_user: User
    units: list[Unit]
    handlers: dict[int, User]
    leads: dict[int, User]
    firms: list[Firm]
    key_firms: list[Firm]
    categories: list[Category]
    open_tickets: list[Ticket] = field(default_factory=list)


@dataclass
class Spec:
    """What one ticket is about and how its story goes."""

    n: int
    plan: str
    created_at: datetime
    unit: Unit
    channel: Channel
    mode: ServiceMode
    demand: DemandType
    urgency: Urgency
    category: Category | None
    firm: Firm | None


# -- entry point -------------------------------------------------------------------------------


def already_seeded() -> bool:
    """The demo tickets were made before (they are made once per database)."""
    return db.session.scalar(sa.select(sa.func.count(AuditEvent.id))
                             .where(AuditEvent.action == SEED_ACTION)) > 0


def seed_tickets(count: int = DEFAULT_TICKET_COUNT,
                 progress: Callable[[str], None] | None = None) -> int:
    """Create ``count`` demo tickets with six months of history; returns how many were made."""
    if count <= 0 or already_seeded():
        return 0
    cast = _cast()
    if cast is None:
        return 0
    now, was_frozen = clock.now_utc(), clock.is_frozen()
    started = timer.monotonic()
    savepoint = db.session.begin_nested()
    quiet = logging.getLogger("ruyi")
    level = quiet.level
    quiet.setLevel(logging.WARNING)  # thousands of steps: the operators' log lines say nothing
    try:
        made = Simulation(cast, now, count, progress).run()
    except CalendarNotConfigured as error:  # a year the calendar lacks: no half-made history
        savepoint.rollback()
        logger.warning("demo tickets skipped: no working calendar for %s", error.year)
        return 0
    finally:
        _restore_clock(now, was_frozen)
        quiet.setLevel(level)
    savepoint.commit()
    audit.record(SEED_ACTION, object_type="tickets",
                 details={"tickets": made, "seconds": round(timer.monotonic() - started, 1)})
    mail.discard_pending()  # the demo's history e-mailed nobody
    db.session.flush()
    return made


def _restore_clock(now: datetime, was_frozen: bool) -> None:
    if was_frozen:
        clock.freeze(now)
    else:
        clock.unfreeze()


# -- the cast ----------------------------------------------------------------------------------


def _cast() -> Cast | None:
    users = {u.username: u for u in db.session.scalars(sa.select(User).where(
        User.username.in_(["dispatcher", "supervisor", "firm"])))}
    units = list(db.session.scalars(sa.select(Unit).where(
        Unit.is_active.is_(True), Unit.kind.in_([UnitKind.DEPARTMENT, UnitKind.AREA]))
        .order_by(Unit.id)))
    firms = list(db.session.scalars(sa.select(Firm).where(Firm.archived_at.is_(None))
                                    .order_by(Firm.id)))
    if len(users) < 3 or not units or not firms:
        return None
    centres = list(db.session.scalars(sa.select(Unit).where(
        Unit.is_active.is_(True), Unit.kind == UnitKind.SERVICE_CENTRE).order_by(Unit.id)))
    handlers, leads = seed_unit_staff(units + centres)
    return Cast(dispatcher=users["dispatcher"], supervisor=users["supervisor"],
                firm_user=users["firm"], units=units, handlers=handlers, leads=leads,
                firms=firms, key_firms=[f for f in firms if f.is_key_firm] or firms[:5],
                categories=list(db.session.scalars(sa.select(Category).where(
                    Category.is_active.is_(True)).order_by(Category.sort_order))))


def seed_unit_staff(units: list[Unit]) -> tuple[dict[int, User], dict[int, User]]:
    """A handler and a unit lead in every unit (``h_<code>`` / ``l_<code>``) unless it has them.

    They share the demo password; it is hashed once, because hashing is deliberately slow.
    """
    staff = list(db.session.scalars(sa.select(User).where(
        User.role.in_([Role.HANDLER, Role.UNIT_LEAD]), User.is_active.is_(True))
        .order_by(User.id)))
    handlers = {u.unit_id: u for u in reversed(staff) if u.role == Role.HANDLER}
    leads = {u.unit_id: u for u in reversed(staff) if u.role == Role.UNIT_LEAD}
    template = None
    names = itertools.cycle(texts.CONTACT_NAMES)
    for unit in units:
        for role, prefix, found in ((Role.HANDLER, "h", handlers), (Role.UNIT_LEAD, "l", leads)):
            if unit.id in found:
                continue
            user = User(username=f"{prefix}_{unit.code.lower()}", display_name=next(names),
                        role=role, unit=unit, is_active=True)
            if template is None:
                from app.demo.cli import DEMO_PASSWORD

                accounts.set_password(user, DEMO_PASSWORD, temporary=False)
                template = user
            else:
                user.password_hash = template.password_hash
                user.password_changed_at, user.must_change_password = clock.now_utc(), False
            db.session.add(user)
            found[unit.id] = user
    db.session.flush()
    return handlers, leads


# -- the timeline ------------------------------------------------------------------------------


class Simulation:
    """Every ticket's next step in one queue, performed in time order under a frozen clock."""

    def __init__(self, cast: Cast, now: datetime, count: int, progress) -> None:
        self.cast, self.now, self.count, self.progress = cast, now, count, progress
        self.rng = random.Random(2026)
        self.calendar = sla.load_calendar()
        self.office_hours = sla.load_office_hours()
        self.queue: list[tuple[datetime, int, Story | None]] = []
        self.sequence = itertools.count()
        self.created = self.refused = 0
        self.refusals: list[tuple[str, str]] = []

    def run(self) -> int:
        """Create and move every ticket up to now, then scan once at now."""
        for spec in self.specs():
            self.push(spec.created_at, Story(self, spec))
        self.schedule_scans()
        started, reported = timer.monotonic(), 0
        while self.queue and self.queue[0][0] <= self.now:
            at, _, story = heapq.heappop(self.queue)
            clock.freeze(at)
            if story is None:
                run_scan(at, commit=False)
                continue
            self.step(at, story)
            if self.progress and self.created >= reported + max(1, self.count // 10):
                reported = self.created
                self.progress(f"  demo tickets: {self.created}/{self.count} "
                              f"({timer.monotonic() - started:.0f} s)")
        clock.freeze(self.now)
        run_scan(self.now, commit=False)
        return self.created

    def step(self, at: datetime, story: Story) -> None:
        """One step of one story; a step the rules refuse ends that story where it is.

        The services check before they change anything, so a refused step leaves nothing
        behind; unflushed attribute changes of the ticket are dropped all the same.
        """
        try:
            hours = next(story.steps)
        except StopIteration:
            return
        except DomainError as error:
            if story.ticket is not None:
                db.session.expire(story.ticket)
            self.refused += 1
            logger.debug("demo story %s stopped: %s", story.spec.plan, error)
            self.refusals.append((story.spec.plan, str(error)))
            return
        self.push(self.later(at, hours), story)

    def push(self, at: datetime, story) -> None:
        heapq.heappush(self.queue, (at, next(self.sequence), story))

    def later(self, at: datetime, hours: float) -> datetime:
        """``hours`` of office time after ``at`` on working days."""
        return self.calendar.add_working_minutes(at, max(1.0, hours * 60), self.office_hours)

    def schedule_scans(self) -> None:
        """``flask sla scan`` on two working mornings a week (cron would run it every few
        minutes; twice a week gives the history its urges and supervision orders at a fraction
        of the seeding time), and once more at now."""
        day = clock.to_local(self.now - timedelta(days=HISTORY_DAYS)).date()
        while day < clock.to_local(self.now).date():
            if self.calendar.is_workday(day) and day.weekday() in SCAN_WEEKDAYS:
                morning = datetime.combine(day, datetime.min.time(), clock.LOCAL_TZ)
                self.push(self.later(morning, 0.1), None)
            day += timedelta(days=1)

    # -- what each ticket is ------------------------------------------------------------------

    def specs(self) -> list[Spec]:
        """One spec per ticket: older ones spread over six months, the newest held open."""
        holds = HOLDS[:max(0, min(len(HOLDS), self.count - len(PLANS)))]
        regular = self.count - len(holds)
        start = self.now - timedelta(days=HISTORY_DAYS)
        span = (self.now - start) * 0.985
        specs = []
        for n in range(regular):
            moment = start + span * ((n + self.rng.random()) / regular)
            specs.append(self.spec(n, PLANS[n % len(PLANS)], self.office_time(moment)))
        for k, (plan, hours_ago) in enumerate(holds):
            at = self.calendar.add_working_minutes(self.now, -hours_ago * 60, self.office_hours)
            specs.append(self.spec(regular + k, plan, at))
        return specs

    def office_time(self, moment: datetime) -> datetime:
        """A moment moved into the office hours of its day (or the next working day)."""
        local = clock.to_local(moment)
        midnight = datetime.combine(local.date(), datetime.min.time(), clock.LOCAL_TZ)
        return self.later(midnight, self.rng.uniform(0.05, 7.8))

    def spec(self, n: int, plan: str, created_at: datetime) -> Spec:
        rng, cast = self.rng, self.cast
        unit = cast.units[n % len(cast.units)]
        channel = CHANNELS[n % len(CHANNELS)]
        mode = ServiceMode.STANDARD
        urgency = _weighted(rng, URGENCY_WEIGHTS)
        if plan in ("direct", "same_day"):
            mode = ServiceMode.HANDLE_NOW
            channel = Channel.PHONE if plan == "same_day" else channel
        elif n % 11 == 5 and channel not in (Channel.WEB, Channel.PORTAL):
            mode = ServiceMode.LIFECYCLE
        if plan in ("extension", "suspend", "hold_due_soon", "hold_extension", "return",
                    "hold_return_requested", "hold_suspended"):
            urgency = Urgency.NORMAL  # same-day deadlines leave no room for these
        demand = _weighted(rng, DEMAND_WEIGHTS)
        if plan in ("hold_due_soon", "hold_extension"):
            demand = DemandType.HELP
        firm = None
        if channel == Channel.PORTAL:
            firm = cast.firm_user.firm
        elif mode == ServiceMode.LIFECYCLE:
            firm = rng.choice(cast.key_firms)
        elif rng.random() < 0.85:
            firm = rng.choice(cast.firms)
        category = cast.categories[n % len(cast.categories)] if cast.categories else None
        return Spec(n, plan, created_at, unit, channel, mode, demand, urgency, category, firm)


def _weighted(rng: random.Random, pairs):
    return rng.choices([value for value, _ in pairs], [weight for _, weight in pairs])[0]


# -- one ticket's story ------------------------------------------------------------------------


class Story:
    """The life of one ticket: each ``yield`` is the office time (hours) until the next step."""

    def __init__(self, simulation: Simulation, spec: Spec) -> None:
        self.sim, self.spec, self.cast = simulation, spec, simulation.cast
        self.rng = random.Random(spec.n)
        self.unit = spec.unit
        self.ticket: Ticket | None = None
        self.steps: Iterator[float] = self.run()

    # helpers

    def act(self, name: str, actor, **data) -> None:
        tickets.transition(self.ticket, name, actor, **data)

    @property
    def handler(self) -> User:
        return self.cast.handlers[self.unit.id]

    @property
    def lead(self) -> User:
        return self.cast.leads[self.unit.id]

    def hours_left(self) -> float:
        due = self.ticket.due_at
        if due is None:
            return 0.0
        seconds = self.sim.calendar.working_seconds_between(clock.now_utc(), due,
                                                            self.sim.office_hours)
        return max(0.0, seconds / 3600)

    def text(self) -> tuple[str, str]:
        code = self.spec.category.code if self.spec.category else "other"
        return self.rng.choice(texts.DEMANDS.get(code) or texts.DEMANDS["other"])

    # the story

    def run(self) -> Iterator[float]:
        plan = self.spec.plan
        self.create()
        self.sim.created += 1
        self.cast.open_tickets.append(self.ticket)
        if plan == "hold_submitted":
            return
        yield self.rng.uniform(0.3, 3)
        if plan == "reject":
            self.act("reject_intake", self.cast.dispatcher, reason="非涉企经营类诉求",
                     proper_channel="12345 政务服务便民热线")
            return
        if plan == "merge" and self.merge():
            return
        if plan == "direct" and self.spec.mode == ServiceMode.HANDLE_NOW:
            portal.answer_directly(self.ticket, self.cast.dispatcher,
                                   self.rng.choice(texts.DIRECT_ANSWERS))
            yield from self.follow_up()
            return
        self.dispatch(self.unit)
        if plan == "hold_dispatched":
            return
        if plan == "never_ack":  # forgotten until well past the deadline, then handled late
            yield self.hours_left() + self.rng.uniform(16, 60)
        if plan in ("return", "return_refused", "hold_return_requested"):
            yield self.rng.uniform(0.5, 3)
            yield from self.return_request(plan)
            if plan == "hold_return_requested":
                return
        if self.ticket.status == S.DISPATCHED:
            yield self.rng.uniform(0.2, 0.8) if self.spec.urgency != Urgency.NORMAL else \
                self.rng.uniform(0.5, 6)
            self.act("acknowledge", self.handler)
        yield from self.handle(plan)

    def create(self) -> None:
        spec, cast = self.spec, self.cast
        title, description = self.text()
        contact = self.rng.choice(texts.CONTACT_NAMES)
        mobile = f"139{spec.n % 10**8:08d}"
        if spec.channel in (Channel.WEB, Channel.PORTAL):
            firm = spec.firm or self.rng.choice(cast.firms)
            data = portal.RequestData(
                firm_name=firm.name, uscc=firm.uscc, contact_name=contact, mobile=mobile,
                email=None, demand_type=str(spec.demand),
                category_id=spec.category.id if spec.category else None, title=title,
                description=description)
            actor = cast.firm_user if spec.channel == Channel.PORTAL else None
            self.ticket = portal.submit_request(data, actor=actor, ip="127.0.0.1",
                                                tracking_link=lambda _ticket: "")
            return
        actor = {Channel.VISIT: self.handler, Channel.API: None}.get(spec.channel,
                                                                     cast.dispatcher)
        self.ticket = tickets.create_ticket(
            actor, channel=spec.channel, service_mode=spec.mode, demand_type=spec.demand,
            urgency=spec.urgency, title=title, description=description, firm=spec.firm,
            category=spec.category, is_complex=False,
            requester=tickets.Requester(name=contact, mobile=mobile))

    def merge(self) -> bool:
        """The same demand again: merged into the latest open ticket of the same category."""
        for other in reversed(self.cast.open_tickets[-200:]):
            if other.status not in FINISHED_STATES and other.id != self.ticket.id:
                self.act("merge", self.cast.dispatcher, target=other)
                return True
        return False

    def dispatch(self, unit: Unit) -> None:
        assisting = []
        if self.rng.random() < 0.12:
            other = self.cast.units[(self.spec.n * 7 + 3) % len(self.cast.units)]
            assisting = [other] if other.id != unit.id else []
        self.act("dispatch", self.cast.dispatcher, lead_unit=unit, assisting_units=assisting,
                 is_complex=self.spec.n % 17 == 0)

    def return_request(self, plan: str) -> Iterator[float]:
        reason, basis = self.rng.choice(texts.RETURN_REASONS)
        other = self.cast.units[(self.spec.n + 5) % len(self.cast.units)]
        self.act("request_return", self.handler, reason=reason, legal_basis=basis,
                 suggested_unit=other)
        if plan == "hold_return_requested":
            return
        yield self.rng.uniform(0.5, 4)
        if plan == "return_refused":
            self.act("reject_return", self.cast.dispatcher, reason="经核实属本单位职责，请首办负责")
            return
        self.act("approve_return", self.cast.dispatcher, reason="同意改派")
        yield self.rng.uniform(0.3, 2)
        self.unit = other
        self.dispatch(other)

    def handle(self, plan: str) -> Iterator[float]:
        if plan == "withdraw":
            yield self.rng.uniform(2, 16)
            actor = self.cast.firm_user if self.spec.channel == Channel.PORTAL \
                else self.cast.dispatcher
            self.act("withdraw", actor, reason="企业已自行解决，申请撤回")
            return
        if plan in ("suspend", "hold_suspended"):
            yield from self.suspension(hold=plan == "hold_suspended")
            if plan == "hold_suspended":
                return
        if plan in ("extension", "hold_extension"):
            yield from self.extension(hold=plan == "hold_extension")
            if plan == "hold_extension":
                return
        if plan in ("stuck", "supervised", "hold_overdue"):
            yield self.hours_left() + self.rng.uniform(2, 10)
            self.act("urge", self.cast.dispatcher, reason="已超期，请尽快办理")
            if plan == "hold_overdue":
                return
            if plan == "supervised":
                yield self.rng.uniform(1, 4)
                self.act("supervise", self.cast.supervisor, reason="超期未办结，请限期答复")
            yield self.rng.uniform(8, 40)  # handled at last, late
        if plan == "hold_due_soon":
            return
        if plan == "final_reply":
            yield self.rng.uniform(8, 20)
            self.act("sign_final_reply", self.lead, text=self.rng.choice(texts.FINAL_REPLIES))
            yield self.rng.uniform(2, 8)
            self.act("final_reply", self.cast.supervisor)
            return
        yield from self.reply(late=plan in ("late", "never_ack"))
        if plan == "hold_replied":
            return
        yield self.rng.uniform(1, 6)
        if plan == "send_back":
            self.act("send_back", self.cast.dispatcher, reason="答复过于笼统，请补充具体措施")
            yield self.rng.uniform(4, 12)
            self.act("reply", self.handler, text=self.rng.choice(texts.REPLIES))
            yield self.rng.uniform(1, 4)
        self.act("approve_reply", self.cast.dispatcher)
        if plan == "hold_follow_up":
            return
        yield from self.follow_up()

    def reply(self, late: bool) -> Iterator[float]:
        left = self.hours_left()
        if self.spec.plan.startswith("hold_"):
            yield self.rng.uniform(0.5, 2)  # the newest tickets: replied quickly, held after
        else:
            yield left + self.rng.uniform(2, 20) if late else left * self.rng.uniform(0.15, 0.85)
        self.act("reply", self.handler, text=self.rng.choice(texts.REPLIES))

    def suspension(self, hold: bool) -> Iterator[float]:
        yield self.rng.uniform(1, 6)
        missing, attempt = self.rng.choice(texts.SUSPEND_INFO)
        self.act("suspend", self.handler, missing_info=missing, contact_attempt=attempt)
        if hold:
            return
        yield self.rng.uniform(6, 30)
        if self.spec.channel == Channel.PORTAL:
            tickets.supply_information(self.ticket, self.cast.firm_user, "已上传补充材料，请查收。")
        else:
            self.act("resume", self.handler, reason="企业已通过电话补充说明")

    def extension(self, hold: bool) -> Iterator[float]:
        yield self.rng.uniform(1, 6)
        self.act("request_extension", self.handler, days=self.rng.choice([3, 5]),
                 reason=self.rng.choice(texts.EXTENSION_REASONS))
        if hold:
            return
        yield self.rng.uniform(1, 4)
        self.act("endorse_extension", self.lead)
        yield self.rng.uniform(1, 6)
        if self.spec.n % 4:
            self.act("approve_extension", self.cast.supervisor, reason="同意延期")
        else:
            self.act("reject_extension", self.cast.supervisor, reason="理由不充分，请按期办结")

    def follow_up(self) -> Iterator[float]:
        plan = self.spec.plan
        yield self.rng.uniform(3, 14)
        if plan == "reopen":
            self.act("reopen", self.cast.dispatcher, reason="企业反映问题未解决")
            yield self.rng.uniform(8, 24)
            self.act("reply", self.handler, text=self.rng.choice(texts.REPLIES))
            yield self.rng.uniform(1, 4)
            self.act("approve_reply", self.cast.dispatcher)
            yield self.rng.uniform(3, 10)
        if plan == "unreachable":
            for _ in range(tickets.FOLLOW_UP_ATTEMPTS):
                self.act("log_follow_up_attempt", self.cast.dispatcher, note="电话无人接听")
                yield self.rng.uniform(8, 9)
            self.act("record_follow_up", self.cast.dispatcher, outcome="unreachable")
            return
        level = 1 if plan in ("bad_rating", "reopen_closed") else self.rng.choice(LEVELS)
        comment = texts.FOLLOW_UP_COMMENTS[level]
        if self.spec.channel == Channel.PORTAL:
            ratings.rate_online(self.ticket, self.cast.firm_user, level, comment)
        else:
            ratings.record_follow_up(self.ticket, self.cast.dispatcher, level, "phone", comment)
        if level <= 2:
            yield from self.rectification()

    def rectification(self) -> Iterator[float]:
        row = ratings.rectification_of(self.ticket)
        if row is None:
            return
        yield self.rng.uniform(2, 8)
        ratings.record_callback(row, self.cast.dispatcher, "已回访企业，核实差评情况属实。")
        # A direct answer's 差评 belongs to the service centre, whose handler works it.
        responsible = self.cast.handlers.get(row.unit_id) or self.handler
        if self.spec.plan == "reopen_closed":
            yield from self.handle_again(row, responsible)
            return
        yield self.rng.uniform(4, 12)
        ratings.classify(row, responsible, "fix_now", plan="立即整改并向企业说明")
        yield self.rng.uniform(8, 24)
        ratings.record_result(row, responsible, "已重新协调办理，问题已解决并向企业致歉。")
        yield self.rng.uniform(4, 16)
        ratings.record_feedback(row, self.cast.dispatcher, "basically_satisfied", "phone")

    def handle_again(self, row, responsible) -> Iterator[float]:
        """立行立改 by handling the ticket again: the unit classifies, a supervisor reopens the
        closed ticket, the handler replies anew, the reply is approved, the unit reports the
        result, the evaluator gives feedback and the follow-up closes the ticket (it was rated
        once already). The added steps take fixed times: drawing more random numbers would
        change every later story of the demo."""
        yield 0.5
        ratings.classify(row, responsible, "fix_now", plan="重新办理并答复企业")
        yield self.rng.uniform(1, 4)
        self.act("reopen_closed", self.cast.supervisor, reason="核实差评，重新办理")
        yield self.rng.uniform(8, 24)
        self.act("reply", self.handler, text=self.rng.choice(texts.REPLIES))
        yield self.rng.uniform(1, 4)
        self.act("approve_reply", self.cast.dispatcher)
        yield 2.0
        ratings.record_result(row, responsible, "已重新办理并答复企业。")
        yield 4.0
        ratings.record_feedback(row, self.cast.dispatcher, "basically_satisfied", "phone")
        yield 1.0
        self.act("record_follow_up", self.cast.dispatcher, outcome="level")
