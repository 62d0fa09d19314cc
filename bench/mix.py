"""The query mix, as data: what every engine runs, and the shapes the equality check compares.

Each List Tasks operation is one page plus the total for the same filters, as the API returns them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from crawldash import schema, stats

#: A keyword with no `_`, `%` or `\`, so the original's ILIKE (where those are wildcards) means the
#: same as our literal match; about 6% of the generated paths contain it.
KEYWORD = "garden"
MIDDLE = -1  # offset placeholder: the middle of the result, resolved per job


@dataclass(frozen=True)
class ListQuery:
    """One List Tasks call: filters, sort (`-` for descending), limit and offset."""

    key: str
    label: str
    status: str | None = None
    cache: str | None = None
    path: str | None = None
    sort: str = "-created_at"
    limit: int = 50
    offset: int = 0
    keyword: bool = False

    @property
    def field(self) -> str:
        return self.sort.lstrip("-")

    @property
    def descending(self) -> bool:
        return self.sort.startswith("-")

    def at(self, offset: int) -> ListQuery:
        return replace(self, offset=offset)


LIST_QUERIES: tuple[ListQuery, ...] = (
    ListQuery("default", "default page + count"),
    ListQuery(
        "miss_slowest",
        "completed + cache miss, -response_time + count",
        status="completed",
        cache="miss",
        sort="-response_time",
    ),
    ListQuery("keyword", f"path '{KEYWORD}', sort path + count", path=KEYWORD, sort="path", keyword=True),
    ListQuery("views", "-page_views_7d, 200 rows + count", sort="-page_views_7d", limit=200),
    ListQuery("deep", "deep page (middle offset) + count", offset=MIDDLE),
)

EXPORT_FORMATS = schema.EXPORT_FORMATS
EXPORT_CAP = schema.EXPORT_CAP
#: Columns of the job export (the original's labels), the ones every engine writes.
EXPORT_FIELDS = tuple(field for field, _ in schema.export_columns("job", has_analytics=True))

#: The definitions every engine follows are crawldash's own (one source of truth for the numbers).
CACHE_GROUPS = schema.CACHE_FILTERS
SLOW_MS = schema.SLOW_MS
QUANTILES = stats.PERCENTILES
TIME_STEPS = stats.TIME_STEPS
TIME_BUCKETS = 60
HISTOGRAM_BINS = 40
SECTION_TOP, CONTENT_TOP, FIX_LIMIT = 20, 15, 10


#: The columns of each chart series the check compares, in order (crawldash's frames' column names).
#: Every engine returns each series as a list of tuples in this order; "stats" holds the KPIs.
SERIES_COLUMNS = {
    "histogram": ("start_ms", "end_ms", "tasks"),
    "histogram_log": ("start_ms", "end_ms", "tasks"),
    "first_vs_second": ("pages", "tasks", "first_p50", "first_p95", "second_p50", "second_p95"),
    "by_section": ("section", "tasks", "p50", "p95", "mean", "slow", "hits", "misses", "dynamic", "hit_rate"),
    "by_content_type": ("content_type", "tasks", "p50", "p95", "mean", "slow", "hits", "misses", "dynamic", "hit_rate"),
    "over_time": ("start", "seconds", "tasks", "p50", "p95", "hits", "misses", "failed", "hit_rate"),
    "cache_breakdown": ("cache_status", "tasks", "share"),
    "warming_outcome": ("outcome", "tasks"),
}


@dataclass
class PageResult:
    """What the equality check compares of one List Tasks call."""

    total: int
    ids: list[str]
    values: list  # the sort field's value per row, normalised by `norm`


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def norm(value):
    """A sort value comparable across engines: timestamps as epoch microseconds, NaN as None."""
    if value is None:
        return None
    if isinstance(value, float):
        if math.isnan(value):
            return None
        return int(value) if value.is_integer() else value
    if isinstance(value, str) and len(value) >= 19 and value[4] == "-" and value[10] in "T ":
        value = datetime.fromisoformat(value)
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return (value - _EPOCH) // timedelta(microseconds=1)
    if hasattr(value, "item"):  # numpy scalars
        return norm(value.item())
    return value


def nice_width(span: float, bins: int) -> float:
    """A round bin width (1, 2 or 5 times a power of ten), as crawldash.stats._nice_width."""
    raw = max(span / bins, 1.0)
    power = 10 ** math.floor(math.log10(raw))
    return next(m * power for m in (1, 2, 5, 10) if m * power >= raw)


def time_step(low: float, high: float) -> int:
    return next((s for s in TIME_STEPS if (high - low) / s <= TIME_BUCKETS), TIME_STEPS[-1])


def hit_rate(hits, misses):
    return hits / (hits + misses) if hits + misses else None


def stats_result(*, tasks, status, caches, slow, broken, warmed, saved, second_pages, quantiles, mean, timed) -> dict:
    """A baseline's KPIs in the shape the check compares; the hit rate and the DYNAMIC share are
    derived here from the cache counts, as crawldash.stats.job_stats derives them."""
    hits, misses = caches.get("HIT", 0), caches.get("MISS", 0) + caches.get("EXPIRED", 0)
    percent = {f"p{round(p * 100)}": v for p, v in zip(QUANTILES, quantiles, strict=True)}
    return {
        "kpi": {
            "tasks": tasks,
            "status": status,
            "cache_status": caches,
            "slow_pages": slow,
            "broken": broken,
            "warmed": warmed,
            "time_saved_ms": saved,
            "pages_with_second_request": second_pages,
            "cache_hit_rate": hit_rate(hits, misses),
            "dynamic_share": caches.get("DYNAMIC", 0) / tasks if tasks else None,
        },
        "effective": {**percent, "mean": mean, "timed_tasks": timed},
        "percentiles": dict(percent),
    }


def section_of(path: str | None) -> str | None:
    """The first path segment, as crawldash's schema.SECTION_SQL: /blog/a/b -> /blog; / stays /."""
    if path is None:
        return None
    if path in ("/", ""):
        return "/"
    return "/" + path.lstrip("/").split("/", 1)[0]


def content_key(content_type: str | None) -> str:
    """The media type without parameters, as crawldash.stats.CONTENT_TYPE_SQL."""
    if content_type is None:
        return "(none)"
    key = content_type.split(";", 1)[0].strip().lower()
    return key or "(none)"


def linear_bins(p99: float) -> tuple[float, int]:
    width = nice_width(p99, HISTOGRAM_BINS)
    return width, math.ceil(p99 / width)


def interpolate(sorted_values: list, p: float):
    """Linear interpolation between closest ranks (DuckDB quantile_cont, PostgreSQL percentile_cont)."""
    if not sorted_values:
        return None
    pos = p * (len(sorted_values) - 1)
    lo = math.floor(pos)
    hi = min(lo + 1, len(sorted_values) - 1)
    return sorted_values[lo] + (pos - lo) * (sorted_values[hi] - sorted_values[lo])
