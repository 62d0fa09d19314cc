"""Every number of SPEC's "one definition" list, and the binned series the charts draw, in DuckDB.

Each function reads one snapshot and returns a few rows at most: no chart needs raw tasks.
"""

from __future__ import annotations

import math

import pandas as pd

from crawldash import schema
from crawldash.query import Filters
from crawldash.store import Job, Store
from crawldash.summary import cached

PERCENTILES = (0.5, 0.9, 0.95, 0.99)
#: Timing and cache numbers leave out entries a browser served from its own cache (HAR imports):
#: they never reached the server or the CDN.
NOT_BROWSER_CACHED = " AND from_browser_cache IS NOT TRUE"


def _scope(job: Job, filters: Filters, timing: bool = False) -> tuple[str, list]:
    where, params = filters.where()
    return "job_key = ?" + where + (NOT_BROWSER_CACHED if timing else ""), [job.job_key, *params]


def _counts(cur, sql_column: str, job: Job, filters: Filters, timing: bool = False) -> dict[str, int]:
    where, params = _scope(job, filters, timing)
    rows = cur.execute(
        f"SELECT {sql_column} AS k, count(*) FROM tasks WHERE {where} GROUP BY k ORDER BY count(*) DESC, k", params
    ).fetchall()
    return {k: int(n) for k, n in rows}


@cached
def job_stats(store: Store, job_id: str, filters: Filters | None = None) -> dict:
    """The KPIs of one job (within the filters), as `python -m crawldash stats` prints them."""
    filters = filters or Filters()
    with store.snapshot() as cur:
        job = store.job(job_id, cur)
        where, params = _scope(job, filters)
        timing_where, timing_params = _scope(job, filters, timing=True)
        quantiles = ", ".join(str(p) for p in PERCENTILES)
        row = cur.execute(
            f"""
            SELECT count(*),
                count(*) FILTER (WHERE effective_time > {schema.SLOW_MS}),
                count(*) FILTER (WHERE status = 'failed'),
                count(*) FILTER (WHERE {schema.WARMED_SQL}),
                coalesce(sum({schema.TIME_SAVED_SQL}) FILTER (WHERE second_response_time IS NOT NULL), 0),
                count(*) FILTER (WHERE second_response_time IS NOT NULL AND response_time IS NOT NULL),
                count(*) FILTER (WHERE from_browser_cache)
            FROM tasks WHERE {where}
            """,
            params,
        ).fetchone()
        timing = cur.execute(
            f"SELECT quantile_cont(effective_time::DOUBLE, [{quantiles}]), avg(effective_time::DOUBLE), "
            f"count(effective_time) FROM tasks WHERE {timing_where}",
            timing_params,
        ).fetchone()
        status = _counts(cur, "status", job, filters)
        cache = _counts(cur, "coalesce(cache_status, 'none')", job, filters, timing=True)
    tasks, slow, broken, warmed, saved, second_pages, browser_cached = (int(v or 0) for v in row)
    values, mean, timed = timing
    hits, misses = cache.get("HIT", 0), cache.get("MISS", 0) + cache.get("EXPIRED", 0)
    with_status = sum(n for k, n in cache.items() if k != "none")
    return {
        "job_id": job.job_id,
        "domain": job.domain,
        "filters": filters.describe(),
        "tasks": tasks,
        "status": status,
        "completed": status.get("completed", 0),
        "failed": status.get("failed", 0),
        "cache_status": cache,
        "cache_hit_rate": hits / (hits + misses) if hits + misses else None,
        "dynamic_share": cache.get("DYNAMIC", 0) / sum(cache.values()) if with_status else None,
        "browser_cached": browser_cached,
        "effective_response_time_ms": {
            **{f"p{round(p * 100)}": (None if values is None else values[i]) for i, p in enumerate(PERCENTILES)},
            "mean": mean,
            "timed_tasks": int(timed),
        },
        "slow_pages": slow,
        "broken": broken,
        "warmed": warmed,
        "time_saved_ms": int(saved),
        "pages_with_second_request": second_pages,
    }


