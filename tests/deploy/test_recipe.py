"""The production recipe in deploy/ is what the code needs: the environment template names
every setting production reads (and nothing else), the systemd units pass systemd's own
check, the Redis snippet keeps the job store across a restart, and nginx accepts the site and,
in front of a real gunicorn, serves the static files, redirects to HTTPS, passes the client's
real address and adds no security header twice.

The tools are real: ``systemd-analyze``, ``redis-server``, ``openssl`` and ``nginx`` (from
``$NGINX_BIN`` or the PATH; CI unpacks Debian's package without installing it). A missing tool
skips its test, except under ``CI=true``.
"""

from __future__ import annotations

import ast
import contextlib
import os
import re
import shutil
import signal
import sqlite3
import subprocess
from pathlib import Path

import pytest
import redis

from tests.deploy.servers import (
    FLASK,
    ROOT,
    Browser,
    free_port,
    gunicorn,
    run,
    start,
    wait_until,
)

DEPLOY = ROOT / "deploy"
ENV_TEMPLATE = DEPLOY / "ruyi.env.example"
SITE = DEPLOY / "nginx" / "ruyi.conf"
UNITS = DEPLOY / "systemd"
REDIS_SNIPPET = DEPLOY / "redis" / "ruyi-jobs.conf"
ENV_FILE = "/etc/ruyi/ruyi.env"

#: Names the template may carry that no Python file reads: the Flask command's application.
OUTSIDE_PYTHON = {"FLASK_APP"}
#: Read from the environment, but never by a production installation.
NOT_PRODUCTION = {"TEST_DATABASE_URL", "TEMPLATES_AUTO_RELOAD"}


def tool(name: str, env: str | None = None) -> str:
    """The path of a tool, or skip (fail under CI) when it is missing."""
    path = (os.environ.get(env) if env else None) or shutil.which(name) or (
        f"/usr/sbin/{name}" if os.path.exists(f"/usr/sbin/{name}") else None)
    if path:
        return path
    if os.environ.get("CI") == "true":
        pytest.fail(f"{name} is needed by the deployment tests in CI")
    pytest.skip(f"{name} is not installed")


# -- the environment template ----------------------------------------------------------------

def _environment_reads(tree: ast.AST) -> set[str]:
    """Names read from the environment in a piece of code: ``os.environ.get("X")``,
    ``os.environ["X"]``, ``os.getenv("X")``, ``environ.get("X")`` and the ``_env_*("X")`` and
    ``_flag(environ, "X")`` helpers."""
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Subscript) and ast.unparse(node.value) in ("os.environ",
                                                                          "environ"):
            key = node.slice
        elif isinstance(node, ast.Call):
            func = ast.unparse(node.func)
            args = [a for a in node.args if not isinstance(a, ast.Name) or a.id != "environ"]
            if not (func in ("os.environ.get", "environ.get", "os.getenv")
                    or func.split(".")[-1].startswith(("_env", "_flag"))) or not args:
                continue
            key = args[0]  # the name; a variable (a helper's own body) is skipped below
        else:
            continue
        if isinstance(key, ast.Constant) and isinstance(key.value, str):
            names.add(key.value)
    return names


def production_settings() -> set[str]:
    """Every variable a production web server or consumer reads: config.py's shared and
    production classes (and the module-level helpers they call), gunicorn.conf.py, and any
    read elsewhere in app/ (RUYI_ENV)."""
    config = ast.parse((ROOT / "config.py").read_text())
    names = set()
    for node in config.body:
        if isinstance(node, ast.ClassDef) and node.name not in ("Config", "ProductionConfig"):
            continue
        names |= _environment_reads(node)
    names |= _environment_reads(ast.parse((ROOT / "gunicorn.conf.py").read_text()))
    for path in (ROOT / "app").rglob("*.py"):
        names |= _environment_reads(ast.parse(path.read_text()))
    return names - NOT_PRODUCTION


def template_names() -> dict[str, bool]:
    """``NAME → set?`` for each ``NAME=`` line of the template, commented or not."""
    names = {}
    for line in ENV_TEMPLATE.read_text().splitlines():
        found = re.match(r"^(#)?([A-Z][A-Z0-9_]*)=", line)
        if found:
            names[found.group(2)] = names.get(found.group(2), False) or not found.group(1)
    return names


def test_the_settings_reader_sees_what_config_reads():
    """The reader itself: a few names it must find, one it must not (testing only)."""
    names = production_settings()
    assert {"SECRET_KEY", "DATABASE_URL", "JOBS_URL", "RATELIMIT_STORAGE_URI", "MAIL_SERVER",
            "TRUSTED_PROXIES", "WEB_CONCURRENCY", "RUYI_ENV", "INSTANCE_PATH",
            "RATELIMIT_ALLOW_PER_WORKER"} <= names
    assert "TEST_DATABASE_URL" not in names


