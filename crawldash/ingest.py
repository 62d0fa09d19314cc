"""From a staging table to stored jobs: SPEC's normalisation, the derived columns and the order keys.

Every importer ends here. Each input file of one import command is staged into its own TEMP table
(`file_row`, then any of `schema.INPUT_FIELDS`, typed as well as the reader could); `store_staging`
checks the rows, types and normalises them in DuckDB, then replaces each job they hold, all inside
the caller's transaction, so a failure anywhere leaves the database as it was.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field

import duckdb

from crawldash import schema
from crawldash.errors import BadData, InvalidParameter
from crawldash.httpcodes import code_from_error
from crawldash.ranks import rank_table
from crawldash.store import TASK_TABLE_COLUMNS, delete_job_rows

Progress = Callable[[float, str], None]


@dataclass
class JobMeta:
    """What a file says about one job beside its tasks (all optional)."""

    job_id: str | None = None
    domain: str | None = None
    status: str | None = None
    created_at: str | None = None
    completed_at: str | None = None


@dataclass
class StagedFile:
    """One input file's share of the staging table."""

    name: str
    format: str
    default_job_id: str  # for its rows without a job_id
    table: str = ""  # its TEMP staging table, set by Staging.add_file
    rows: int = 0
    row_label: str = "row"  # how messages count its rows: "row", "task", "entry"
    decimal_comma: bool = False  # numbers written "0,425" (semicolon-delimited CSV)
    notes: list[str] = field(default_factory=list)


@dataclass
class Staging:
    """The staging table of one import command and what the readers learnt about its jobs."""

    cur: duckdb.DuckDBPyConnection
    files: list[StagedFile] = field(default_factory=list)
    jobs: dict[str, JobMeta] = field(default_factory=dict)  # by job_id, from envelopes or metadata

    def add_file(self, staged: StagedFile) -> StagedFile:
        """Register a file and name its staging table."""
        staged.table = f"_stage_{len(self.files)}"
        self.files.append(staged)
        return staged

    def meta(self, job_id: str, meta: JobMeta) -> None:
        """Record metadata for a job, keeping what earlier pages said."""
        old = self.jobs.get(job_id)
        if old is None:
            self.jobs[job_id] = meta
        else:
            self.jobs[job_id] = JobMeta(**{k: getattr(old, k) or getattr(meta, k) for k in vars(old)})


@dataclass(frozen=True)
class ImportResult:
    """One imported job, as the CLI prints it (`as_dict`) plus what the import noticed."""

    job_id: str
    domain: str
    tasks: int
    format: str
    notes: tuple[str, ...] = ()

    def as_dict(self) -> dict:
        return {"job_id": self.job_id, "domain": self.domain, "tasks": self.tasks, "format": self.format}


# --- SQL pieces ------------------------------------------------------------------------------------

_SCHEME = r"^[A-Za-z][A-Za-z0-9+.-]*://"
URL_HOST_SQL = f"NULLIF(lower(regexp_extract({{0}}, '{_SCHEME}(?:[^/?#@]*@)?([^/?#:]*)', 1)), '')"
URL_PATH_SQL = f"regexp_extract({{0}}, '{_SCHEME}[^/?#]*([^?#]*)', 1)"
ZONE_RE = r"(Z|z|[+-]\d\d(:?\d\d)?)$"
#: Timestamps before this are sentinels (Go's zero time 0001-01-01, the Unix epoch), not crawl times.
EARLIEST = "TIMESTAMPTZ '1970-01-02 00:00:00+00'"
_TIMESTAMPS = ("created_at", "started_at", "completed_at")


def _trimmed(col: str) -> str:
    return f"NULLIF(trim({col}), '')"


def _cache(col: str) -> str:
    # Multi-tier headers ("MISS, HIT") keep the tier nearest the client: the last one.
    return f"NULLIF(upper(trim(list_last(string_split({col}, ',')))), '')"


def _positive(col: str) -> str:
    return f"TRY_CAST(CASE WHEN {col} > 0 THEN {col} END AS INTEGER)"


def _count(col: str) -> str:
    return f"TRY_CAST(CASE WHEN {col} >= 0 THEN {col} END AS INTEGER)"