# --- chart series -------------------------------------------------------------------------------------


def _frame(cur, sql: str, params: list, columns: list[str]) -> pd.DataFrame:
    return pd.DataFrame(cur.execute(sql, params).fetchall(), columns=columns)


def _nice_width(span: float, bins: int) -> float:
    """A round bin width (1, 2 or 5 times a power of ten) giving about `bins` bins over `span`."""
    raw = max(span / bins, 1.0)
    power = 10 ** math.floor(math.log10(raw))
    return next(m * power for m in (1, 2, 5, 10) if m * power >= raw)


@cached
def response_time_histogram(
    store: Store,
    job_id: str,
    filters: Filters | None = None,
    *,
    log: bool = False,
    bins: int = 40,
    column: str = "effective_time",
) -> pd.DataFrame:
    """Counts of tasks per response-time bin: columns start_ms, end_ms, tasks.

    Linear bins span 0 to the 99th percentile, the last bin holding everything above it; log bins
    are ten per decade. `column` may be effective_time, response_time or second_response_time.
    """
    if column not in ("effective_time", "response_time", "second_response_time"):
        raise ValueError(column)
    filters = filters or Filters()
    with store.snapshot() as cur:
        job = store.job(job_id, cur)
        where, params = _scope(job, filters, timing=True)
        where += f" AND {column} IS NOT NULL"
        if log:
            sql = (
                f"SELECT floor(log10(greatest({column}, 1)) * 10) AS b, count(*) FROM tasks WHERE {where} "
                "GROUP BY b ORDER BY b"
            )
            rows = cur.execute(sql, params).fetchall()
            data = [(10 ** (b / 10), 10 ** ((b + 1) / 10), n) for b, n in rows]
        else:
            p99 = cur.execute(
                f"SELECT quantile_cont({column}::DOUBLE, 0.99) FROM tasks WHERE {where}", params
            ).fetchone()[0]
            if p99 is None:
                return pd.DataFrame(columns=["start_ms", "end_ms", "tasks"])
            width = _nice_width(p99, bins)
            top = math.ceil(p99 / width)
            sql = f"SELECT least(floor({column} / ?), ?) AS b, count(*) FROM tasks WHERE {where} GROUP BY b ORDER BY b"
            rows = cur.execute(sql, [width, top, *params]).fetchall()
            data = [(b * width, (b + 1) * width if b < top else None, n) for b, n in rows]
    return pd.DataFrame(data, columns=["start_ms", "end_ms", "tasks"])


@cached
def percentiles(
    store: Store, job_id: str, filters: Filters | None = None, column: str = "effective_time"
) -> dict[str, float | None]:
    """p50, p90, p95 and p99 of a response-time column (linear interpolation)."""
    filters = filters or Filters()
    with store.snapshot() as cur:
        job = store.job(job_id, cur)
        where, params = _scope(job, filters, timing=True)
        quantiles = ", ".join(str(p) for p in PERCENTILES)
        values = cur.execute(
            f"SELECT quantile_cont({column}::DOUBLE, [{quantiles}]) FROM tasks WHERE {where}", params
        ).fetchone()[0]
    return {f"p{round(p * 100)}": (None if values is None else values[i]) for i, p in enumerate(PERCENTILES)}


@cached
def first_vs_second(store: Store, job_id: str, filters: Filters | None = None) -> pd.DataFrame:
    """For pages with a real second request: percentiles of the first and of the second request."""
    filters = filters or Filters()
    with store.snapshot() as cur:
        job = store.job(job_id, cur)
        where, params = _scope(job, filters, timing=True)
        where += " AND second_response_time IS NOT NULL AND response_time IS NOT NULL"
        rows = cur.execute(
            f"""SELECT warmed, count(*),
                   quantile_cont(response_time::DOUBLE, [0.5, 0.95]),
                   quantile_cont(second_response_time::DOUBLE, [0.5, 0.95])
                FROM (SELECT *, coalesce({schema.WARMED_SQL}, FALSE) AS warmed FROM tasks WHERE {where})
                GROUP BY warmed ORDER BY warmed DESC""",
            params,
        ).fetchall()
    data = [("warmed" if w else "other", n, a[0], a[1], b[0], b[1]) for w, n, a, b in rows]
    return pd.DataFrame(data, columns=["pages", "tasks", "first_p50", "first_p95", "second_p50", "second_p95"])


