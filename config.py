"""Configuration classes; every value can be overridden from the environment.

Business values that admins tune at run time (SLA policies, the work calendar) live in the
database, not here. Only deployment and security settings belong in this file.
"""

import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent


def _env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value not in (None, "") else default


def _env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value in (None, ""):
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _instance_path() -> str:
    """The folder of the files Ruyi keeps (absolute): ``INSTANCE_PATH`` or ``instance/``."""
    return os.path.abspath(os.environ.get("INSTANCE_PATH") or BASE_DIR / "instance")


def _default_sqlite_url() -> str:
    return "sqlite:///" + os.path.join(_instance_path(), "ruyi.db")


def _default_jobs_url() -> str:
    return "sqlite:///" + os.path.join(_instance_path(), "jobs.db")


def _env_schedules(name: str) -> dict[str, str]:
    """``kind=cron;kind=off`` → ``{kind: cron}`` (cron's five fields, Beijing time)."""
    entries = (part.partition("=") for part in os.environ.get(name, "").split(";"))
    return {kind.strip(): cron.strip() for kind, _, cron in entries if kind.strip()}


def _env_seconds(name: str, default: str) -> tuple[int, ...]:
    """``60,300,900`` → ``(60, 300, 900)``."""
    value = os.environ.get(name) or default
    return tuple(int(part) for part in value.replace(" ", "").split(",") if part)


class ConfigError(RuntimeError):
    """Raised when a configuration cannot start safely (e.g. production without a secret)."""


