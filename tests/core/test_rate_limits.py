"""The default rate-limit store (app/core/rate_limits.py): fixed windows per key, expiry, no
timer thread, and the application's limits counted in it."""

from __future__ import annotations

import threading

import pytest
from limits import parse
from limits.strategies import FixedWindowRateLimiter

from app.core.rate_limits import SWEEP_SECONDS, LocalMemoryStorage
from app.extensions import limiter


class Clock:
    def __init__(self):
        self.now = 1_000_000.0

    def __call__(self):
        return self.now


@pytest.fixture
def store():
    storage = LocalMemoryStorage()
    storage.clock = Clock()
    return storage


def test_the_application_counts_in_the_local_store_by_default(app):
    assert app.config["RATELIMIT_STORAGE_URI"] == "local-memory://"
    assert isinstance(limiter.storage, LocalMemoryStorage)


def test_a_fixed_window_allows_the_limit_and_then_refuses(store):
    limits = FixedWindowRateLimiter(store)
    five = parse("5 per minute")
    assert [limits.hit(five, "10.0.0.1") for _ in range(6)] == [True] * 5 + [False]
    assert limits.hit(five, "10.0.0.2"), "another address has its own count"
    stats = limits.get_window_stats(five, "10.0.0.1")
    assert stats.remaining == 0 and stats.reset_time == store.clock.now + 60


def test_the_count_starts_again_when_the_window_closes(store):
    limits = FixedWindowRateLimiter(store)
    five = parse("5 per minute")
    for _ in range(5):
        limits.hit(five, "10.0.0.1")
    store.clock.now += 59.9
    assert not limits.hit(five, "10.0.0.1")
    store.clock.now += 0.2  # the window opened by the first hit has closed
    assert limits.hit(five, "10.0.0.1")
    assert store.get(five.key_for("10.0.0.1")) == 1


def test_expired_keys_are_purged_on_a_later_hit(store):
    store.incr("old", 10)
    store.clock.now += SWEEP_SECONDS + 1
    store.incr("new", 10)
    assert "old" not in store._windows and store.get("new") == 1


def test_counting_starts_no_thread(store):
    before = threading.active_count()
    for n in range(50):
        store.incr(f"key-{n}", 1)
        store.clock.now += 0.5
    assert threading.active_count() == before


def test_clear_and_reset(store):
    store.incr("a", 60)
    store.incr("b", 60)
    store.clear("a")
    assert store.get("a") == 0 and store.get("b") == 1
    assert store.reset() == 1 and store.get("b") == 0
    assert store.check()