_SOURCE_TYPE = (
    "CASE lower(trim(source_type)) "
    + " ".join(f"WHEN '{alias}' THEN '{ours}'" for alias, ours in schema.SOURCE_TYPE_ALIASES.items())
    + " ELSE NULLIF(lower(trim(source_type)), '') END"
)


def timestamp_sql(col: str, sql_type: str = "VARCHAR") -> str:
    """SQL reading a timestamp column or parameter: text is parsed (no zone: UTC), sentinels are NULL."""
    if sql_type == "VARCHAR":
        value = f"TRY_CAST(CASE WHEN trim({col}) IN ('', '0') THEN NULL ELSE trim({col}) END AS TIMESTAMPTZ)"
    else:
        value = f"{col}::TIMESTAMPTZ"
    return f"CASE WHEN {value} < {EARLIEST} THEN NULL ELSE {value} END"


# --- typing and checks ----------------------------------------------------------------------------------


def _first_bad(cur, staged: StagedFile, where: str, what: Callable[[tuple], str], cols: str = "") -> None:
    extra = f", {cols}" if cols else ""
    row = cur.execute(f"SELECT file_row{extra} FROM {staged.table} WHERE {where} ORDER BY file_row LIMIT 1").fetchone()
    if row is not None:
        raise BadData(staged.name, f"{staged.row_label} {row[0]}: {what(row)}")


def _conform(cur, staged: StagedFile) -> dict[str, str]:
    """Give a file's staging table every input field, with the type normalisation expects."""
    table = staged.table
    types = {r[0]: r[1] for r in cur.execute(f"DESCRIBE {table}").fetchall()}
    for column in schema.INPUT_COLUMNS:
        name, have = column.name, types.get(column.name)
        if have is None:
            cur.execute(f"ALTER TABLE {table} ADD COLUMN {name} {column.sql_type}")
            types[name] = column.sql_type
        elif column.kind == schema.INT and (have in ("VARCHAR", "DOUBLE", "FLOAT") or have.startswith("DECIMAL")):
            if have == "VARCHAR":
                text = f"replace(trim({name}), ',', '.')" if staged.decimal_comma else f"trim({name})"
                value = f"round(TRY_CAST({text} AS DOUBLE))"
                _first_bad(
                    cur,
                    staged,
                    f"trim({name}) <> '' AND {value} IS NULL",
                    lambda r, n=name: f"{n} {r[1]!r} is not a number",
                    name,
                )
            else:
                value = f"round({name})"
            cur.execute(f"ALTER TABLE {table} ALTER {name} TYPE BIGINT USING TRY_CAST({value} AS BIGINT)")
            types[name] = "BIGINT"
        elif column.kind == schema.BOOL and have != "BOOLEAN":
            value = f"TRY_CAST(lower(trim({name}::VARCHAR)) AS BOOLEAN)"
            _first_bad(
                cur,
                staged,
                f"trim({name}::VARCHAR) <> '' AND {value} IS NULL",
                lambda r, n=name: f"{n} {r[1]!r} is not true/false",
                name,
            )
            cur.execute(f"ALTER TABLE {table} ALTER {name} TYPE BOOLEAN USING {value}")
            types[name] = "BOOLEAN"
        elif column.kind == schema.TEXT and have != "VARCHAR":
            cur.execute(f"ALTER TABLE {table} ALTER {name} TYPE VARCHAR")
            types[name] = "VARCHAR"
        elif column.kind == schema.TIMESTAMP and not (have == "VARCHAR" or have.startswith("TIMESTAMP")):
            raise BadData(staged.name, f"{name} holds {have} values; expected ISO 8601 timestamps")
    return types


