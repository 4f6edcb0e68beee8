"""Deadline computations per second on the official calendar (target: ≥ 100,000/s).

Run from the repository root:  .venv/bin/python -m bench.sla_bench [--n 100000] [--repeats 5]

No database: the calendar is built from the chinese-calendar package (2004–2026, the same rows
``flask calendar seed`` stores) and the policies are DOMAIN §3.2's defaults, so the figure is the
cost of the arithmetic itself — what a ticket page, the scan or the demo seeder pays per deadline.
"""

from __future__ import annotations

import argparse
import random
import time
from datetime import UTC, datetime, timedelta

from app.sla import deadlines
from app.sla.calendar import DEFAULT_OFFICE_HOURS, WorkCalendar
from app.sla.enums import SlaStep
from app.sla.models import PolicyLimits
from app.sla.services import all_policy_keys, default_limits, package_year, package_years


def build_calendar() -> tuple[WorkCalendar, float]:
    """Every year the package knows, and how long building the structure took."""
    rows = []
    for year in package_years():
        try:
            rows.extend((d.day, d.kind.is_workday) for d in package_year(year))
        except NotImplementedError:
            continue
    started = time.perf_counter()
    calendar = WorkCalendar(rows)
    return calendar, time.perf_counter() - started


def workload(n: int, seed: int = 7):
    """``n`` (step, start, policy) triples: random starts in 2025–2026, every policy and step."""
    rng = random.Random(seed)
    policies = [PolicyLimits(default_limits(*key)) for key in all_policy_keys()]
    steps = [s for s in SlaStep if s not in (SlaStep.AUTO_URGE_LEAD,
                                             SlaStep.AUTO_SUPERVISE_DELAY)]
    origin = datetime(2025, 1, 1, tzinfo=UTC)
    span = int(timedelta(days=700).total_seconds())
    return [(rng.choice(steps), origin + timedelta(seconds=rng.randrange(span)),
             rng.choice(policies)) for _ in range(n)]


def rate(label: str, n: int, run, repeats: int) -> float:
    """Run ``run()`` ``repeats`` times; print operations per second of one core.

    Two figures per line: by the process's CPU time (what one core delivers, undisturbed by
    other processes on a shared machine) and by the wall clock (best run). Both are the best
    of ``repeats`` runs.
    """
    cpu_rates, wall_rates = [], []
    for _ in range(repeats):
        wall, cpu = time.perf_counter(), time.process_time()
        run()
        cpu_rates.append(n / max(time.process_time() - cpu, 1e-9))
        wall_rates.append(n / (time.perf_counter() - wall))
    print(f"{label:<44} cpu {max(cpu_rates):>10,.0f} /s   wall {max(wall_rates):>10,.0f} /s")
    return max(cpu_rates)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    calendar, build_seconds = build_calendar()
    print(f"calendar {calendar.years[0]}–{calendar.years[-1]}: built in "
          f"{build_seconds * 1000:.1f} ms")
    cases = workload(args.n)
    office = DEFAULT_OFFICE_HOURS
    handle = [c for c in cases if c[0] == SlaStep.HANDLE][: args.n // 4]
    due = [deadlines.compute_deadline(s, t, p, calendar, office) for s, t, p in handle]
    now = datetime(2025, 6, 1, tzinfo=UTC)

    rate("compute_deadline (all steps and policies)", len(cases), lambda: [
        deadlines.compute_deadline(s, t, p, calendar, office) for s, t, p in cases], args.repeats)
    rate("add_working_days (5 WD)", len(cases), lambda: [
        calendar.add_working_days(t, 5) for _s, t, _p in cases], args.repeats)
    rate("add_working_minutes (120 min)", len(cases), lambda: [
        calendar.add_working_minutes(t, 120, office) for _s, t, _p in cases], args.repeats)
    rate("urge_at + supervise_at (pairs)", len(handle), lambda: [
        (deadlines.urge_at(d, p, calendar, office), deadlines.supervise_at(d, p, calendar, office))
        for d, (_s, _t, p) in zip(due, handle, strict=True)], args.repeats)
    rate("policy_status", len(handle), lambda: [
        deadlines.policy_status(SlaStep.HANDLE, d, now, t, None, p, calendar, office)
        for d, (_s, t, p) in zip(due, handle, strict=True)], args.repeats)


if __name__ == "__main__":
    main()
