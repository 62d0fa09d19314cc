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


@dataclass
class _Check:
    """A row SPEC's record cannot hold: its condition, the column to quote, and the message."""

    where: str
    column: str | None
    message: Callable[[object], str]


@dataclass
class _Typed:
    """A file's staging table seen as typed SQL expressions, one per input field, and its checks."""

    expr: dict[str, str]
    timestamp_types: dict[str, str]
    checks: list[_Check]
    missing: set[str]


def _typed(cur, staged: StagedFile) -> _Typed:
    """Read a staging table's column types; say how each input field is read from it and checked."""
    types = {r[0]: r[1] for r in cur.execute(f"DESCRIBE {staged.table}").fetchall()}
    expr: dict[str, str] = {}
    checks: list[_Check] = []
    stamps: dict[str, str] = {}
    for column in schema.INPUT_COLUMNS:
        name, have = column.name, types.get(column.name)
        if have is None:
            expr[name] = f"NULL::{'VARCHAR' if column.kind == schema.TIMESTAMP else column.sql_type}"
            if column.kind == schema.TIMESTAMP:
                stamps[name] = "VARCHAR"  # read as text; a missing column has nothing to check
            continue
        elif column.kind == schema.INT and have == "VARCHAR":
            text = f"replace(trim({name}), ',', '.')" if staged.decimal_comma else f"trim({name})"
            value = f"round(TRY_CAST({text} AS DOUBLE))"
            checks.append(
                _Check(f"trim({name}) <> '' AND {value} IS NULL", name, lambda v, n=name: f"{n} {v!r} is not a number")
            )
            expr[name] = f"TRY_CAST({value} AS BIGINT)"
        elif column.kind == schema.INT and (have in ("DOUBLE", "FLOAT") or have.startswith("DECIMAL")):
            expr[name] = f"TRY_CAST(round({name}) AS BIGINT)"
        elif column.kind == schema.BOOL and have != "BOOLEAN":
            value = f"TRY_CAST(lower(trim({name}::VARCHAR)) AS BOOLEAN)"
            checks.append(
                _Check(
                    f"trim({name}::VARCHAR) <> '' AND {value} IS NULL",
                    name,
                    lambda v, n=name: f"{n} {v!r} is not true/false",
                )
            )
            expr[name] = value
        elif column.kind == schema.TEXT and have != "VARCHAR":
            expr[name] = f"{name}::VARCHAR"
        elif column.kind == schema.TIMESTAMP and not (have == "VARCHAR" or have.startswith("TIMESTAMP")):
            raise BadData(staged.name, f"{name} holds {have} values; expected ISO 8601 timestamps")
        else:
            expr[name] = name
        if column.kind == schema.TIMESTAMP:
            stamps[name] = have
            if have == "VARCHAR":
                checks.append(
                    _Check(
                        f"trim({name}) NOT IN ('', '0') AND TRY_CAST(trim({name}) AS TIMESTAMPTZ) IS NULL",
                        name,
                        lambda v, n=name: f"{n} {v!r} is not an ISO 8601 timestamp",
                    )
                )
    expected = "no status (expected one of " + ", ".join(schema.STATUSES) + ")"
    checks.insert(0, _Check(f"{_trimmed(expr['status'])} IS NULL", None, lambda v: expected))
    known = ", ".join(f"'{s}'" for s in schema.STATUSES)
    checks.insert(
        1,
        _Check(
            f"lower({_trimmed(expr['status'])}) NOT IN ({known})",
            "status",
            lambda v: f"status {v!r} is not one of " + ", ".join(schema.STATUSES),
        ),
    )
    no_place = f"{_trimmed(expr['url'])} IS NULL AND {_trimmed(expr['path'])} IS NULL"
    checks.insert(2, _Check(no_place, None, lambda v: "neither a url nor a path"))
    missing = {n for n, e in expr.items() if e.startswith("NULL::")}
    return _Typed(expr, stamps, checks, missing)


def _zone_less_sql(types: dict[str, str], missing: set[str] = frozenset()) -> str:
    """SQL counting, per row, the timestamps that came without a time zone (taken as UTC)."""
    parts = []
    for name in _TIMESTAMPS:
        if name in missing:
            continue
        if types[name] == "VARCHAR":
            text = f"trim({name})"
            parts.append(
                f"(CASE WHEN {name} IS NULL OR {text} IN ('', '0') OR suffix({text}, 'Z') THEN 0 "
                f"WHEN regexp_matches({text}, '{ZONE_RE}') THEN 0 ELSE 1 END)"
            )
        elif "TIME ZONE" not in types[name]:
            parts.append(f"({name} IS NOT NULL)::INT")
    return " + ".join(parts) if parts else "0"


