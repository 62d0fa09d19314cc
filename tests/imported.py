"""Helpers for the importer tests: run the CLI's import in-process, read the stored tasks back."""

from __future__ import annotations

import json
from pathlib import Path

from crawldash import cli
from crawldash.store import Store

#: The stored fields the importer tests compare (everything an importer decides).
FIELDS = (
    "id",
    "url",
    "host",
    "path",
    "status",
    "status_code",
    "http_code",
    "response_time",
    "cache_status",
    "content_type",
    "error",
    "source_type",
    "source_url",
    "inlinks",
    "from_browser_cache",
    "created_at",
    "started_at",
    "completed_at",
)


def tasks_by_id(store: Store, job_id: str, fields: tuple[str, ...] = FIELDS) -> dict[str, dict]:
    """Every stored task of a job, keyed by id, as {field: value}."""
    job = store.job(job_id)
    with store.snapshot() as cur:
        rows = cur.execute(f"SELECT {', '.join(fields)} FROM tasks WHERE job_key = ?", [job.job_key]).fetchall()
    return {row[0]: dict(zip(fields, row, strict=True)) for row in rows}


def counts(store: Store, job_id: str, expression: str) -> dict:
    """{value: tasks} of an SQL expression over one job's tasks."""
    job = store.job(job_id)
    with store.snapshot() as cur:
        rows = cur.execute(
            f"SELECT {expression}, count(*) FROM tasks WHERE job_key = ? GROUP BY 1", [job.job_key]
        ).fetchall()
    return dict(rows)


def row_id(n: int) -> str:
    """The id a task gets from the n-th data row of a file that names no ids."""
    return f"row-{n:07d}"


def cli_import(capsys, db: Path, *args: str | Path) -> tuple[int, list[dict], list[str]]:
    """`python -m crawldash import --db DB ARGS...` in-process: (exit code, stdout JSON lines, stderr lines)."""
    capsys.readouterr()
    code = cli.main(["import", "--db", str(db), *map(str, args)])
    out, err = capsys.readouterr()
    return code, [json.loads(line) for line in out.splitlines() if line.strip()], err.splitlines()


def cli_store(db: Path) -> Store:
    """The Store the in-process CLI opened for a database file (the process's one per file)."""
    return Store.open(db)
