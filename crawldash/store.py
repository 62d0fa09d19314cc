"""The embedded DuckDB database: one connection per process, a cursor per call, UTC everywhere.

Reads run inside `snapshot()`, a read transaction, so every query of one answer sees the same state
of the database even while an import replaces the job. Writes run inside `transaction()`, serialised
by a lock, and either commit whole or leave the database exactly as it was.

>>> store = Store(":memory:")
>>> store.jobs()
[]
"""

from __future__ import annotations

import json
import os
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import duckdb

from crawldash import schema
from crawldash.errors import DatabaseError, InvalidParameter, UnknownJob

SCHEMA_VERSION = "2"
DEFAULT_MEMORY_LIMIT = "1GB"
PROJECT_DIR = Path(__file__).resolve().parent.parent
DEFAULT_DB = PROJECT_DIR / "data" / "crawldash.duckdb"

#: Columns computed once at import from the task record (formulas in `schema`).
DERIVED_COLUMNS = (
    ("seq", "INTEGER"),  # position of the task in id order within its job: the integer tie-break
    ("http_code", "INTEGER"),  # status_code, else the code derived from the error text
    ("effective_time", "INTEGER"),
    ("cache_group", "VARCHAR"),
    ("section", "VARCHAR"),
    # Keyword search scans this column; uncompressed it scans about twice as fast.
    ("path_lc", "VARCHAR USING COMPRESSION uncompressed"),
)
#: One order key per sort field: the task's position when sorted ascending, nulls last, ties by id.
RANK_COLUMNS = tuple((f"o_{f}", "INTEGER") for f in schema.SORT_FIELDS)

JOB_COLUMNS = (
    ("job_key", "INTEGER"),  # internal; a replaced job gets a new key
    ("job_id", "VARCHAR"),
    ("domain", "VARCHAR"),
    ("status", "VARCHAR"),
    ("created_at", "TIMESTAMPTZ"),
    ("completed_at", "TIMESTAMPTZ"),
    ("source", "VARCHAR"),
    ("source_format", "VARCHAR"),
    ("imported_at", "TIMESTAMPTZ"),
    ("task_count", "INTEGER"),
    ("has_analytics", "BOOLEAN"),
    ("notes", "VARCHAR"),  # JSON list of what the import said
)


#: Texts that are mostly distinct and shown on every page: kept uncompressed, because a page's rows
#: are scattered over the table and DuckDB decompresses a whole vector of FSST text to read one value
#: (50 scattered urls: 27 ms compressed, 5 ms not, for about three times the space).
UNCOMPRESSED = ("url", "path", "source_url")


def _ddl() -> list[str]:
    task_cols = [("job_key", "INTEGER")] + [
        (c.name, c.sql_type + (" USING COMPRESSION uncompressed" if c.name in UNCOMPRESSED else ""))
        for c in schema.INPUT_COLUMNS
    ]
    task_cols += list(DERIVED_COLUMNS) + list(RANK_COLUMNS)

    def cols(pairs):
        return ", ".join(f"{name} {sql_type}" for name, sql_type in pairs)

    return [
        "CREATE TABLE IF NOT EXISTS meta (key VARCHAR, value VARCHAR)",
        f"CREATE TABLE IF NOT EXISTS jobs ({cols(JOB_COLUMNS)})",
        f"CREATE TABLE IF NOT EXISTS tasks ({cols(task_cols)})",
        # Task counts per filterable combination, so a total for the common filters is a tiny sum.
        "CREATE TABLE IF NOT EXISTS job_counts (job_key INTEGER, status VARCHAR, cache_group VARCHAR, "
        "http_code INTEGER, n BIGINT)",
        # The whole job's KPIs and chart series, computed once after its import (crawldash.summary).
        "CREATE TABLE IF NOT EXISTS job_summary (job_key INTEGER, name VARCHAR, payload VARCHAR, frame BLOB)",
    ]


TASK_TABLE_COLUMNS = (
    ("job_key",) + schema.INPUT_FIELDS + tuple(n for n, _ in DERIVED_COLUMNS) + tuple(n for n, _ in RANK_COLUMNS)
)


