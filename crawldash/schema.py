"""The one definition of the task record, its labels, the filters' vocabularies and the KPI formulas.

Everything else (the DDL, the importers' normalisation, the sort whitelist, the table's column
formats, the export headers, the help texts and the README's column table) reads from here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from crawldash.errors import InvalidParameter

#: Kinds of values a column holds: how it is typed in DuckDB, parsed on import and shown.
TEXT, INT, TIMESTAMP, BOOL = "text", "int", "timestamp", "bool"
SQL_TYPES = {TEXT: "VARCHAR", INT: "INTEGER", TIMESTAMP: "TIMESTAMPTZ", BOOL: "BOOLEAN"}


@dataclass(frozen=True)
class Column:
    """One field of the task record as the seed API names it."""

    name: str
    kind: str
    label: str
    meaning: str
    sortable: bool = False

    @property
    def sql_type(self) -> str:
        return SQL_TYPES[self.kind]


#: The task record, in the seed API's order. `label` is the original product's export label.
TASK_COLUMNS: tuple[Column, ...] = (
    Column("id", TEXT, "Task ID", "unique task id"),
    Column("job_id", TEXT, "Job ID", "the crawl job"),
    Column("url", TEXT, "Page URL", "full URL crawled"),
    Column("path", TEXT, "Page path", "URL path (no query string)", sortable=True),
    Column("host", TEXT, "Host", "hostname, shown only when it differs from the job's domain"),
    Column("status", TEXT, "Status", "pending, running, completed, failed, waiting, skipped", sortable=True),
    Column("status_code", INT, "Status Code", "HTTP status of the first request", sortable=True),
    Column("response_time", INT, "Load Time (ms)", "first request, milliseconds", sortable=True),
    Column("cache_status", TEXT, "Cache Status", "CDN cache result of the first request", sortable=True),
    Column(
        "second_response_time",
        INT,
        "Load Response Time (ms)",
        "second request (cache validation), milliseconds",
        sortable=True,
    ),
    Column("second_cache_status", TEXT, "Second Cache Status", "cache result of the second request"),
    Column("content_type", TEXT, "Content Type", "Content-Type header as sent"),
    Column("error", TEXT, "Error", "why the task failed"),
    Column("source_type", TEXT, "Source", "how the URL was found: sitemap, link, manual, fallback"),
    Column("source_url", TEXT, "Source page", "page where the URL was found"),
    Column("retry_count", INT, "Retry Count", "retries made"),
    Column("page_views_7d", INT, "Views (7d)", "analytics page views, last 7 days (null: no data)", sortable=True),
    Column("page_views_28d", INT, "Views (28d)", "analytics page views, last 28 days (null: no data)", sortable=True),
    Column(
        "page_views_180d", INT, "Views (180d)", "analytics page views, last 180 days (null: no data)", sortable=True
    ),
    Column("created_at", TIMESTAMP, "Created At", "when the task was created (UTC)", sortable=True),
    Column("started_at", TIMESTAMP, "Started At", "when the task started (UTC)"),
    Column("completed_at", TIMESTAMP, "Completed At", "when the task completed (UTC)"),
)
COLUMNS = {c.name: c for c in TASK_COLUMNS}
TASK_FIELDS = tuple(c.name for c in TASK_COLUMNS)

#: Fields we keep beside the seed's record, filled by some importers (Screaming Frog, HAR).
EXTRA_COLUMNS: tuple[Column, ...] = (
    Column("inlinks", INT, "Inlinks", "number of links to the page (Screaming Frog All Inlinks)"),
    Column(
        "from_browser_cache",
        BOOL,
        "From browser cache",
        "the browser served the entry from its own cache (HAR); left out of timing charts",
    ),
)
#: Every field an importer may deliver, in order.
INPUT_COLUMNS = TASK_COLUMNS + EXTRA_COLUMNS
INPUT_FIELDS = tuple(c.name for c in INPUT_COLUMNS)

ANALYTICS_FIELDS = ("page_views_7d", "page_views_28d", "page_views_180d")

#: The dashboard's short headings: the tasks table, the "Sort by" menu and the Overview's lists.
#: (`label` stays the original product's export header.) `status_code` heads the HTTP code shown.
HEADINGS = {
    "url": "Page",
    "path": "Path",
    "host": "Host",
    "status": "Status",
    "status_code": "HTTP code",
    "response_time": "Response (ms)",
    "cache_status": "Cache",
    "second_response_time": "2nd response (ms)",
    "second_cache_status": "2nd cache",
    "content_type": "Content type",
    "error": "Error",
    "source_type": "Found by",
    "page_views_7d": "Views 7d",
    "page_views_28d": "Views 28d",
    "page_views_180d": "Views 180d",
    "created_at": "Created (UTC)",
    "id": "Task ID",
    "effective_time": "Effective (ms)",
}

# --- vocabularies -------------------------------------------------------------------------------

STATUSES = ("pending", "running", "completed", "failed", "waiting", "skipped")
SOURCE_TYPES = ("sitemap", "link", "manual", "fallback")
#: Spellings other tools use for a source type, mapped to ours (the seed says link_crawl).
SOURCE_TYPE_ALIASES = {"link_crawl": "link", "links": "link", "crawl": "link"}

CACHE_HIT, CACHE_MISS = ("HIT", "DYNAMIC"), ("MISS", "EXPIRED")
#: The cache filter's values: hit = HIT or DYNAMIC, miss = MISS or EXPIRED (the seed's groups).
CACHE_FILTERS = {"hit": CACHE_HIT, "miss": CACHE_MISS}
#: The cache statuses charted on their own; everything else is "other", no status is "none".
CACHE_STATUSES = ("HIT", "MISS", "EXPIRED", "DYNAMIC")

#: Sort fields (the seed's whitelist). `status_code` sorts by the HTTP code shown (see http_code).
SORT_FIELDS = tuple(c.name for c in TASK_COLUMNS if c.sortable)
DEFAULT_SORT = "-created_at"
#: The stored column each sort field orders by.
SORT_COLUMN = {f: ("http_code" if f == "status_code" else f) for f in SORT_FIELDS}

DEFAULT_LIMIT, MAX_LIMIT = 50, 200
EXPORT_CAP = 10_000
SLOW_MS = 3000

# --- formulas: one definition per number, in SQL over the stored table ---------------------------
# The stored table keeps the seed's fields plus these derived columns, computed once at import.

#: effective response time = second_response_time when present and > 0, else response_time.
#: Import stores a second_response_time of 0 as NULL, so the coalesce is the whole rule.
EFFECTIVE_SQL = "coalesce(second_response_time, response_time)"
CACHE_GROUP_SQL = (
    "CASE WHEN cache_status IS NULL THEN 'none' "
    "WHEN cache_status IN ('HIT', 'DYNAMIC') THEN 'hit' "
    "WHEN cache_status IN ('MISS', 'EXPIRED') THEN 'miss' ELSE 'other' END"
)
#: section = first path segment: /blog/a/b -> /blog; / stays /.
SECTION_SQL = "CASE WHEN path = '/' OR path = '' THEN '/' ELSE '/' || split_part(ltrim(path, '/'), '/', 1) END"
#: warmed = first request MISS or EXPIRED and a real second request (stored NULL when it was 0) HIT.
WARMED_SQL = (
    "(cache_status IN ('MISS', 'EXPIRED') AND second_response_time IS NOT NULL AND second_cache_status = 'HIT')"
)
#: time saved per page, only where a real second request exists (stored NULL when it was 0).
TIME_SAVED_SQL = "(response_time - second_response_time)"


@dataclass(frozen=True)
class Kpi:
    """A number shown on the Overview page and printed by `stats`, with its formula for help texts."""

    key: str
    label: str
    formula: str


KPIS: tuple[Kpi, ...] = (
    Kpi("tasks", "Tasks", "All tasks of the job that match the filters."),
    Kpi("completed", "Completed", "Tasks with status completed."),
    Kpi(
        "broken",
        "Failed (broken)",
        "broken = status failed. The HTTP code is derived from the error "
        'text ("Not Found" = 404) when the task has none.',
    ),
    Kpi(
        "slow_pages",
        "Slow pages",
        f"slow page = effective response time > {SLOW_MS:,} ms; effective "
        "response time = second request's time when it exists (> 0 ms), else the first request's.",
    ),
    Kpi(
        "cache_hit_rate",
        "Cache hit rate",
        "HIT / (HIT + MISS + EXPIRED) over first requests. DYNAMIC "
        "pages cannot be cached and are not counted as hits or misses.",
    ),
    Kpi(
        "p50",
        "Median response",
        "50th percentile (linear interpolation) of the effective response time: "
        "second request when it exists (> 0 ms), else the first.",
    ),
    Kpi(
        "p95",
        "p95 response",
        "95th percentile (linear interpolation) of the effective response time: "
        "second request when it exists (> 0 ms), else the first.",
    ),
    Kpi(
        "warmed",
        "Pages warmed",
        "warmed = first request MISS or EXPIRED and a real second request (> 0 ms) that was a HIT.",
    ),
    Kpi(
        "time_saved_ms",
        "Time saved",
        "Sum over pages with a real second request (> 0 ms) of response_time − second_response_time.",
    ),
    Kpi(
        "dynamic_share",
        "DYNAMIC share",
        "Share of tasks whose first request was DYNAMIC: such pages cannot be cached, so they are "
        "neither hits nor misses in the hit rate.",
    ),
)
KPI_BY_KEY = {k.key: k for k in KPIS}

# --- exports -------------------------------------------------------------------------------------

EXPORT_TYPES = ("job", "broken-links", "slow-pages")
EXPORT_FORMATS = ("csv", "json", "xlsx")

#: (field, label) per export type, as the original product labels them. `http_code` and `error` are
#: our additions to broken links: the HTTP code shown (derived from the error text when missing).
EXPORT_COLUMNS: dict[str, tuple[tuple[str, str], ...]] = {
    "job": tuple(
        (f, COLUMNS[f].label)
        for f in (
            "id",
            "job_id",
            "path",
            "url",
            "content_type",
            "status",
            "cache_status",
            "status_code",
            "response_time",
            "second_cache_status",
            "second_response_time",
            "retry_count",
            "error",
            "source_type",
            "source_url",
            "created_at",
            "started_at",
            "completed_at",
        )
    ),
    "broken-links": (
        ("source_url", "Found on"),
        ("url", "Broken link"),
        ("status", "Status"),
        ("created_at", "Date"),
        ("source_type", "Source Type"),
        ("http_code", "HTTP code"),
        ("error", "Error"),
    ),
    "slow-pages": (
        ("url", "Page"),
        ("content_type", "Content Type"),
        ("cache_status", "Cache Status"),
        ("response_time", "Load Time (ms)"),
        ("second_response_time", "Load Time 2nd try (ms)"),
        ("created_at", "Date"),
    ),
}
ANALYTICS_EXPORT_COLUMNS = tuple((f, COLUMNS[f].label) for f in ANALYTICS_FIELDS)
#: Which rows each export type holds, over the stored table.
EXPORT_WHERE = {
    "job": "TRUE",
    "broken-links": "status = 'failed'",
    "slow-pages": f"effective_time > {SLOW_MS}",
}


def export_columns(export_type: str, has_analytics: bool) -> tuple[tuple[str, str], ...]:
    """The (field, label) pairs of one export type; views columns only when the job has analytics."""
    return EXPORT_COLUMNS[export_type] + (ANALYTICS_EXPORT_COLUMNS if has_analytics else ())


def _headers() -> dict[str, str]:
    """Lower-case column headers we read back as fields: our names, and every export label."""
    names = {c.name: c.name for c in INPUT_COLUMNS}
    labels = {label: name for cols in EXPORT_COLUMNS.values() for name, label in cols if name in COLUMNS}
    labels.update({label: name for name, label in ANALYTICS_EXPORT_COLUMNS})
    labels.update({c.label: c.name for c in INPUT_COLUMNS})
    return {k.lower(): v for k, v in {**labels, **names}.items()}


#: Header (lower case) -> field, for our own CSV/Parquet/JSON Lines and for our exports read back.
FIELD_BY_HEADER = _headers()


_JOB_ID = re.compile(r"[^\s/\\?#%]{1,200}")


def check_job_id(job_id: str) -> str:
    """A job id that can go into a URL path or a link: no slashes, spaces, `?`, `#` or `%`, not `.` or `..`."""
    text = (job_id or "").strip()
    if not _JOB_ID.fullmatch(text) or text in (".", "..") or not text.isprintable():
        raise InvalidParameter("job id", job_id, "a job id such as a UUID, without slashes, spaces, ?, # or %")
    return text
