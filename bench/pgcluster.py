"""A private PostgreSQL cluster for one benchmark run: initdb in a temporary directory, pg_ctl on a
free loopback port, stopped and removed at the end. Debian's server (package postgresql-15).

As root the server runs as the `postgres` user (`runuser -u postgres`), since PostgreSQL refuses
to run as root. The settings are a small dedicated server's: 1 GB of shared buffers (the job and its
indexes stay in memory), 64 MB of work_mem (sorts of a deep page stay in memory), the rest default;
durability is off (fsync, full_page_writes, synchronous_commit) because it only slows the load and no
timed query writes. The collation is C, so text sorts byte-wise exactly like DuckDB, SQLite and
Python (a cluster in en_US would sort paths in another order and more slowly).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

SETTINGS = {
    "listen_addresses": "127.0.0.1",
    "shared_buffers": "1GB",
    "work_mem": "64MB",
    "maintenance_work_mem": "512MB",
    "max_wal_size": "8GB",
    "fsync": "off",
    "full_page_writes": "off",
    "synchronous_commit": "off",
    "wal_level": "minimal",
    "max_wal_senders": "0",
    "logging_collector": "off",
}


class ClusterError(RuntimeError):
    pass


def find_bindir() -> Path | None:
    """The directory of Debian's PostgreSQL 15 server binaries (or any `initdb` on PATH), or None."""
    debian = Path("/usr/lib/postgresql")
    candidates = [debian / "15" / "bin"]
    if debian.is_dir():
        candidates += sorted((p / "bin" for p in debian.iterdir()), reverse=True)
    found = shutil.which("initdb")
    if found:
        candidates.append(Path(os.path.realpath(found)).parent)
    for bindir in candidates:
        if (bindir / "initdb").exists() and (bindir / "pg_ctl").exists() and (bindir / "postgres").exists():
            return bindir
    return None


def server_version(bindir: Path) -> str:
    """`15.18 (Debian 15.18-0+deb12u1)` from `postgres --version`."""
    text = subprocess.run([str(bindir / "postgres"), "--version"], capture_output=True, text=True).stdout
    return text.strip().removeprefix("postgres (PostgreSQL) ")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Cluster:
    """`with Cluster(bindir) as pg: psycopg.connect(pg.dsn("postgres"))`"""

    def __init__(self, bindir: Path, settings: dict[str, str] | None = None):
        self.bindir = bindir
        self.settings = {**SETTINGS, **(settings or {})}
        self.port = 0
        self.root: Path | None = None
        self._as_postgres = os.geteuid() == 0

    def _run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        cmd = list(args)
        if self._as_postgres:
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        done = subprocess.run(cmd, capture_output=True, text=True, cwd="/")
        if check and done.returncode != 0:
            raise ClusterError(f"{' '.join(args[:2])} failed ({done.returncode}): {done.stderr.strip()[-2000:]}")
        return done

    @property
    def datadir(self) -> Path:
        assert self.root is not None
        return self.root / "data"

    def start(self) -> Cluster:
        self.root = Path(tempfile.mkdtemp(prefix="crawldash-bench-pg-"))
        if self._as_postgres:
            shutil.chown(self.root, "postgres", "postgres")
        os.chmod(self.root, 0o700)
        self._run(
            str(self.bindir / "initdb"),
            "-D",
            str(self.datadir),
            "-U",
            "postgres",
            "--auth=trust",
            "--encoding=UTF8",
            "--locale=C",
            "--no-sync",
        )
        self.port = _free_port()
        options = " ".join(f"-c {k}={v}" for k, v in {**self.settings, "port": str(self.port)}.items())
        options += f" -c unix_socket_directories={self.root}"
        self._run(
            str(self.bindir / "pg_ctl"),
            "-D",
            str(self.datadir),
            "-l",
            str(self.root / "server.log"),
            "-o",
            options,
            "-w",
            "-t",
            "60",
            "start",
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", self.port)) == 0:
                    return self
            time.sleep(0.1)
        raise ClusterError(f"PostgreSQL did not listen on 127.0.0.1:{self.port}")

    def dsn(self, dbname: str = "postgres") -> str:
        return f"host=127.0.0.1 port={self.port} user=postgres dbname={dbname}"

    def stop(self) -> None:
        if self.root is None:
            return
        try:
            if (self.datadir / "postmaster.pid").exists():
                self._run(str(self.bindir / "pg_ctl"), "-D", str(self.datadir), "-m", "fast", "-w", "stop", check=False)
        finally:
            shutil.rmtree(self.root, ignore_errors=True)
            self.root = None

    def __enter__(self) -> Cluster:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
