"""Two workers storing the same provisional year at once (PostgreSQL: real concurrent
transactions): neither fails, the days are stored once, and only one of them inserted any."""

from __future__ import annotations

import threading

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.sla import services
from app.sla.enums import DaySource
from app.sla.models import WorkCalendarDay

YEAR = 2031  # a year no other test stores


def _rows() -> list[dict]:
    return [{"day": d.day, "is_workday": d.kind.is_workday, "kind": d.kind, "name": d.name,
             "source": DaySource.PROVISIONAL} for d in services.provisional_year(YEAR)]


def test_two_workers_storing_one_provisional_year_neither_fail_nor_duplicate(app):
    engine = db.engine
    if engine.dialect.name != "postgresql":
        pytest.skip("concurrent transactions need a server database")
    statement = services._insert_or_ignore_days(_rows())
    inserted: dict[str, int] = {}
    errors: list[BaseException] = []
    first = engine.connect()
    first_tx = first.begin()
    try:
        inserted["first"] = len(first.execute(statement).all())

        def second_worker():
            try:
                with engine.begin() as second:   # waits on the first one's rows
                    inserted["second"] = len(second.execute(statement).all())
            except BaseException as error:
                errors.append(error)

        worker = threading.Thread(target=second_worker)
        worker.start()
        worker.join(0.5)
        assert worker.is_alive(), "the second insert should wait for the first commit"
        first_tx.commit()
        worker.join(10)
        assert not worker.is_alive() and errors == []
        assert inserted == {"first": 365, "second": 0}
        with engine.connect() as check:
            count = check.scalar(sa.select(sa.func.count()).select_from(WorkCalendarDay)
                                 .where(sa.extract("year", WorkCalendarDay.day) == YEAR))
        assert count == 365
    finally:
        first.close()
        with engine.begin() as cleanup:
            cleanup.execute(sa.delete(WorkCalendarDay).where(
                sa.extract("year", WorkCalendarDay.day) == YEAR))
