"""Rate-limit counters live in Redis when RATELIMIT_STORAGE_URI points at it (several workers)."""

import os

import pytest
import redis
from flask_migrate import upgrade

from app import create_app
from app.extensions import db, limiter

REDIS_URL = "redis://127.0.0.1:6379/15"


def _redis_available() -> bool:
    try:
        return redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping()
    except redis.RedisError:
        return False


@pytest.fixture
def redis_app(app, tmp_path):
    if not _redis_available():
        if os.environ.get("CI") == "true":
            pytest.fail("Redis must be reachable at 127.0.0.1:6379 in CI")
        pytest.skip("Redis is not running on 127.0.0.1:6379")
    other = create_app("testing", {
        "RATELIMIT_STORAGE_URI": REDIS_URL,
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'redis.db'}",
        "WTF_CSRF_ENABLED": False,
    })
    with other.app_context():
        upgrade()
    limiter.reset()
    yield other
    limiter.reset()
    with other.app_context():
        db.engine.dispose()
    limiter.init_app(app)  # back to the suite's in-memory counters


def test_sign_in_limit_is_counted_in_redis(redis_app):
    assert type(limiter.storage).__name__ == "RedisStorage"
    client = redis_app.test_client()
    codes = [client.post("/auth/login", data={"username": "x", "password": "y"}).status_code
             for _ in range(11)]
    assert codes[:10] == [200] * 10 and codes[10] == 429
    keys = redis.Redis.from_url(REDIS_URL).keys("LIMITS*")
    assert keys, "no rate-limit counters were written to Redis"


@pytest.fixture
def dead_redis_app(app, tmp_path):
    """The rate-limit store points at a Redis that is not running (a closed port)."""
    other = create_app("testing", {
        "RATELIMIT_STORAGE_URI": "redis://127.0.0.1:1/0",
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'dead.db'}",
        "WTF_CSRF_ENABLED": False,
    })
    with other.app_context():
        upgrade()
    yield other
    with other.app_context():
        db.engine.dispose()
    limiter.init_app(app)  # back to the suite's in-memory counters


def test_redis_down_falls_back_to_this_process_and_says_so(dead_redis_app, caplog):
    """Issue 15, finding 11: a stopped Redis was a 500 on sign-in and the public form."""
    client = dead_redis_app.test_client()
    with caplog.at_level("WARNING", logger="flask-limiter"):
        codes = [client.post("/auth/login", data={"username": "x", "password": "y"}).status_code
                 for _ in range(11)]
        assert client.get("/request").status_code == 200
        assert client.post("/request", data={}).status_code < 500
    assert codes[:10] == [200] * 10 and codes[10] == 429  # still limited, in memory
    assert "Rate limit storage unreachable - falling back to in-memory storage" in caplog.text