def _grouped(
    store: Store, job_id: str, filters: Filters | None, key_sql: str, key_name: str, top: int, timing: bool
) -> pd.DataFrame:
    filters = filters or Filters()
    with store.snapshot() as cur:
        job = store.job(job_id, cur)
        where, params = _scope(job, filters, timing=timing)
        sql = f"""
            SELECT {key_sql} AS k, count(*) AS tasks,
                quantile_cont(effective_time::DOUBLE, 0.5) AS p50,
                quantile_cont(effective_time::DOUBLE, 0.95) AS p95,
                avg(effective_time::DOUBLE) AS mean,
                count(*) FILTER (WHERE effective_time > {schema.SLOW_MS}) AS slow,
                count(*) FILTER (WHERE cache_status = 'HIT') AS hits,
                count(*) FILTER (WHERE cache_status IN ('MISS', 'EXPIRED')) AS misses,
                count(*) FILTER (WHERE cache_status = 'DYNAMIC') AS dynamic
            FROM tasks WHERE {where} GROUP BY k ORDER BY tasks DESC, k LIMIT ?
        """
        frame = _frame(
            cur, sql, [*params, top], [key_name, "tasks", "p50", "p95", "mean", "slow", "hits", "misses", "dynamic"]
        )
    denominator = frame["hits"] + frame["misses"]
    frame["hit_rate"] = (frame["hits"] / denominator).where(denominator > 0)
    return frame


@cached
def by_section(store: Store, job_id: str, filters: Filters | None = None, top: int = 20) -> pd.DataFrame:
    """Per site section (first path segment), the busiest `top`: tasks, p50/p95/mean, slow, hit rate."""
    return _grouped(store, job_id, filters, "section", "section", top, timing=True)


CONTENT_TYPE_SQL = "coalesce(NULLIF(lower(trim(split_part(content_type, ';', 1))), ''), '(none)')"


@cached
def by_content_type(store: Store, job_id: str, filters: Filters | None = None, top: int = 15) -> pd.DataFrame:
    """Per content type (the media type, without parameters): tasks, p50/p95/mean, slow, hit rate."""
    return _grouped(store, job_id, filters, CONTENT_TYPE_SQL, "content_type", top, timing=True)


#: The widths (seconds) over_time may give its slices: the first that makes at most `buckets` of them.
TIME_STEPS = (1, 5, 10, 30, 60, 300, 600, 1800, 3600, 6 * 3600, 86400, 7 * 86400)
CRAWL_TIME_SQL = "coalesce(completed_at, started_at, created_at)"


@cached
def over_time(store: Store, job_id: str, filters: Filters | None = None, buckets: int = 60) -> pd.DataFrame:
    """Per slice of the crawl's time (when each page was crawled): tasks, p50/p95, hit rate, failed."""
    filters = filters or Filters()
    with store.snapshot() as cur:
        job = store.job(job_id, cur)
        where, params = _scope(job, filters, timing=True)
        where += f" AND {CRAWL_TIME_SQL} IS NOT NULL"
        low, high = cur.execute(
            f"SELECT min(epoch({CRAWL_TIME_SQL})), max(epoch({CRAWL_TIME_SQL})) FROM tasks WHERE {where}", params
        ).fetchone()
        columns = ["start", "seconds", "tasks", "p50", "p95", "hits", "misses", "failed"]
        if low is None:
            return pd.DataFrame(columns=columns + ["hit_rate"])
        step = next((s for s in TIME_STEPS if (high - low) / s <= buckets), TIME_STEPS[-1])
        frame = _frame(
            cur,
            f"""SELECT to_timestamp(floor(epoch({CRAWL_TIME_SQL}) / ?) * ?) AS start, ? AS seconds, count(*),
                    quantile_cont(effective_time::DOUBLE, 0.5), quantile_cont(effective_time::DOUBLE, 0.95),
                    count(*) FILTER (WHERE cache_status = 'HIT'),
                    count(*) FILTER (WHERE cache_status IN ('MISS', 'EXPIRED')),
                    count(*) FILTER (WHERE status = 'failed')
                FROM tasks WHERE {where} GROUP BY start ORDER BY start""",
            [step, step, step, *params],
            columns,
        )
    denominator = frame["hits"] + frame["misses"]
    frame["hit_rate"] = (frame["hits"] / denominator).where(denominator > 0)
    return frame