def test_env_template_names_every_setting_production_reads():
    missing = production_settings() - set(template_names())
    assert not missing, (
        f"deploy/ruyi.env.example does not name {sorted(missing)}: add each, commented with "
        "its default unless production must set it, under a one-line explanation")


def test_env_template_names_no_setting_that_nothing_reads():
    unknown = set(template_names()) - production_settings() - OUTSIDE_PYTHON
    assert not unknown, f"deploy/ruyi.env.example names settings nothing reads: {unknown}"


def test_env_template_sets_what_production_requires():
    named = template_names()
    for name in ("RUYI_ENV", "FLASK_APP", "SECRET_KEY", "DATABASE_URL", "JOBS_URL",
                 "RATELIMIT_STORAGE_URI", "INSTANCE_PATH", "TRUSTED_PROXIES"):
        assert named[name], f"{name} must be set (uncommented) in the template"


def test_env_template_is_valid_shell_with_every_line_uncommented(tmp_path):
    """Sourced by a shell for commands by hand (``set -a; . ruyi.env``) as systemd reads it:
    every value, including each commented default once uncommented, must survive that."""
    uncommented = re.sub(r"(?m)^#([A-Z][A-Z0-9_]*=)", r"\1", ENV_TEMPLATE.read_text())
    (tmp_path / "ruyi.env").write_text(uncommented)
    done = subprocess.run(  # noqa: S603
        [tool("bash"), "-euc", 'set -a; . "$1"; printf "%s\\n" "$RUYI_ENV" "$RATELIMIT_LOGIN" '
         '"$JOBS_SCHEDULES"', "-", str(tmp_path / "ruyi.env")],
        capture_output=True, text=True, timeout=30)
    assert done.returncode == 0 and not done.stderr, done.stderr
    assert done.stdout.splitlines() == [
        "production", "10 per minute", "sla.scan=*/10 * * * *;reports.send_weekly=off"]


def test_nginx_body_limit_is_the_applications_plus_one_megabyte():
    from config import Config

    limit = re.search(r"^\s*client_max_body_size (\d+)m;", SITE.read_text(), re.M)
    assert limit and int(limit.group(1)) * 2**20 == Config.MAX_CONTENT_LENGTH + 2**20
    assert f"#MAX_REQUEST_BYTES={Config.MAX_CONTENT_LENGTH}\n" in ENV_TEMPLATE.read_text()


def test_instance_path_moves_the_kept_files(tmp_path):
    """``INSTANCE_PATH`` is where the application keeps files (uploads, imports, exports):
    the folder several machines share."""
    env = dict(os.environ, INSTANCE_PATH=str(tmp_path / "shared"), RUYI_ENV="development")
    env.pop("DATABASE_URL", None)
    done = run([os.path.join(os.path.dirname(FLASK[0]), "python"), "-c",
                "from app import create_app; from app.core import storage\n"
                "app = create_app()\n"
                "with app.app_context(): print(app.instance_path, storage.storage_dir(),"
                " app.config['SQLALCHEMY_DATABASE_URI'])"], env)
    shared = tmp_path / "shared"
    assert done.stdout.split() == [str(shared), str(shared / "uploads"),
                                   f"sqlite:///{shared / 'ruyi.db'}"]


# -- systemd ---------------------------------------------------------------------------------

def _unit(name: str) -> dict[str, list[str]]:
    values: dict[str, list[str]] = {}
    for line in (UNITS / name).read_text().splitlines():
        if "=" in line and not line.startswith(("#", "[")):
            key, _, value = line.partition("=")
            values.setdefault(key.strip(), []).append(value.strip())
    return values


def test_units_read_the_settings_file_and_may_write_only_the_kept_files():
    instance = re.search(r"^INSTANCE_PATH=(.+)$", ENV_TEMPLATE.read_text(), re.M).group(1)
    assert ENV_FILE in ENV_TEMPLATE.read_text().split("\n\n")[0]
    for name in ("ruyi-web.service", "ruyi-jobs.service"):
        unit = _unit(name)
        assert unit["EnvironmentFile"] == [ENV_FILE]
        assert unit["ReadWritePaths"] == [instance] and unit["ProtectSystem"] == ["strict"]
        assert unit["User"] == ["ruyi"] and unit["Restart"] == ["on-failure"]


def test_consumers_stop_gracefully_with_sigint_and_a_bounded_wait():
    """SIGINT lets running jobs finish (SIGTERM would stop them at once)."""
    unit = _unit("ruyi-jobs.service")
    assert unit["ExecStart"] == ["/opt/ruyi/.venv/bin/flask jobs worker"]
    assert unit["KillSignal"] == ["SIGINT"]
    assert 60 <= int(unit["TimeoutStopSec"][0]) <= 600
    web = _unit("ruyi-web.service")
    assert web["KillSignal"] == ["SIGTERM"]  # gunicorn's graceful stop
    assert int(web["TimeoutStopSec"][0]) > 30  # gunicorn.conf.py's graceful_timeout


