"""Shared fixtures: tiny stores, the bundled sample, the real crawler files in ../shared/realdata."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from crawldash.importers import import_files, import_records
from crawldash.store import Store

PROJECT = Path(__file__).resolve().parent.parent
SAMPLE = PROJECT / "data" / "sample-job.json"
SAMPLE_JOB = "ffe42279-f3bd-4683-a6a8-52c1bb9651f3"
REALDATA = PROJECT.parent / "shared" / "realdata"
IN_CI = os.environ.get("CI") == "true"


@pytest.fixture
def store() -> Store:
    """A fresh in-memory database."""
    s = Store(":memory:")
    yield s
    s.close()


@pytest.fixture(scope="session")
def sample_store() -> Store:
    """An in-memory database holding the bundled sample job (read it, never change it)."""
    s = Store(":memory:")
    import_files(s, [SAMPLE])
    return s


@pytest.fixture(scope="session")
def realdata() -> Path:
    """../shared/realdata: skipped with a reason on a user's clone, required under CI=true."""
    if not REALDATA.is_dir():
        if IN_CI:
            pytest.fail(f"{REALDATA} is missing: under CI=true the real-data tests must run")
        pytest.skip(f"{REALDATA} not found: a user's clone has no ../shared, so the real-data tests are skipped")
    return REALDATA


def task(n: int, **fields) -> dict:
    """A completed task record t<n> on example.com, with fields overridden."""
    base = {
        "id": f"t{n:03d}",
        "url": f"https://example.com/page-{n}",
        "status": "completed",
        "created_at": "2026-01-05T09:30:00Z",
    }
    base.update(fields)
    return base


def load(store: Store, records: list[dict], job_id: str = "job-1", domain: str | None = "example.com"):
    """Import records as one job (through the same normalisation as every file)."""
    from crawldash.ingest import JobMeta

    return import_records(store, records, job_id=job_id, meta=JobMeta(job_id=job_id, domain=domain))


def write_json(path: Path, value) -> Path:
    path.write_text(json.dumps(value), encoding="utf-8")
    return path


def job_state(store: Store) -> list[tuple]:
    """Every job with its task count, and the total tasks stored: to compare before and after."""
    with store.snapshot() as cur:
        jobs = cur.execute("SELECT job_id, task_count FROM jobs ORDER BY job_id").fetchall()
        tasks = cur.execute("SELECT count(*) FROM tasks").fetchall()[0][0]
    return [*jobs, ("tasks stored", tasks)]
