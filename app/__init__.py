"""Ruyi (如意): one-stop case management for a city's enterprise-service office."""

from __future__ import annotations

import json
import logging
import os
import secrets

from flask import Flask

from app.core import caches
from app.core.forms import Request
from config import CONFIGS


def create_app(config_name: str | None = None, overrides: dict | None = None) -> Flask:
    """Build the application for ``development``, ``testing`` or ``production``.

    Without an argument the environment variable ``RUYI_ENV`` decides (default development).
    ``overrides`` replace settings before the extensions read them (tests, benchmarks).
    """
    config_name = config_name or os.environ.get("RUYI_ENV", "development")
    config = CONFIGS[config_name]
    config.validate()
    app = Flask(__name__, instance_path=config.INSTANCE_PATH, instance_relative_config=True)
    app.request_class = Request
    app.config.from_object(config)
    app.config.update(overrides or {})
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = _instance_secret_key(app.instance_path)
    os.makedirs(app.instance_path, exist_ok=True)
    logging.basicConfig(level=app.config["LOG_LEVEL"],
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)
    _trust_proxies(app)
    register_extensions(app)
    register_jobs(app)
    register_blueprints(app)
    register_report_facts(app)  # every ticket write keeps the stored report facts current
    register_request_hooks(app)
    register_template_helpers(app)
    register_cli(app)
    caches.init_app(app)
    return app


def _trust_proxies(app: Flask) -> None:
    """Behind ``TRUSTED_PROXIES`` reverse proxies, take the client's address and scheme from
    their X-Forwarded headers; otherwise every visitor would share the proxy's address and
    its per-address rate limits."""
    hops = app.config.get("TRUSTED_PROXIES", 0)
    if hops:
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)


def _instance_secret_key(instance_path: str) -> str:
    """A random key kept in ``instance/secret_key`` so development sessions survive restarts."""
    os.makedirs(instance_path, exist_ok=True)
    path = os.path.join(instance_path, "secret_key")
    if not os.path.exists(path):
        with open(path, "w", encoding="ascii") as handle:
            handle.write(secrets.token_hex(32))
        os.chmod(path, 0o600)
    with open(path, encoding="ascii") as handle:
        return handle.read().strip()


def register_extensions(app: Flask) -> None:
    """Bind the extensions created in :mod:`app.extensions`."""
    from app.core.i18n import select_locale
    from app.core.sessions import SessionCookies
    from app.extensions import babel, bootstrap, csrf, db, limiter, login_manager, migrate

    db.init_app(app)
    migrate.init_app(app, db, directory=os.path.join(os.path.dirname(app.root_path),
                                                     "migrations"))
    login_manager.init_app(app)
    login_manager.session_protection = "basic"
    app.session_interface = SessionCookies()
    csrf.init_app(app)
    babel.init_app(app, locale_selector=select_locale)
    limiter.init_app(app)
    bootstrap.init_app(app)


#: Modules declaring job kinds and schedules (``@job``, ``schedule``), imported at start-up so
#: web servers and consumers know the same kinds.
JOB_MODULES = (
    "app.jobs.housekeeping",
    "app.tickets.jobs",
    "app.reports.jobs",
    "app.sla.jobs",
    "app.firms.jobs",
    "app.audit.jobs",
    "app.exports.files",
    "app.notifications.jobs",
)


def register_jobs(app: Flask) -> None:
    """Point the job engine at ``JOBS_URL`` and declare every job kind."""
    import importlib

    from app.jobs import engine

    engine.init_app(app)
    for module in JOB_MODULES:
        importlib.import_module(module)