@dataclass(frozen=True)
class Job:
    """A crawl job as stored: what it is, where it came from, how many tasks it holds."""

    job_key: int
    job_id: str
    domain: str
    status: str | None
    created_at: datetime | None
    completed_at: datetime | None
    source: str | None
    source_format: str | None
    imported_at: datetime | None
    task_count: int
    has_analytics: bool
    notes: tuple[str, ...] = field(default=())

    def as_dict(self) -> dict:
        """The job as JSON-ready values (ISO 8601 UTC timestamps), without the internal key."""
        from crawldash.timefmt import iso

        return {
            "job_id": self.job_id,
            "domain": self.domain,
            "status": self.status,
            "created_at": iso(self.created_at),
            "completed_at": iso(self.completed_at),
            "tasks": self.task_count,
            "has_analytics": self.has_analytics,
            "source": self.source,
            "format": self.source_format,
            "imported_at": iso(self.imported_at),
            "notes": list(self.notes),
        }


def default_db_path() -> Path:
    """`CRAWLDASH_DB` when set, else data/crawldash.duckdb in the project."""
    return Path(os.environ["CRAWLDASH_DB"]) if os.environ.get("CRAWLDASH_DB") else DEFAULT_DB


#: Bytes 8-11 of every DuckDB database file.
_DUCKDB_MAGIC = b"DUCK"


def _check_database_file(path: Path) -> None:
    """Refuse a folder, or an existing file that is not a DuckDB database (DuckDB itself would open
    a CSV or Parquet file as a read-only view in memory, and an import into it would vanish)."""
    if path.is_dir():
        raise InvalidParameter("--db (or CRAWLDASH_DB)", str(path), "a database file, not a folder")
    if path.is_file() and path.stat().st_size:
        with open(path, "rb") as f:
            head = f.read(12)
        if head[8:12] != _DUCKDB_MAGIC:
            raise InvalidParameter(
                "--db (or CRAWLDASH_DB)",
                str(path),
                "a crawldash database file (this file exists and is not a DuckDB database)",
            )


_OPEN: dict[str, Store] = {}
_OPEN_LOCK = threading.Lock()