def _check_rows(cur, staged: StagedFile, types: dict[str, str]) -> None:
    """Refuse the rows SPEC's record cannot hold, naming the first bad one (one scan for all checks)."""
    checks: list[tuple[str, str | None, Callable[[tuple], str]]] = [
        (
            f"{_trimmed('status')} IS NULL",
            None,
            lambda r: "no status (expected one of " + ", ".join(schema.STATUSES) + ")",
        ),
        (f"{_trimmed('url')} IS NULL AND {_trimmed('path')} IS NULL", None, lambda r: "neither a url nor a path"),
    ]
    for name in _TIMESTAMPS:
        if types[name] == "VARCHAR":
            checks.append(
                (
                    f"trim({name}) NOT IN ('', '0') AND TRY_CAST(trim({name}) AS TIMESTAMPTZ) IS NULL",
                    name,
                    lambda r, n=name: f"{n} {r[1]!r} is not an ISO 8601 timestamp",
                )
            )
    firsts = cur.execute(
        "SELECT "
        + ", ".join(f"min(file_row) FILTER (WHERE {where})" for where, _, _ in checks)
        + f" FROM {staged.table}"
    ).fetchall()[0]
    failed = [(row, check) for row, check in zip(firsts, checks, strict=True) if row is not None]
    if failed:
        row, (_, column, what) = min(failed, key=lambda item: item[0])
        value = None
        if column:
            value = cur.execute(f"SELECT {column} FROM {staged.table} WHERE file_row = ?", [row]).fetchall()[0][0]
        raise BadData(staged.name, f"{staged.row_label} {row}: {what((row, value))}")


def _zone_less_sql(types: dict[str, str]) -> str:
    """SQL counting, per row, the timestamps that came without a time zone (taken as UTC)."""
    parts = []
    for name in _TIMESTAMPS:
        if types[name] == "VARCHAR":
            text = f"trim({name})"
            parts.append(
                f"(CASE WHEN {name} IS NULL OR {text} IN ('', '0') OR suffix({text}, 'Z') THEN 0 "
                f"WHEN regexp_matches({text}, '{ZONE_RE}') THEN 0 ELSE 1 END)"
            )
        elif "TIME ZONE" not in types[name]:
            parts.append(f"({name} IS NOT NULL)::INT")
    return " + ".join(parts) if parts else "0"


# --- normalisation ------------------------------------------------------------------------------------


def _normalised_select(staged: StagedFile, file_no: int, types: dict[str, str]) -> str:
    """SELECT over one file's staging table giving the stored fields, normalised as SPEC says,
    with the derived columns (those that need the job's domain are completed at insert)."""
    ts = {n: timestamp_sql(n, types[n]) for n in _TIMESTAMPS}
    url = _trimmed("url")
    return f"""
        SELECT
            coalesce({_trimmed("id")}, printf('row-%07d', file_row)) AS id,
            coalesce($job_id, {_trimmed("job_id")}, $default_job) AS job_id,
            {url} AS url,
            coalesce({_trimmed("path")}, NULLIF({URL_PATH_SQL.format(url)}, ''), '/') AS path,
            coalesce(lower({_trimmed("host")}), {URL_HOST_SQL.format(url)}) AS host,
            lower(trim(status)) AS status,
            {_positive("status_code")} AS status_code,
            {_positive("response_time")} AS response_time,
            {_cache("cache_status")} AS cache_status,
            {_positive("second_response_time")} AS second_response_time,
            {_cache("second_cache_status")} AS second_cache_status,
            {_trimmed("content_type")} AS content_type,
            NULLIF(s.error, '') AS error,
            {_SOURCE_TYPE} AS source_type,
            {_trimmed("source_url")} AS source_url,
            {_count("retry_count")} AS retry_count,
            {_count("page_views_7d")} AS page_views_7d,
            {_count("page_views_28d")} AS page_views_28d,
            {_count("page_views_180d")} AS page_views_180d,
            {ts["created_at"]} AS created_at,
            {ts["started_at"]} AS started_at,
            {ts["completed_at"]} AS completed_at,
            {_count("inlinks")} AS inlinks,
            from_browser_cache,
            coalesce({_positive("status_code")}, c.code) AS http_code,
            coalesce({_positive("second_response_time")}, {_positive("response_time")}) AS effective_time,
            coalesce(second_response_time = 0, FALSE) AS second_was_zero,
            {_zone_less_sql(types)} AS zone_less,
            {file_no} AS file_no,
            file_row
        FROM {staged.table} s
        LEFT JOIN _codes c ON s.error = c.error AND coalesce(s.status_code, 0) <= 0
    """