CACHE_BUCKETS = schema.CACHE_STATUSES + ("other", "none")


@cached
def cache_breakdown(store: Store, job_id: str, filters: Filters | None = None) -> pd.DataFrame:
    """Tasks per first-request cache status: HIT, MISS, EXPIRED, DYNAMIC, other, none."""
    filters = filters or Filters()
    known = ", ".join(f"'{s}'" for s in schema.CACHE_STATUSES)
    with store.snapshot() as cur:
        job = store.job(job_id, cur)
        counts = _counts(
            cur,
            f"CASE WHEN cache_status IS NULL THEN 'none' WHEN cache_status IN ({known}) "
            "THEN cache_status ELSE 'other' END",
            job,
            filters,
            timing=True,
        )
        others = _counts(cur, "cache_status", job, filters, timing=True) if counts.get("other") else {}
    total = sum(counts.values())
    data = [(b, counts.get(b, 0), counts.get(b, 0) / total if total else None) for b in CACHE_BUCKETS]
    frame = pd.DataFrame(data, columns=["cache_status", "tasks", "share"])
    frame.attrs["other_statuses"] = {
        k: v for k, v in others.items() if k is not None and k not in schema.CACHE_STATUSES
    }
    return frame


@cached
def warming_outcome(store: Store, job_id: str, filters: Filters | None = None) -> pd.DataFrame:
    """MISS/EXPIRED first requests: warmed (second HIT), second request not a HIT, or no second request."""
    filters = filters or Filters()
    with store.snapshot() as cur:
        job = store.job(job_id, cur)
        where, params = _scope(job, filters, timing=True)
        counts = dict(
            cur.execute(
                f"""SELECT CASE WHEN {schema.WARMED_SQL} THEN 'warmed'
                            WHEN second_response_time IS NULL THEN 'no second request'
                            ELSE 'not warmed' END AS outcome, count(*)
                FROM tasks WHERE {where} AND cache_status IN ('MISS', 'EXPIRED') GROUP BY outcome""",
                params,
            ).fetchall()
        )
    order = ("warmed", "not warmed", "no second request")
    return pd.DataFrame([(o, int(counts.get(o, 0))) for o in order], columns=["outcome", "tasks"])


@cached
def pages_to_fix(
    store: Store, job_id: str, filters: Filters | None = None, kind: str = "broken", limit: int = 10
) -> pd.DataFrame:
    """Broken or slow pages, the most viewed first where analytics exist, else the slowest first."""
    filters = filters or Filters()
    condition = "status = 'failed'" if kind == "broken" else f"effective_time > {schema.SLOW_MS}"
    with store.snapshot() as cur:
        job = store.job(job_id, cur)
        where, params = _scope(job, filters)
        order = "page_views_28d DESC NULLS LAST, " if job.has_analytics else ""
        frame = _frame(
            cur,
            f"""SELECT url, path, status, http_code, error, effective_time, cache_status, source_url,
                    page_views_7d, page_views_28d, page_views_180d, id
                FROM tasks WHERE {where} AND {condition}
                ORDER BY {order}effective_time DESC NULLS LAST, id LIMIT ?""",
            [*params, limit],
            [
                "url",
                "path",
                "status",
                "http_code",
                "error",
                "effective_time",
                "cache_status",
                "source_url",
                "page_views_7d",
                "page_views_28d",
                "page_views_180d",
                "id",
            ],
        )
    return frame