def _typed_rows(staged: StagedFile, typed: _Typed) -> str:
    """A subquery giving every input field of a staging table under its name, typed."""
    return "(SELECT file_row, " + ", ".join(f"{e} AS {n}" for n, e in typed.expr.items()) + f" FROM {staged.table})"


@dataclass
class _JobSurvey:
    """What one scan of the staged rows says about one job before anything is stored."""

    rows: int = 0
    ids: int = 0
    zone_less: int = 0
    second_zero: int = 0


def _survey(cur, staged: StagedFile, typed: _Typed, surveys: dict[str, _JobSurvey], errors: set[str]) -> None:
    """One scan per file: refuse the first bad row, count each job's rows, ids and quirks, and
    collect the error texts whose HTTP code must be derived."""
    firsts = ", ".join(f"min(file_row) FILTER (WHERE {c.where})" for c in typed.checks)
    e = typed.expr
    rows = cur.execute(
        f"""
        SELECT coalesce({_trimmed(e["job_id"])}, $default) AS job, count(*),
            count(DISTINCT coalesce({_trimmed(e["id"])}, printf('row-%07d', file_row))),
            sum({_zone_less_sql(typed.timestamp_types, typed.missing)}),
            count(*) FILTER (WHERE {e["second_response_time"]} = 0),
            list(DISTINCT {e["error"]}) FILTER (WHERE {e["error"]} <> '' AND coalesce({e["status_code"]}, 0) <= 0),
            {firsts}
        FROM {staged.table} GROUP BY job
        """,
        {"default": staged.default_job_id},
    ).fetchall()
    failed = [(row, check) for r in rows for row, check in zip(r[6:], typed.checks, strict=True) if row is not None]
    if failed:
        row, check = min(failed, key=lambda item: item[0])
        value = None
        if check.column:
            value = cur.execute(f"SELECT {check.column} FROM {staged.table} WHERE file_row = ?", [row]).fetchall()[0][0]
        raise BadData(staged.name, f"{staged.row_label} {row}: {check.message(value)}")
    for job, count, ids, zone_less, zeros, texts, *_ in rows:
        survey = surveys.setdefault(job, _JobSurvey())
        survey.rows += count
        survey.ids += ids  # an over-count across files; dedupe runs whenever it is below the rows
        survey.zone_less += int(zone_less or 0)
        survey.second_zero += zeros
        errors.update(texts or [])


# --- normalisation ------------------------------------------------------------------------------------


def _normalised_select(staged: StagedFile, file_no: int, typed: _Typed) -> str:
    """SELECT over one file's typed rows giving the stored fields, normalised as SPEC says, with the
    HTTP code and the effective time (the columns that need the job's domain come at insert)."""
    ts = {n: timestamp_sql(n, typed.timestamp_types[n]) for n in _TIMESTAMPS}
    url = _trimmed("url")
    return f"""
        SELECT
            coalesce({_trimmed("id")}, printf('row-%07d', file_row)) AS id,
            coalesce($job_id, {_trimmed("job_id")}, $default_{file_no}) AS job_id,
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
            {file_no} AS file_no,
            file_row
        FROM {_typed_rows(staged, typed)} s
        LEFT JOIN _codes c ON s.error = c.error AND coalesce(s.status_code, 0) <= 0
    """


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


def _error_codes(cur, texts: set[str]) -> None:
    """TEMP table _codes: the HTTP code each distinct error text names (few texts, mapped in Python)."""
    cur.execute("CREATE OR REPLACE TEMP TABLE _codes (error VARCHAR, code INTEGER)")
    mapped = [(e, c) for e in sorted(texts) if (c := code_from_error(e)) is not None]
    if mapped:
        cur.executemany("INSERT INTO _codes VALUES (?, ?)", mapped)


def _drop(cur, staged: StagedFile) -> None:
    kind = cur.execute(
        "SELECT table_type FROM information_schema.tables WHERE table_name = ?", [staged.table]
    ).fetchall()
    cur.execute(f"DROP {'VIEW' if kind and kind[0][0] == 'VIEW' else 'TABLE'} IF EXISTS {staged.table}")