class Store:
    """One DuckDB database: the jobs, their tasks, transactions and cursors."""

    def __init__(self, path: str | Path = ":memory:", *, memory_limit: str | None = None):
        self.path = str(path)
        if self.path != ":memory:":
            _check_database_file(Path(self.path))
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        try:
            self._con = duckdb.connect(self.path)
        except duckdb.IOException as exc:
            text = str(exc)
            if "lock" in text.lower():
                raise DatabaseError(
                    f"the database {self.path} is in use by another process (a running dashboard or "
                    "import?); stop it or point --db / CRAWLDASH_DB at another file"
                ) from None
            raise DatabaseError(f"cannot open the database {self.path}: {text.splitlines()[0]}") from None
        except duckdb.Error as exc:
            raise DatabaseError(f"cannot open the database {self.path}: {str(exc).splitlines()[0]}") from None
        self._con.execute("SET GLOBAL TimeZone = 'UTC'")
        # DuckDB would take 80% of the machine; imports and queries spill to disk past this instead.
        limit = memory_limit or os.environ.get("CRAWLDASH_MEMORY_LIMIT") or DEFAULT_MEMORY_LIMIT
        self._con.execute("SET GLOBAL memory_limit = ?", [limit])
        if self.path == ":memory:":
            self._con.execute("SET GLOBAL temp_directory = ?", [tempfile.gettempdir()])
        self._write_lock = threading.RLock()
        self._migrate()

    @classmethod
    def open(cls, path: str | Path | None = None) -> Store:
        """The process's one Store for a database file (opened on first use)."""
        resolved = str(Path(path or default_db_path()).resolve())
        with _OPEN_LOCK:
            store = _OPEN.get(resolved)
            if store is None:
                store = _OPEN[resolved] = cls(resolved)
            return store

    def close(self) -> None:
        with _OPEN_LOCK:
            for key, value in list(_OPEN.items()):
                if value is self:
                    del _OPEN[key]
        self._con.close()

    def _migrate(self) -> None:
        with self.transaction() as cur:
            for statement in _ddl():
                cur.execute(statement)
            row = cur.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
            if row is None:
                cur.execute("INSERT INTO meta VALUES ('schema_version', ?)", [SCHEMA_VERSION])
            elif row[0] != SCHEMA_VERSION:
                raise DatabaseError(
                    f"the database {self.path} has schema version {row[0]}, this crawldash reads "
                    f"version {SCHEMA_VERSION}: import the crawls again into a new database"
                )

    # --- cursors and transactions ----------------------------------------------------------------

    def cursor(self) -> duckdb.DuckDBPyConnection:
        """A new cursor: DuckDB connections must not be shared between threads."""
        return self._con.cursor()

    @contextmanager
    def snapshot(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A read transaction: every query inside sees one consistent state of the database."""
        cur = self.cursor()
        cur.execute("BEGIN TRANSACTION")
        try:
            yield cur
        finally:
            try:
                cur.execute("COMMIT")
            finally:
                cur.close()

    @contextmanager
    def writer(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A cursor for one writer at a time, outside any transaction (for staging into TEMP tables,
        which touch nothing persistent, before `transaction(cur)` stores the result)."""
        with self._write_lock:
            cur = self.cursor()
            try:
                yield cur
            finally:
                cur.close()

    @contextmanager
    def transaction(self, cur: duckdb.DuckDBPyConnection | None = None) -> Iterator[duckdb.DuckDBPyConnection]:
        """A write transaction, one at a time: all of it commits, or none of it.

        With `cur` (from `writer()`), the transaction runs on that cursor and leaves it open.
        """
        with self._write_lock:
            own = cur is None
            cur = self.cursor() if own else cur
            cur.execute("BEGIN TRANSACTION")
            try:
                yield cur
            except BaseException:
                cur.execute("ROLLBACK")
                if own:
                    cur.close()
                raise
            try:
                cur.execute("COMMIT")
            finally:
                if own:
                    cur.close()

    # --- jobs ------------------------------------------------------------------------------------

    _JOB_SELECT = "SELECT " + ", ".join(name for name, _ in JOB_COLUMNS) + " FROM jobs"

    @staticmethod
    def _job(row: tuple) -> Job:
        values = dict(zip((name for name, _ in JOB_COLUMNS), row, strict=True))
        values["notes"] = tuple(json.loads(values["notes"] or "[]"))
        values["task_count"] = values["task_count"] or 0
        values["has_analytics"] = bool(values["has_analytics"])
        return Job(**values)

    def jobs(self, cur: duckdb.DuckDBPyConnection | None = None) -> list[Job]:
        """Every job, newest crawl first."""
        sql = self._JOB_SELECT + " ORDER BY created_at DESC NULLS LAST, imported_at DESC, job_id"
        if cur is not None:
            return [self._job(r) for r in cur.execute(sql).fetchall()]
        with self.snapshot() as own:
            return [self._job(r) for r in own.execute(sql).fetchall()]

    def job(self, job_id: str, cur: duckdb.DuckDBPyConnection | None = None) -> Job:
        """One job by id; `UnknownJob` when there is none."""
        sql = self._JOB_SELECT + " WHERE job_id = ?"
        if cur is None:
            with self.snapshot() as own:
                row = own.execute(sql, [job_id]).fetchone()
        else:
            row = cur.execute(sql, [job_id]).fetchone()
        if row is None:
            raise UnknownJob(job_id)
        return self._job(row)

    def delete_job(self, job_id: str) -> None:
        """Remove a job and its tasks."""
        with self.transaction() as cur:
            job = self.job(job_id, cur)
            delete_job_rows(cur, job.job_key)

    def totals(self) -> tuple[int, int]:
        """(jobs, tasks) in the database."""
        with self.snapshot() as cur:
            return cur.execute("SELECT count(*), coalesce(sum(task_count), 0) FROM jobs").fetchone()

    def meta(self, key: str) -> str | None:
        with self.snapshot() as cur:
            row = cur.execute("SELECT value FROM meta WHERE key = ?", [key]).fetchone()
        return row[0] if row else None

    def set_meta(self, key: str, value: str, cur: duckdb.DuckDBPyConnection | None = None) -> None:
        def write(c):
            c.execute("DELETE FROM meta WHERE key = ?", [key])
            c.execute("INSERT INTO meta VALUES (?, ?)", [key, value])

        if cur is not None:
            write(cur)
        else:
            with self.transaction() as own:
                write(own)


def delete_job_rows(cur: duckdb.DuckDBPyConnection, job_key: int) -> None:
    """Delete one job's rows from every table (inside the caller's transaction)."""
    for table in ("tasks", "job_counts", "job_summary", "jobs"):
        cur.execute(f"DELETE FROM {table} WHERE job_key = ?", [job_key])
