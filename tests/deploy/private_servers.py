"""A PostgreSQL server and a redis-server of the test's own, in a temporary folder on free
ports, so a test may stop and restart them (the machine's shared services are never touched).

PostgreSQL refuses to run as root: as root, the cluster belongs to the ``postgres`` account
and its commands run through ``runuser``.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from tests.deploy.servers import Process, free_port, start


def postgres_bin() -> Path:
    """The newest installed server's programs (``initdb``, ``pg_ctl``)."""
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"),
                   key=lambda p: int(p.parts[-3]) if p.parts[-3].isdigit() else 0)
    if found:
        return found[-1].parent
    on_path = shutil.which("pg_ctl")
    if on_path:
        return Path(on_path).parent
    if os.environ.get("CI") == "true":
        pytest.fail("the PostgreSQL server programs (initdb, pg_ctl) are needed in CI")
    pytest.skip("initdb/pg_ctl are not installed")


class PrivatePostgres:
    """``initdb`` in a temporary folder, ``pg_ctl`` start/stop on a free port (trust auth)."""

    def __init__(self, durable: bool = False) -> None:
        self.durable = durable
        self.bin = postgres_bin()
        self.folder = Path(tempfile.mkdtemp(prefix="ruyi-pg-"))
        self.data = self.folder / "data"
        self.port = free_port()
        self.as_root = os.geteuid() == 0
        if self.as_root:
            account = pwd.getpwnam("postgres")
            os.chown(self.folder, account.pw_uid, account.pw_gid)
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust",
                  "-E", "UTF8", "--locale=C", "--no-sync")
        self.start()
        self._run(str(self.bin / "psql"), "-h", "127.0.0.1", "-p", str(self.port),
                  "-U", "postgres", "-d", "postgres", "-qc", "CREATE DATABASE ruyi")

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/ruyi"

    def _run(self, program: str, *args: str) -> None:
        path = program if "/" in program else str(self.bin / program)
        command = [path, *args]
        if self.as_root:
            command = ["runuser", "-u", "postgres", "--", *command]
        done = subprocess.run(command, capture_output=True, text=True, timeout=120,  # noqa: S603
                              cwd=self.folder)
        assert done.returncode == 0, f"{' '.join(command)}\n{done.stdout}\n{done.stderr}"

    def start(self) -> None:
        options = (f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 "
                   "-c max_connections=80")
        if not self.durable:  # a test's data need not survive a power cut
            options += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.folder / "server.log"),
                  "-o", options, "-w", "-t", "60", "start")

    def stop(self, mode: str = "fast") -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "-t", "60", "stop")

    def log(self) -> str:
        path = self.folder / "server.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def remove(self) -> None:
        """Stop (immediately) and delete the cluster."""
        with contextlib.suppress(AssertionError):
            self.stop("immediate")
        shutil.rmtree(self.folder, ignore_errors=True)


class PrivateRedis:
    """``redis-server`` without persistence on a free port; stop and start it again at will."""

    def __init__(self, folder: Path) -> None:
        binary = shutil.which("redis-server")
        if not binary:
            if os.environ.get("CI") == "true":
                pytest.fail("redis-server is needed by the fault tests in CI")
            pytest.skip("redis-server is not installed")
        self.binary, self.folder, self.port = binary, folder, free_port()
        self.process: Process | None = None
        self.start()

    def start(self) -> None:
        self.process = start("redis", [self.binary, "--port", str(self.port), "--bind",
                                       "127.0.0.1", "--save", "", "--appendonly", "no",
                                       "--dir", str(self.folder)], dict(os.environ),
                             self.folder)

    def stop(self) -> None:
        if self.process is not None:
            self.process.stop()
            self.process = None