class Config:
    """Settings shared by every environment."""

    #: The files Ruyi keeps (uploads, visit attachments, import files, the development
    #: databases): ``instance/`` beside the code unless set. On several machines it is one
    #: shared folder (e.g. an NFS mount) at the same path on every web server and consumer,
    #: since a file written on one machine is read on another (deploy/README.md).
    INSTANCE_PATH = _instance_path()
    #: Without SECRET_KEY, development keeps a random key in instance/secret_key.
    SECRET_KEY = os.environ.get("SECRET_KEY")
    SQLALCHEMY_DATABASE_URI = os.environ.get("DATABASE_URL") or _default_sqlite_url()
    SQLALCHEMY_ENGINE_OPTIONS: dict = {"pool_pre_ping": True}

    BABEL_DEFAULT_LOCALE = "zh_Hans_CN"
    BABEL_DEFAULT_TIMEZONE = "Asia/Shanghai"
    LANGUAGES = ("zh_Hans_CN", "zh_Hant", "en")

    BOOTSTRAP_SERVE_LOCAL = True
    BOOTSTRAP_BOOTSWATCH_THEME = None

    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = False
    PREFER_HSTS = False

    WTF_CSRF_TIME_LIMIT = _env_int("WTF_CSRF_TIME_LIMIT", 3600)

    # Security policy of DOMAIN §8; the numbers are settings.
    PASSWORD_MIN_LENGTH = _env_int("PASSWORD_MIN_LENGTH", 8)
    LOGIN_MAX_FAILURES = _env_int("LOGIN_MAX_FAILURES", 5)
    LOGIN_LOCK_MINUTES = _env_int("LOGIN_LOCK_MINUTES", 30)
    IDLE_TIMEOUT_STAFF_MINUTES = _env_int("IDLE_TIMEOUT_STAFF_MINUTES", 30)
    IDLE_TIMEOUT_ADMIN_MINUTES = _env_int("IDLE_TIMEOUT_ADMIN_MINUTES", 15)
    #: A session ends this long after its sign-in, however busy (issue 15).
    SESSION_ABSOLUTE_HOURS = _env_int("SESSION_ABSOLUTE_HOURS", 12)

    #: Reverse proxies in front (nginx: 1). Their X-Forwarded-For/-Proto are then trusted, so
    #: rate limits and audit rows see the client's address; 0 trusts no header (spoofable).
    TRUSTED_PROXIES = _env_int("TRUSTED_PROXIES", 0)
    #: ``local-memory://`` counts in each worker process (app/core/rate_limits.py, no timer
    #: thread); several workers or servers need a shared store: ``redis://host:6379/0``.
    RATELIMIT_STORAGE_URI = os.environ.get("RATELIMIT_STORAGE_URI", "local-memory://")
    #: While that store is unreachable, count in this process's memory (logged once as
    #: "Rate limit storage unreachable"), back to the store when it answers; never a 500.
    RATELIMIT_IN_MEMORY_FALLBACK_ENABLED = True
    RATELIMIT_SWALLOW_ERRORS = True
    RATELIMIT_LOGIN = os.environ.get("RATELIMIT_LOGIN", "10 per minute")
    RATELIMIT_ENABLED = _env_bool("RATELIMIT_ENABLED", True)
    RATELIMIT_HEADERS_ENABLED = True
    #: Requests per API token (each token counted on its own, GET included).
    RATELIMIT_API = os.environ.get("RATELIMIT_API", "600 per minute")
    #: Open311 GeoReport v2: the jurisdiction this installation answers for.
    OPEN311_JURISDICTION = os.environ.get("OPEN311_JURISDICTION", "kunshan.gov.cn")

    PAGE_SIZE = _env_int("PAGE_SIZE", 25)
    #: Largest request body accepted (all files of one form together); larger gets a 413 page.
    MAX_CONTENT_LENGTH = _env_int("MAX_REQUEST_BYTES", 50 * 1024 * 1024)
    # Public portal (DOMAIN §8): per-IP limits on the request form and the status lookup.
    PORTAL_SUBMIT_LIMIT = os.environ.get("PORTAL_SUBMIT_LIMIT", "5 per minute;50 per day")
    PORTAL_LOOKUP_LIMIT = os.environ.get("PORTAL_LOOKUP_LIMIT", "10 per minute;100 per day")
    #: Attempts on one reference from anywhere: guessing a mobile number gets nowhere.
    PORTAL_LOOKUP_REFERENCE_LIMIT = os.environ.get("PORTAL_LOOKUP_REFERENCE_LIMIT",
                                                   "5 per 10 minutes")
    PORTAL_UPLOAD_MAX_BYTES = _env_int("PORTAL_UPLOAD_MAX_BYTES", 10 * 1024 * 1024)
    #: Rendered fragments (navigation bar, pagination, the queue's filters, the public form...)
    #: are kept by each worker while this is on and templates do not auto-reload
    #: (app/core/caches.py); off, every page is rendered from its templates.
    RENDER_CACHE = _env_bool("RENDER_CACHE", True)
    #: Seconds a worker keeps the public form's category list (and page) before re-reading it;
    #: an edit in the same worker applies at once (app/portal/cache.py).
    PORTAL_CHOICES_TTL = _env_int("PORTAL_CHOICES_TTL", 10)
    #: Seconds a worker keeps the staff queue filter's category and unit choices before
    #: re-reading them; a category or unit written in the same worker applies at once.
    QUEUE_CHOICES_TTL = _env_int("QUEUE_CHOICES_TTL", 10)
    TICKET_UPLOAD_DIR = os.environ.get("TICKET_UPLOAD_DIR")
    #: Largest file staff may attach on the ticket page.
    TICKET_UPLOAD_MAX_BYTES = _env_int("TICKET_UPLOAD_MAX_BYTES", 20 * 1024 * 1024)
    #: Largest firm import file accepted (XLSX or CSV), in bytes; 100,000 rows are about 8 MB.
    FIRM_IMPORT_MAX_BYTES = _env_int("FIRM_IMPORT_MAX_BYTES", 20 * 1024 * 1024)
    #: The public transparency page (monthly figures per unit, no personal data); off = 404.
    REPORTS_PUBLIC_PAGE = _env_bool("REPORTS_PUBLIC_PAGE", True)

    # Notifications: console (development), capture (tests), smtp (production).
    MAIL_BACKEND = os.environ.get("MAIL_BACKEND", "console")
    MAIL_SERVER = os.environ.get("MAIL_SERVER", "localhost")
    MAIL_PORT = _env_int("MAIL_PORT", 25)
    MAIL_USE_TLS = _env_bool("MAIL_USE_TLS", False)
    MAIL_USERNAME = os.environ.get("MAIL_USERNAME")
    MAIL_PASSWORD = os.environ.get("MAIL_PASSWORD")
    MAIL_DEFAULT_SENDER = os.environ.get("MAIL_DEFAULT_SENDER", "ruyi@localhost")
    LOG_LEVEL = os.environ.get("LOG_LEVEL", "INFO")
    # The outbox (app/notifications/outbox.py): every message is a row, delivered by a job.
    #: Seconds before the 2nd, 3rd… try of a failed message: 5 tries over about an hour,
    #: then the message is marked failed and shown on /admin/outbox.
    OUTBOX_RETRY_DELAYS = _env_seconds("OUTBOX_RETRY_DELAYS", "60,300,900,2400")
    #: A message claimed this long ago by a consumer that never said how it went is taken as
    #: abandoned (the consumer died) and sent again by the sweep.
    OUTBOX_CLAIM_SECONDS = _env_int("OUTBOX_CLAIM_SECONDS", 300)
    #: Messages per delivery task (one SMTP session or HTTP connection each).
    OUTBOX_BATCH = _env_int("OUTBOX_BATCH", 50)
    #: Sent messages are kept this many days, then removed by the daily clean-up.
    OUTBOX_KEEP_DAYS = _env_int("OUTBOX_KEEP_DAYS", 30)

    # Background jobs (app/jobs, Huey). The job store: SQLite beside the database on one
    # machine, Redis (with persistence) shared by every web server and consumer on several.
    JOBS_URL = os.environ.get("JOBS_URL") or _default_jobs_url()
    #: The queue's name in the store: keep it per installation (tests use one per run).
    JOBS_NAME = os.environ.get("JOBS_NAME", "ruyi")
    #: Run each job at once in the process that enqueues it (after its commit): tests only.
    JOBS_IMMEDIATE = _env_bool("JOBS_IMMEDIATE", False)
    #: Worker threads of one ``flask jobs worker`` (its default ``--workers``).
    JOBS_WORKERS = _env_int("JOBS_WORKERS", 2)
    #: A long job writes its progress at most this often (seconds).
    JOBS_PROGRESS_SECONDS = _env_int("JOBS_PROGRESS_SECONDS", 1)
    #: A running job whose consumer has not been heard of for this long is taken as dead.
    JOBS_STALE_SECONDS = _env_int("JOBS_STALE_SECONDS", 300)
    #: Finished job records are kept this many days, then removed by the daily clean-up.
    JOBS_KEEP_DAYS = _env_int("JOBS_KEEP_DAYS", 30)
    #: Times of the periodic jobs, e.g. ``sla.scan=*/10 * * * *;reports.send_weekly=off``.
    JOBS_SCHEDULES = _env_schedules("JOBS_SCHEDULES")
    #: Files of exports and imports (and the uploads) are kept this many days, then removed by
    #: the daily clean-up job; until then only their requester (and admins) may download them.
    EXPORT_KEEP_DAYS = _env_int("EXPORT_KEEP_DAYS", 7)

    @classmethod
    def validate(cls) -> None:
        """Refuse unsafe settings; the base class accepts anything."""