def store_staging(staging: Staging, job_id: str | None = None, progress: Progress | None = None) -> list[ImportResult]:
    """Normalise the staged files and replace the jobs they hold (`job_id`: one job, renamed).

    One scan per file checks the rows and counts each job; one statement then normalises every file
    into `_all`, dropping repeated ids; the order keys of every job come from narrow sorts (`ranks`);
    each job then replaces the stored job of the same id.
    """
    cur = staging.cur
    if not any(f.rows for f in staging.files):
        raise BadData(", ".join(f.name for f in staging.files), "holds no tasks")
    typed = [_typed(cur, staged) for staged in staging.files]
    surveys: dict[str, _JobSurvey] = {}
    errors: set[str] = set()
    for staged, types in zip(staging.files, typed, strict=True):
        _survey(cur, staged, types, surveys, errors)
    if job_id is not None:
        if len(surveys) > 1:
            raise InvalidParameter("--job-id", job_id, f"a single job, but the files hold {len(surveys)} jobs")
        staging.meta(job_id, staging.jobs.get(next(iter(surveys))) or JobMeta())
        surveys = {job_id: next(iter(surveys.values()))}
    _error_codes(cur, errors)
    union = " UNION ALL ".join(
        _normalised_select(f, n, t) for n, (f, t) in enumerate(zip(staging.files, typed, strict=True))
    )
    repeated = any(s.ids < s.rows for s in surveys.values()) or len(staging.files) > 1
    # Repeated task ids (overlapping pages, a re-export appended): the last one wins.
    dedupe = "QUALIFY row_number() OVER (PARTITION BY job_id, id ORDER BY file_no DESC, file_row DESC) = 1"
    params = {"job_id": job_id, **{f"default_{n}": f.default_job_id for n, f in enumerate(staging.files)}}
    cur.execute(
        f"CREATE OR REPLACE TEMP TABLE _all AS SELECT * EXCLUDE (file_row) FROM (SELECT * FROM ({union}) "
        f"{dedupe if repeated else ''})",
        params,
    )
    for staged in staging.files:
        _drop(cur, staged)
    cur.register("_ranks", rank_table(cur, "_all"))
    try:
        results = []
        for index, (one, survey) in enumerate(sorted(surveys.items())):
            if progress:
                progress(index / len(surveys), f"storing job {one}")
            results.append(_store_job(staging, one, survey))
    finally:
        cur.unregister("_ranks")
    for table in ("_all", "_codes"):
        cur.execute(f"DROP TABLE IF EXISTS {table}")
    return results


def _insert_job(cur, job_key: int, job_id: str, domain: str) -> None:
    """Move one job's rows of `_all` into `tasks`, with the derived columns and the order keys
    (`_ranks`, aligned with `_all` row by row)."""
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
        f"INSERT INTO tasks ({columns}) SELECT {select} FROM _all POSITIONAL JOIN _ranks WHERE job_id = $job_id",
        {"job_key": job_key, "domain": domain, "job_id": job_id},
    )
    cur.execute(
        "INSERT INTO job_counts SELECT job_key, status, cache_group, http_code, count(*) FROM tasks "
        "WHERE job_key = ? GROUP BY ALL",
        [job_key],
    )


def _store_job(staging: Staging, job_id: str, survey: _JobSurvey) -> ImportResult:
    cur = staging.cur
    meta = staging.jobs.get(job_id) or JobMeta()
    files = [
        staging.files[r[0]]
        for r in cur.execute("SELECT DISTINCT file_no FROM _all WHERE job_id = ? ORDER BY 1", [job_id]).fetchall()
    ]
    main_host = cur.execute(
        "SELECT host, count(*) AS n FROM _all WHERE job_id = ? AND host IS NOT NULL GROUP BY host "
        "ORDER BY n DESC, host LIMIT 1",
        [job_id],
    ).fetchall()
    domain = clean_domain(meta.domain) or (main_host[0][0] if main_host else None) or "unknown"
    old = cur.execute("SELECT job_key FROM jobs WHERE job_id = ?", [job_id]).fetchall()
    if old:
        delete_job_rows(cur, old[0][0])
    job_key = cur.execute("SELECT coalesce(max(job_key), 0) + 1 FROM jobs").fetchall()[0][0]
    _insert_job(cur, job_key, job_id, domain)
    tasks, derived = cur.execute(
        "SELECT count(*), count(*) FILTER (WHERE status_code IS NULL AND http_code IS NOT NULL) "
        "FROM tasks WHERE job_key = ?",
        [job_key],
    ).fetchall()[0]

    notes = [note for f in files for note in f.notes]
    if survey.zone_less:
        notes.append(f"{_plural(survey.zone_less, 'timestamp')} had no time zone and were taken as UTC")
    if survey.rows > tasks:
        notes.append(f"{_plural(survey.rows - tasks, 'row')} repeated a task id; the last of each was kept")
    if survey.second_zero:
        notes.append(f"{_plural(survey.second_zero, 'second request')} stored as 0 ms were read as no second request")
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