def register_blueprints(app: Flask) -> None:
    """One blueprint per domain package."""
    from app.admin import bp as admin_bp
    from app.audit import bp as audit_bp
    from app.auth import bp as auth_bp
    from app.exports import bp as exports_bp
    from app.firms import bp as firms_bp
    from app.jobs import bp as jobs_bp
    from app.main import bp as main_bp
    from app.notifications import admin_bp as outbox_bp
    from app.notifications import bp as notifications_bp
    from app.portal import bp as portal_bp
    from app.projects import bp as projects_bp
    from app.ratings import bp as ratings_bp
    from app.reports import bp as reports_bp
    from app.sla import bp as sla_bp
    from app.tickets import bp as tickets_bp
    from app.visits import bp as visits_bp

    for blueprint in (main_bp, auth_bp, admin_bp, audit_bp, firms_bp, sla_bp, tickets_bp,
                      portal_bp, ratings_bp, visits_bp, projects_bp, reports_bp,
                      notifications_bp, outbox_bp, jobs_bp, exports_bp):
        app.register_blueprint(blueprint)
    # Browsers ask for /favicon.ico whatever the page says: the static icon, not a 404.
    app.add_url_rule("/favicon.ico", endpoint="static", defaults={"filename": "favicon.ico"})

    from app import api

    api.init_app(app)  # the machine interface: its blueprints, OpenAPI document, token gate


def register_report_facts(app: Flask) -> None:
    """The stored report facts (:mod:`app.reports.facts`): a transaction that writes a ticket,
    a return or an extension request rewrites that ticket's facts before it commits. Without
    this line no transaction writes facts (the figures would go stale)."""
    from app.reports import facts

    facts.init_app(app)


def register_request_hooks(app: Flask) -> None:
    """Order matters: the sign-in gate, then idle timeout and forced password change."""
    from app.auth.guards import register_guards
    from app.core.errors import register_error_handlers
    from app.core.security import register_security

    register_security(app)
    register_guards(app)
    register_error_handlers(app)


def register_template_helpers(app: Flask) -> None:
    """Values and filters every template may use."""

    from app.auth.models import UNIT_KIND_LABELS
    from app.core.clock import now_utc
    from app.core.i18n import LANGUAGE_NAMES, html_lang, install_template_gettext, locale_name
    from app.core.layout import layout_part, navbar
    from app.core.pagination import pagination_html
    from app.core.permissions import ROLE_LABELS, Permission
    from app.core.rendering import day, month, short_datetimes, translated, url_maker, when
    from app.core.validators import mask_mobile

    @app.context_processor
    def inject_globals():
        locale = locale_name()
        return {
            "language_names": LANGUAGE_NAMES,
            "current_locale": locale,
            "page_lang": html_lang(locale),
            "lang_tag": html_lang,
            "role_labels": translated(ROLE_LABELS),
            "unit_kind_labels": UNIT_KIND_LABELS,
            "permissions": Permission,
            "now": now_utc(),
        }

    install_template_gettext(app.jinja_env)  # Flask-Babel's, made cheap
    # One format per language for every date and time (app/core/rendering.py); Flask-Babel's
    # own filters would each take a pattern of their own, so they write the same.
    app.jinja_env.filters.update(when=when, day=day, month=month)
    app.jinja_env.filters.update(datetimeformat=lambda value, _pattern=None: when(value),
                                 dateformat=lambda value, _pattern=None: day(value))
    app.jinja_env.globals["url_maker"] = url_maker
    app.jinja_env.globals["short_datetimes"] = short_datetimes
    app.jinja_env.globals["navbar"] = navbar
    app.jinja_env.globals["layout_part"] = layout_part
    app.jinja_env.globals["pagination_html"] = pagination_html
    app.jinja_env.filters["mask_mobile"] = mask_mobile
    app.jinja_env.filters["json_text"] = lambda value: json.dumps(value, ensure_ascii=False)


def register_cli(app: Flask) -> None:
    """``flask users``, ``demo``, ``firms``, ``calendar``, ``sla``, ``reports``."""
    from app.audit.cli import audit_cli
    from app.auth.cli import users_cli
    from app.core.backup import backup_command, restore_command
    from app.demo.cli import demo_cli
    from app.firms.cli import firms_cli
    from app.jobs.cli import jobs_cli
    from app.reports.cli import reports_cli
    from app.sla.cli import calendar_cli, sla_cli

    app.cli.add_command(audit_cli)
    app.cli.add_command(users_cli)
    app.cli.add_command(backup_command)
    app.cli.add_command(restore_command)
    app.cli.add_command(demo_cli)
    app.cli.add_command(firms_cli)
    app.cli.add_command(calendar_cli)
    app.cli.add_command(sla_cli)
    app.cli.add_command(reports_cli)
    app.cli.add_command(jobs_cli)