class DevelopmentConfig(Config):
    """Local development: SQLite file in instance/, debug-friendly: an edited template shows
    on the next request (and nothing rendered is kept meanwhile)."""

    DEBUG = False
    TEMPLATES_AUTO_RELOAD = _env_bool("TEMPLATES_AUTO_RELOAD", True)


class TestingConfig(Config):
    """The test suite: its own database (TEST_DATABASE_URL or SQLite in memory)."""

    TESTING = True
    SECRET_KEY = "testing-only-key"  # noqa: S105 - the test suite's own throwaway key
    SQLALCHEMY_DATABASE_URI = os.environ.get("TEST_DATABASE_URL") or "sqlite://"
    RATELIMIT_STORAGE_URI = "local-memory://"
    SERVER_NAME = None
    MAIL_BACKEND = "capture"
    PORTAL_CHOICES_TTL = 0  # tests change categories by rollback too: always re-read
    QUEUE_CHOICES_TTL = 0
    #: Jobs run in the test's own transaction, the real code path without a consumer.
    JOBS_IMMEDIATE = True
    JOBS_URL = "memory://"
    #: Every page rendered afresh; the tests of the kept fragments switch it on.
    RENDER_CACHE = False
    TEMPLATES_AUTO_RELOAD = False


class ProductionConfig(Config):
    """Production: PostgreSQL, HTTPS-only cookies, HSTS; refuses to start half-configured."""

    SESSION_COOKIE_SECURE = True
    REMEMBER_COOKIE_SECURE = True
    PREFER_HSTS = True
    TEMPLATES_AUTO_RELOAD = False

    @classmethod
    def validate(cls) -> None:
        """Production must be told its secret and its database explicitly."""
        if not os.environ.get("SECRET_KEY"):
            raise ConfigError("SECRET_KEY must be set in production (a long random string).")
        if not os.environ.get("DATABASE_URL"):
            raise ConfigError("DATABASE_URL must be set in production (PostgreSQL URL).")


CONFIGS = {
    "development": DevelopmentConfig,
    "testing": TestingConfig,
    "production": ProductionConfig,
}