def test_systemd_accepts_the_units(tmp_path):
    """``systemd-analyze verify`` on the units, the code path pointing at this checkout (it
    checks that the programs exist); any warning fails too."""
    analyze = tool("systemd-analyze")
    for unit in UNITS.glob("*.service"):
        (tmp_path / unit.name).write_text(unit.read_text().replace("/opt/ruyi", str(ROOT)))
    done = subprocess.run([analyze, "verify", "--man=no",  # noqa: S603
                           *sorted(str(p) for p in tmp_path.glob("*.service"))],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and not done.stderr.strip(), done.stderr


# -- Redis -----------------------------------------------------------------------------------

@pytest.fixture
def private_redis(tmp_path):
    """``redis-server`` with the deploy snippet, on a free port, in a temporary folder."""
    binary = tool("redis-server")
    port = free_port()
    conf = tmp_path / "redis.conf"
    conf.write_text(f"include {REDIS_SNIPPET}\nport {port}\nbind 127.0.0.1\n"
                    f"dir {tmp_path}\ndaemonize no\n")
    servers = []

    def launch():
        server = start(f"redis-{len(servers)}", [binary, str(conf)], dict(os.environ),
                       tmp_path)
        servers.append(server)
        client = redis.Redis(port=port, socket_connect_timeout=1)
        wait_until(lambda: _pings(client), 30, "redis-server answers")
        return client

    yield launch
    for server in servers:
        server.stop()


def _pings(client) -> bool:
    try:
        return client.ping()
    except redis.RedisError:
        return False


def test_redis_snippet_keeps_queued_jobs_across_a_restart(private_redis):
    """Appended to the AOF, a queued message survives a stop that saves no snapshot."""
    client = private_redis()
    assert client.config_get("appendonly") == {"appendonly": "yes"}
    assert client.config_get("maxmemory-policy") == {"maxmemory-policy": "noeviction"}
    client.lpush("huey.redis.ruyi", b"job 42")
    with contextlib.suppress(redis.ConnectionError):  # it closes the connection
        client.shutdown(nosave=True)
    client = private_redis()
    assert client.lrange("huey.redis.ruyi", 0, -1) == [b"job 42"]


# -- nginx -----------------------------------------------------------------------------------

def _nginx_site(tmp_path: Path, http_port: int, https_port: int, upstream: int) -> Path:
    """The site as written, with this machine's paths and ports instead of production's."""
    import flask_bootstrap

    openssl = tool("openssl")
    run([openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj",
         "/CN=ruyi.example.gov.cn", "-keyout", str(tmp_path / "key.pem"), "-out",
         str(tmp_path / "cert.pem")], dict(os.environ))
    site = SITE.read_text()
    for old, new in [
            ("listen [::]:80;\n", ""), ("listen [::]:443 ssl http2;\n", ""),
            ("listen 80;", f"listen 127.0.0.1:{http_port};"),
            ("listen 443 ssl", f"listen 127.0.0.1:{https_port} ssl"),
            ("/etc/ssl/ruyi/fullchain.pem", str(tmp_path / "cert.pem")),
            ("/etc/ssl/ruyi/privkey.pem", str(tmp_path / "key.pem")),
            ("/opt/ruyi/.venv/lib/python3.11/site-packages/flask_bootstrap",
             os.path.dirname(flask_bootstrap.__file__)),
            ("/opt/ruyi", str(ROOT)), ("/var/log/nginx", str(tmp_path)),
            ("127.0.0.1:8000", f"127.0.0.1:{upstream}")]:
        assert old in site, f"the site no longer contains {old!r}"
        site = site.replace(old, new)
    (tmp_path / "site.conf").write_text(site)
    temp = " ".join(f"{kind}_temp_path {tmp_path / kind};"
                    for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    main = tmp_path / "nginx.conf"
    main.write_text(
        ("user root;\n" if os.geteuid() == 0 else "") +
        f"pid {tmp_path / 'nginx.pid'};\nerror_log stderr;\ndaemon off;\n"
        "worker_processes 1;\nevents { worker_connections 64; }\n"
        "http {\n  types { text/html html; text/css css; application/javascript js; }\n"
        f"  default_type application/octet-stream;\n  gzip on;\n  {temp}\n"
        f"  access_log {tmp_path / 'access.log'};\n"
        f"  include {tmp_path / 'site.conf'};\n}}\n")
    return main


def test_nginx_accepts_the_site(tmp_path):
    nginx = tool("nginx", "NGINX_BIN")
    main = _nginx_site(tmp_path, free_port(), free_port(), 8000)
    done = subprocess.run([nginx, "-t", "-p", str(tmp_path), "-c", str(main)],  # noqa: S603
                          capture_output=True, text=True, timeout=30)
    assert done.returncode == 0 and "syntax is ok" in done.stderr, done.stderr


@pytest.fixture
def nginx_in_front(tmp_path):
    """nginx with the site in front of one production gunicorn on a fresh SQLite database."""
    nginx = tool("nginx", "NGINX_BIN")
    ports = {"http": free_port(), "https": free_port(), "web": free_port()}
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("JOBS_", "RATELIMIT_", "TEST_DATABASE", "WEB_CONCURRENCY"))}
    env.update(RUYI_ENV="production", FLASK_APP="wsgi.py", SECRET_KEY="nginx-test-" + "x" * 32,
               DATABASE_URL=f"sqlite:///{tmp_path / 'ruyi.db'}",
               JOBS_URL=f"sqlite:///{tmp_path / 'jobs.db'}", INSTANCE_PATH=str(tmp_path),
               TRUSTED_PROXIES="1", WEB_CONCURRENCY="1",
               GUNICORN_BIND=f"127.0.0.1:{ports['web']}")
    run([*FLASK, "db", "upgrade"], env)
    main = _nginx_site(tmp_path, ports["http"], ports["https"], ports["web"])
    processes = [start("gunicorn", gunicorn(tmp_path, "web"), env, tmp_path),
                 start("nginx", [nginx, "-p", str(tmp_path), "-c", str(main)],
                       dict(os.environ), tmp_path)]
    try:
        browser = Browser(host="ruyi.example.gov.cn")
        wait_until(lambda: _answers(browser, ports["https"]), 60,
                   "gunicorn answers through nginx")
        yield browser, ports, tmp_path
    finally:
        for process in processes:
            process.stop(signal.SIGTERM if process.name == "gunicorn" else signal.SIGQUIT)


