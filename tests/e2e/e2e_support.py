"""Support for the browser tests: `streamlit run app.py` on a loopback port, and Debian's Chromium
driven by Playwright (skipped with a reason when Chromium is missing, except under CI=true)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.app_process import CHROMIUM, CHROMIUM_ARGS, AppProcess
from conftest import IN_CI, SAMPLE
from crawldash.importers import import_files, import_records
from crawldash.sample import generate_job
from crawldash.store import Store

SECOND_JOB = "second-job"


#: The app as a process (the browser benchmark starts it the same way).
Server = AppProcess


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
    return playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
