"""SQL building blocks the report queries share: local dates and the working-day index.

Counting working days in the database needs two things: the Asia/Shanghai date of a UTC instant
(China keeps no daylight saving time, so it is the instant plus eight hours on both engines), and
a running index of working days per date. With ``wi(d)`` = working days on or before ``d``,
the working days in ``(a, b]`` are ``wi(b) − wi(a)`` — a subtraction the database can do for a
hundred thousand tickets at once. The index is a window over the admins' calendar table, so an
edited day is reflected at once and nothing has to be kept in sync.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

from app.core.caches import Store
from app.sla.models import WorkCalendarDay


class local_date(FunctionElement):
    """The Asia/Shanghai calendar date of a UTC timestamp column."""

    type = sa.Date()
    name = "local_date"
    inherit_cache = True


@compiles(local_date, "postgresql")
def _local_date_pg(element, compiler, **kw):
    return f"CAST(({compiler.process(element.clauses, **kw)} AT TIME ZONE 'Asia/Shanghai') AS DATE)"


@compiles(local_date, "sqlite")
def _local_date_sqlite(element, compiler, **kw):
    return f"date({compiler.process(element.clauses, **kw)}, '+8 hours')"


class local_day_number(FunctionElement):
    """Days since 1970-01-01 of a UTC timestamp's Asia/Shanghai date (for weekly buckets)."""

    type = sa.Integer()
    name = "local_day_number"
    inherit_cache = True


@compiles(local_day_number, "postgresql")
def _day_number_pg(element, compiler, **kw):
    inner = compiler.process(element.clauses, **kw)
    return f"(CAST(({inner} AT TIME ZONE 'Asia/Shanghai') AS DATE) - DATE '1970-01-01')"


@compiles(local_day_number, "sqlite")
def _day_number_sqlite(element, compiler, **kw):
    inner = compiler.process(element.clauses, **kw)
    return f"CAST(julianday({inner}, '+8 hours') - 2440587.5 AS INTEGER)"


def _workday_index() -> sa.CTE:
    day = WorkCalendarDay
    running = sa.func.sum(sa.case((day.is_workday, 1), else_=0)).over(order_by=day.day)
    return sa.select(day.day.label("day"), day.is_workday.label("is_workday"),
                     running.label("wi")).cte("workday_index")


#: One CTE object, so a statement that joins it several times computes it once.
WORKDAY_INDEX = _workday_index()


def workday_index(name: str) -> sa.Alias:
    """``(day, is_workday, wi)``: the running count of working days on or before each date,
    under the alias ``name`` (every join of one statement needs its own name). The name is the
    caller's, never generated: the same statement must get the same SQL, or SQLAlchemy compiles
    it again every time (the facts of every ticket change are written with it)."""
    return WORKDAY_INDEX.alias(name)


def clamp_at_zero(expression):
    """``max(0, x)`` on both engines."""
    return sa.case((expression < 0, 0), else_=expression)


class WorkdayArrays:
    """The working-day index as two PostgreSQL array literals, for lookups without a join.

    Joining a hundred thousand tickets to the calendar on a computed local date makes the
    planner choose nested loops; indexing an array by the day number is a constant-time
    expression instead. Built from the cached :class:`~app.sla.calendar.WorkCalendar`.
    """

    def __init__(self, calendar):
        from datetime import date, timedelta

        years = calendar.years
        self.first = date(min(years), 1, 1) if years else date(1970, 1, 1)
        last = date(max(years), 12, 31) if years else self.first
        running, index, workdays = 0, [], []
        day = self.first
        while day <= last:
            worked = calendar.is_workday(day)
            running += 1 if worked else 0
            index.append(running)
            workdays.append(1 if worked else 0)
            day += timedelta(days=1)
        self.index_sql = "ARRAY[" + ",".join(map(str, index)) + "]::int[]"
        self.workday_sql = "ARRAY[" + ",".join(map(str, workdays)) + "]::int[]"
        self.first_number = (self.first - date(1970, 1, 1)).days

    def _lookup(self, array_sql: str, moment):
        position = local_day_number(moment) - self.first_number + 1
        return sa.type_coerce(sa.literal_column(f"({array_sql})"),
                              sa.ARRAY(sa.Integer))[position]

    def wi(self, moment):
        """Working days on or before the local date of ``moment``."""
        return self._lookup(self.index_sql, moment)

    def is_workday(self, moment):
        """1 when the local date of ``moment`` is a working day, else 0."""
        return self._lookup(self.workday_sql, moment)


#: id of the calendar → (the calendar, its arrays); the calendar is kept with them, so its id
#: cannot be another calendar's while the entry exists. One entry: the cached calendar's.
_arrays = Store("reports.workday_arrays", limit=1)


def workday_arrays(calendar) -> WorkdayArrays:
    """The arrays of a calendar object (built once per cached calendar)."""
    return _arrays.get(id(calendar), lambda: (calendar, WorkdayArrays(calendar)))[1]
