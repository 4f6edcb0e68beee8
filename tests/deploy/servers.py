"""Real servers for the deployment tests: free ports, processes that are always stopped (by
their own pid, or their own process group), bounded waits, and a small HTTP client that keeps
its cookies by hand (the production cookies are Secure; the tests speak plain HTTP to gunicorn
as nginx does, saying ``X-Forwarded-Proto: https``)."""

from __future__ import annotations

import contextlib
import http.client
import os
import re
import signal
import socket
import ssl
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
FLASK = [sys.executable, "-m", "flask"]


def gunicorn(folder: Path, name: str) -> list[str]:
    """The production web server as the unit starts it, its control socket in ``folder``
    (gunicorn's default, in the home folder, would be shared by every instance)."""
    return [str(BIN / "gunicorn"), "--config", str(ROOT / "gunicorn.conf.py"),
            "--control-socket", str(folder / f"{name}.ctl"), "wsgi:app"]


def free_port() -> int:
    """A port nobody listens on now (the server binds it a moment later)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_until(check: Callable[[], object], timeout: float, what: str, every: float = 0.2):
    """Poll ``check`` until it returns something true (returned); fail after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() >= deadline:
            raise AssertionError(f"not within {timeout:g} s: {what}")
        time.sleep(every)


@dataclass
class Process:
    """A server started by a test; its output goes to ``log``."""

    name: str
    popen: subprocess.Popen
    log: Path

    @property
    def pid(self) -> int:
        return self.popen.pid

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def alive(self) -> bool:
        return self.popen.poll() is None

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 30) -> int | None:
        """Stop it with ``sig``, then SIGKILL its whole process group if it lingers."""
        if self.alive():
            try:
                self.popen.send_signal(sig)
                self.popen.wait(timeout=timeout)
            except (subprocess.TimeoutExpired, ProcessLookupError):
                pass
        self.kill_group()
        return self.popen.returncode

    def kill_group(self) -> None:
        """SIGKILL what is left of its process group (its own, made at start)."""
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.popen.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.popen.wait(timeout=10)


def start(name: str, args: list[str], env: dict, folder: Path) -> Process:
    """Start a server in a process group of its own, its output in ``folder/name.log``."""
    log = folder / f"{name}.log"
    with open(log, "wb") as handle:
        popen = subprocess.Popen(args, cwd=ROOT, env=env, stdout=handle,  # noqa: S603
                                 stderr=subprocess.STDOUT, start_new_session=True)
    return Process(name, popen, log)


def run(args: list[str], env: dict, timeout: float = 300) -> subprocess.CompletedProcess:
    """Run a command to its end; fail with its output if it fails."""
    done = subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True,  # noqa: S603
                          timeout=timeout)
    assert done.returncode == 0, f"{' '.join(args)}\n{done.stdout}\n{done.stderr}"
    return done


#: A hidden input of a form (the CSRF token, a submission key if there is one).
HIDDEN = re.compile(r'<input[^>]*type="hidden"[^>]*>')


def hidden_fields(page: str) -> dict[str, str]:
    """Every hidden input of the page's forms, to send back as a browser would."""
    fields = {}
    for tag in HIDDEN.findall(page):
        name, value = re.search(r'name="([^"]+)"', tag), re.search(r'value="([^"]*)"', tag)
        if name:
            fields[name.group(1)] = value.group(1) if value else ""
    return fields


@dataclass
class Response:
    status: int
    headers: list[tuple[str, str]]
    body: bytes

    def header(self, name: str) -> str | None:
        values = self.all(name)
        return values[0] if values else None

    def all(self, name: str) -> list[str]:
        return [v for k, v in self.headers if k.lower() == name.lower()]

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")

    def csrf_token(self) -> str:
        found = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', self.text) or \
            re.search(r'name="csrf_token" value="([^"]+)"', self.text)
        assert found, "no CSRF token in the page"
        return found.group(1)


@dataclass
class Browser:
    """Cookies kept by hand across servers; each request names the public host and the
    client's address as nginx would pass them on (``forwarded``) or not at all."""

    host: str = "ruyi.example.test"
    client_address: str | None = None
    cookies: dict[str, str] = field(default_factory=dict)

    def request(self, port: int, method: str, path: str, form: dict | None = None,
                tls: bool = False, headers: dict | None = None, body: bytes | None = None
                ) -> Response:
        sent = {"Host": self.host, "Accept-Language": "en",
                "Referer": f"https://{self.host.split(':')[0]}/auth/login"}
        if not tls:  # straight to gunicorn: say what nginx would say
            sent["X-Forwarded-Proto"] = "https"
            if self.client_address:
                sent["X-Forwarded-For"] = self.client_address
        if self.cookies:
            sent["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if form is not None:
            body = urlencode(form).encode()
            sent["Content-Type"] = "application/x-www-form-urlencoded"
        sent.update(headers or {})
        if tls:
            context = ssl.create_default_context()
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
            connection = http.client.HTTPSConnection("127.0.0.1", port, timeout=60,
                                                     context=context)
        else:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        try:
            connection.request(method, path, body=body, headers=sent)
            answer = connection.getresponse()
            response = Response(answer.status, answer.getheaders(), answer.read())
        finally:
            connection.close()
        for value in response.all("Set-Cookie"):
            name, _, rest = value.partition("=")
            cookie = rest.split(";", 1)[0]
            if cookie and "Expires=Thu, 01 Jan 1970" not in value:
                self.cookies[name.strip()] = cookie
            else:
                self.cookies.pop(name.strip(), None)
        return response

    def get(self, port: int, path: str, **kwargs) -> Response:
        return self.request(port, "GET", path, **kwargs)

    def post(self, port: int, path: str, form: dict, **kwargs) -> Response:
        return self.request(port, "POST", path, form=form, **kwargs)