def _job_ids(cur, staged: StagedFile) -> set[str]:
    rows = cur.execute(
        f"SELECT DISTINCT coalesce({_trimmed('job_id')}, ?) FROM {staged.table}", [staged.default_job_id]
    ).fetchall()
    return {r[0] for r in rows}


def _error_codes(cur, files: list[StagedFile]) -> None:
    """TEMP table _codes: the HTTP code each distinct error text names (few texts, mapped in Python)."""
    texts: set[str] = set()
    for staged in files:
        rows = cur.execute(
            f"SELECT DISTINCT error FROM {staged.table} WHERE error IS NOT NULL AND error <> '' "
            "AND coalesce(status_code, 0) <= 0"
        ).fetchall()
        texts.update(r[0] for r in rows)
    cur.execute("CREATE OR REPLACE TEMP TABLE _codes (error VARCHAR, code INTEGER)")
    mapped = [(e, c) for e in sorted(texts) if (c := code_from_error(e)) is not None]
    if mapped:
        cur.executemany("INSERT INTO _codes VALUES (?, ?)", mapped)


def _plural(n: int, word: str) -> str:
    return f"{n:,} {word}{'' if n == 1 else 's'}"


def clean_domain(value: str | None) -> str | None:
    """A job domain as a bare lower-case host.

    >>> clean_domain("https://Example.com:8080/x")
    'example.com'
    """
    if not value:
        return None
    text = value.strip().lower()
    if "://" in text:
        text = text.split("://", 1)[1]
    text = text.split("/", 1)[0].split("?", 1)[0].split("#", 1)[0]
    return text.rsplit("@", 1)[-1].split(":", 1)[0] or None


def _insert_job(cur, job_key: int, domain: str) -> None:
    """Move one job's rows (TEMP table `_job`, seq = 1..N in id order) into `tasks` with their order keys."""
    cur.register("_ranks", rank_table(cur, "_job"))
    try:
        columns = ", ".join(TASK_TABLE_COLUMNS)
        values = {
            "job_key": "$job_key",
            "url": "coalesce(url, 'https://' || $domain || path)",
            "host": "coalesce(host, $domain)",
            "cache_group": schema.CACHE_GROUP_SQL,
            "section": schema.SECTION_SQL,
            "path_lc": "lower(path)",
        }
        select = ", ".join(f"{values[c]} AS {c}" if c in values else c for c in TASK_TABLE_COLUMNS)
        cur.execute(
            f"INSERT INTO tasks ({columns}) SELECT {select} FROM _job JOIN _ranks USING (seq)",
            {"job_key": job_key, "domain": domain},
        )
    finally:
        cur.unregister("_ranks")
    cur.execute(
        "INSERT INTO job_counts SELECT job_key, status, cache_group, http_code, count(*) FROM tasks "
        "WHERE job_key = ? GROUP BY ALL",
        [job_key],
    )


def store_staging(staging: Staging, job_id: str | None = None, progress: Progress | None = None) -> list[ImportResult]:
    """Normalise the staged files and replace the jobs they hold (`job_id`: one job, renamed)."""
    cur = staging.cur
    if not any(f.rows for f in staging.files):
        raise BadData(", ".join(f.name for f in staging.files), "holds no tasks")
    types = []
    for staged in staging.files:
        types.append(_conform(cur, staged))
        _check_rows(cur, staged, types[-1])
    found = sorted(set().union(*(_job_ids(cur, f) for f in staging.files)))
    if job_id is not None:
        if len(found) > 1:
            raise InvalidParameter("--job-id", job_id, f"a single job, but the files hold {len(found)} jobs")
        staging.meta(job_id, staging.jobs.get(found[0]) or JobMeta())
        found = [job_id]
    _error_codes(cur, staging.files)
    for file_no, staged in enumerate(staging.files):
        verb = "CREATE OR REPLACE TEMP TABLE _all AS" if file_no == 0 else "INSERT INTO _all"
        cur.execute(
            f"{verb} {_normalised_select(staged, file_no, types[file_no])}",
            {"default_job": staged.default_job_id, "job_id": job_id},
        )
        cur.execute(f"DROP TABLE {staged.table}")
    results = []
    for index, one in enumerate(found):
        if progress:
            progress(index / len(found), f"storing job {one}")
        results.append(_store_job(staging, one))
    for table in ("_all", "_job", "_codes"):
        cur.execute(f"DROP TABLE IF EXISTS {table}")
    return results