def _answers(browser, port) -> bool:
    try:
        return browser.get(port, "/auth/login", tls=True).status == 200
    except OSError:
        return False


SECURITY_HEADERS = ("Content-Security-Policy", "X-Content-Type-Options", "X-Frame-Options",
                    "Referrer-Policy", "Permissions-Policy", "Strict-Transport-Security")


def test_nginx_in_front_of_gunicorn(nginx_in_front):
    browser, ports, folder = nginx_in_front
    https = ports["https"]

    plain = browser.get(ports["http"], "/auth/login?next=/tickets/")
    assert plain.status == 301
    assert plain.header("Location") == "https://ruyi.example.gov.cn/auth/login?next=/tickets/"

    page = browser.get(https, "/auth/login", tls=True)
    assert page.status == 200 and "csrf_token" in page.text
    for name in SECURITY_HEADERS:  # the application's, once each
        assert len(page.all(name)) == 1, (name, page.all(name))
    assert "Secure" in page.header("Set-Cookie")
    assert page.header("Server") == "nginx"  # no version

    own = browser.get(https, "/static/app.css", tls=True)
    assert own.body == (ROOT / "app" / "static" / "app.css").read_bytes()
    assert own.all("X-Content-Type-Options") == ["nosniff"]
    assert len(own.all("Strict-Transport-Security")) == 1
    assert "Content-Security-Policy" not in dict(own.headers)  # nginx's, not gunicorn's
    bootstrap = browser.get(https, "/bootstrap/static/css/bootstrap.min.css", tls=True)
    assert bootstrap.status == 200 and bootstrap.body.startswith(b"@charset")
    assert browser.get(https, "/static/../config.py", tls=True).status in (400, 403, 404)

    # A client's own X-Forwarded-For changes nothing: the audit row names the address that
    # nginx saw.
    refused = browser.post(https, "/auth/login", tls=True,
                           headers={"X-Forwarded-For": "203.0.113.7"},
                           form={"csrf_token": page.csrf_token(), "username": "nobody",
                                 "password": "wrong-password"})
    assert refused.status == 200
    with sqlite3.connect(folder / "ruyi.db") as connection:
        addresses = connection.execute(
            "SELECT ip FROM audit_events WHERE action = 'auth.sign_in'").fetchall()
    assert addresses == [("127.0.0.1",)]

    # Just over the application's limit: nginx lets it through, the application answers 413
    # with its own page.
    too_big = browser.request(https, "POST", "/auth/login", tls=True,
                              headers={"Content-Type": "application/octet-stream"},
                              body=b"x" * (50 * 2**20 + 2**19))
    assert too_big.status == 413 and len(too_big.all("Content-Security-Policy")) == 1
