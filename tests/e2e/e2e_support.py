"""Support for the browser tests: `streamlit run app.py` on a loopback port, and Debian's Chromium
driven by Playwright (skipped with a reason when Chromium is missing, except under CI=true)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from conftest import IN_CI, PROJECT, SAMPLE
from crawldash.importers import import_files, import_records
from crawldash.sample import generate_job
from crawldash.store import Store

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SECOND_JOB = "second-job"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """A `streamlit run app.py` process on its own database and port."""

    def __init__(self, db: Path, env: dict | None = None):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = db.with_suffix(".log")
        command = [
            sys.executable,
            "-m",
            "streamlit",
            "run",
            "app.py",
            "--server.headless",
            "true",
            "--server.port",
            str(self.port),
            "--server.address",
            "127.0.0.1",
            "--browser.gatherUsageStats",
            "false",
        ]
        environment = {**os.environ, "CRAWLDASH_DB": str(db), **(env or {})}
        with open(self.log, "wb") as log:
            self.process = subprocess.Popen(command, cwd=PROJECT, env=environment, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                with urllib.request.urlopen(self.url + "/_stcore/health", timeout=2) as answer:
                    if answer.status == 200:
                        return
            except OSError:
                time.sleep(0.3)
        self.stop()
        raise RuntimeError(f"streamlit did not start: {self.log.read_text()[-2000:]}")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()


def make_db(path: Path) -> Path:
    """A database with the bundled sample and a second, smaller job on another domain."""
    store = Store(path)
    import_files(store, [SAMPLE])
    job = generate_job(seed=9, tasks=1500, index=1)
    import_records(store, job.table.to_pylist(), job_id=SECOND_JOB)
    store.close()
    return path


def launch(playwright):
    """Chromium for the tests, or a skip (a failure under CI=true) when it is not installed."""
    if not CHROMIUM.exists():
        if IN_CI:
            pytest.fail("/usr/bin/chromium is missing: under CI=true the browser tests must run")
        pytest.skip("Debian's chromium is not installed (apt-get install chromium): browser tests skipped")
    return playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