def _store_job(staging: Staging, job_id: str) -> ImportResult:
    cur = staging.cur
    meta = staging.jobs.get(job_id) or JobMeta()
    rows_in, ids, zone_less, zeros = cur.execute(
        "SELECT count(*), count(DISTINCT id), sum(zone_less), count(*) FILTER (WHERE second_was_zero) "
        "FROM _all WHERE job_id = ?",
        [job_id],
    ).fetchall()[0]
    # Repeated task ids (overlapping pages, a re-export appended): the last one wins.
    dedupe = (
        "QUALIFY row_number() OVER (PARTITION BY id ORDER BY file_no DESC, file_row DESC) = 1" if ids < rows_in else ""
    )
    cur.execute(
        "CREATE OR REPLACE TEMP TABLE _job AS SELECT * EXCLUDE (second_was_zero, zone_less, file_row), "
        f"row_number() OVER (ORDER BY id)::INTEGER AS seq FROM (SELECT * FROM _all WHERE job_id = ? {dedupe})",
        [job_id],
    )
    files = [staging.files[r[0]] for r in cur.execute("SELECT DISTINCT file_no FROM _job ORDER BY 1").fetchall()]
    main_host = cur.execute(
        "SELECT host, count(*) AS n FROM _job WHERE host IS NOT NULL GROUP BY host ORDER BY n DESC, host LIMIT 1"
    ).fetchall()
    domain = clean_domain(meta.domain) or (main_host[0][0] if main_host else None) or "unknown"
    old = cur.execute("SELECT job_key FROM jobs WHERE job_id = ?", [job_id]).fetchall()
    if old:
        delete_job_rows(cur, old[0][0])
    job_key = cur.execute("SELECT coalesce(max(job_key), 0) + 1 FROM jobs").fetchall()[0][0]
    _insert_job(cur, job_key, domain)
    tasks, derived = cur.execute(
        "SELECT count(*), count(*) FILTER (WHERE status_code IS NULL AND http_code IS NOT NULL) "
        "FROM tasks WHERE job_key = ?",
        [job_key],
    ).fetchall()[0]

    notes = [note for f in files for note in f.notes]
    if zone_less:
        notes.append(f"{_plural(int(zone_less), 'timestamp')} had no time zone and were taken as UTC")
    if rows_in > tasks:
        notes.append(f"{_plural(rows_in - tasks, 'row')} repeated a task id; the last of each was kept")
    if zeros:
        notes.append(f"{_plural(zeros, 'second request')} stored as 0 ms were read as no second request")
    if derived:
        notes.append(f"{_plural(derived, 'task')} without an HTTP code got one from their error text")
    formats = "+".join(dict.fromkeys(f.format for f in files))
    cur.execute(
        f"""
        INSERT INTO jobs
        SELECT $job_key, $job_id, $domain,
            coalesce($status, CASE WHEN bool_and(status IN ('completed', 'failed', 'skipped'))
                                   THEN 'completed' ELSE 'running' END),
            coalesce({timestamp_sql("$created")}, min(created_at), min(started_at), min(completed_at)),
            coalesce({timestamp_sql("$completed")},
                     CASE WHEN bool_and(status IN ('completed', 'failed', 'skipped')) THEN max(completed_at) END),
            $source, $format, now(), count(*),
            bool_or(page_views_7d IS NOT NULL OR page_views_28d IS NOT NULL OR page_views_180d IS NOT NULL),
            $notes
        FROM tasks WHERE job_key = $job_key
        """,
        {
            "job_key": job_key,
            "job_id": job_id,
            "domain": domain,
            "status": (meta.status or "").strip().lower() or None,
            "created": meta.created_at or "",
            "completed": meta.completed_at or "",
            "source": ", ".join(dict.fromkeys(f.name for f in files)),
            "format": formats,
            "notes": json.dumps(notes),
        },
    )
    return ImportResult(job_id, domain, int(tasks), formats, tuple(notes))
