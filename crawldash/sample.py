"""Realistic crawl jobs, deterministic by seed, in the original API's export shape or our columns.

A job looks like a cache-warming crawl of a real site: mostly completed pages, a few failed (most
with no status code and an error text such as "Not Found" or a timeout) and skipped; first-request
cache results around HIT 55%, MISS 20%, DYNAMIC 12%, EXPIRED 5%, BYPASS 3% and none 5%; log-normal
response times (HIT fast, MISS slow with a tail to 30 s); a second request on most MISS/EXPIRED
pages (some stored as 0, as the original sometimes did); sitemap and link sources, link rows with
the page they were found on; heavy-tailed page views on part of the paths; a few subdomain hosts;
tasks created in batches that share a created_at.

>>> job = generate_job(seed=7, tasks=100)
>>> job.table.num_rows
100
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa

from crawldash import schema
from crawldash.timefmt import iso, iso_sql

SECTIONS = ("/blog", "/products", "/docs", "/news", "/category", "/help", "/about", "/search", "/events", "/careers")
SECTION_WEIGHTS = (0.26, 0.22, 0.14, 0.1, 0.09, 0.06, 0.04, 0.04, 0.03, 0.02)
WORDS = (
    "cache",
    "warm",
    "edge",
    "speed",
    "guide",
    "review",
    "spring",
    "summer",
    "sale",
    "new",
    "best",
    "how-to",
    "pricing",
    "team",
    "api",
    "release",
    "notes",
    "tips",
    "city",
    "garden",
    "kitchen",
    "modern",
    "classic",
    "red",
    "blue",
    "2025",
    "2026",
    "faq",
    "setup",
    "advanced",
    "lite",
    "pro",
    "x_large",
    "mini",
    "eco",
)
CACHE = ("HIT", "MISS", "DYNAMIC", "EXPIRED", "BYPASS", None)
CACHE_WEIGHTS = (0.55, 0.20, 0.12, 0.05, 0.03, 0.05)
#: Log-normal response time per cache result: (median ms, sigma).
TIMES = {
    "HIT": (85, 0.55),
    "MISS": (950, 0.8),
    "DYNAMIC": (420, 0.6),
    "EXPIRED": (1100, 0.8),
    "BYPASS": (600, 0.6),
    None: (520, 0.7),
}
ERRORS = (
    ("Not Found", None),
    ("Not Found", 404),
    ("Too Many Requests", None),
    ("Internal Server Error", 500),
    ("context deadline exceeded (Client.Timeout exceeded while awaiting headers)", None),
    ("Service Unavailable", None),
    ("Forbidden", 403),
    ("dial tcp: lookup shop.{domain}: no such host", None),
    ("stopped after 10 redirects", None),
    ("Bad Gateway", 502),
)
ERROR_WEIGHTS = (0.3, 0.12, 0.14, 0.08, 0.12, 0.06, 0.06, 0.04, 0.04, 0.04)
CONTENT_TYPES = (
    "text/html; charset=utf-8",
    "text/html",
    "application/pdf",
    "image/jpeg",
    "text/css",
    "application/javascript",
    "application/xml",
)
CONTENT_WEIGHTS = (0.78, 0.08, 0.05, 0.04, 0.02, 0.02, 0.01)
DOMAINS = ("www.example-shop.com", "www.northwind-traders.com", "www.acme-widgets.co.uk", "docs.contoso.io")


@dataclass
class SampleJob:
    """One generated job: its metadata and its tasks as an Arrow table of our columns."""

    job_id: str
    domain: str
    status: str
    created_at: datetime
    completed_at: datetime | None
    table: pa.Table


def _uuid(rng: np.random.Generator, n: int) -> list[str]:
    raw = rng.integers(0, 256, size=(n, 16), dtype=np.uint8)
    raw[:, 6] = (raw[:, 6] & 0x0F) | 0x40
    raw[:, 8] = (raw[:, 8] & 0x3F) | 0x80
    out = []
    for row in raw:
        h = row.tobytes().hex()
        out.append(f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}")
    return out


def _pick(rng: np.random.Generator, options: tuple, weights: tuple, n: int) -> np.ndarray:
    p = np.asarray(weights, dtype=float)
    return rng.choice(len(options), size=n, p=p / p.sum())


def generate_job(seed: int = 1, tasks: int = 5000, index: int = 0, running: bool = False) -> SampleJob:
    """One realistic job of `tasks` tasks; the same seed and index give the same job."""
    rng = np.random.default_rng([seed, index])
    n = tasks
    domain = DOMAINS[index % len(DOMAINS)]
    apex = domain.removeprefix("www.")
    job_id = _uuid(rng, 1)[0]
    start = datetime(2026, 11, 2, 1, 0, tzinfo=UTC) + timedelta(days=7 * index, minutes=int(rng.integers(0, 300)))

    # Paths: a home page, then section pages; a few odd characters for keyword searches.
    section_of = _pick(rng, SECTIONS, SECTION_WEIGHTS, n)
    w1, w2 = rng.integers(0, len(WORDS), n), rng.integers(0, len(WORDS), n)
    depth = rng.random(n)
    paths = []
    for i in range(n):
        if i == 0:
            paths.append("/")
            continue
        section = SECTIONS[section_of[i]]
        slug = f"{WORDS[w1[i]]}-{WORDS[w2[i]]}-{i}"
        if depth[i] < 0.05:
            paths.append(section)
        elif depth[i] < 0.55:
            paths.append(f"{section}/{slug}")
        elif depth[i] < 0.97:
            paths.append(f"{section}/{WORDS[w2[i]]}/{slug}")
        else:
            paths.append(f"{section}/{WORDS[w1[i]]}_{WORDS[w2[i]]}%20{i}")
    sub = rng.random(n)
    hosts = np.where(sub < 0.02, f"blog.{apex}", np.where(sub < 0.035, f"shop.{apex}", domain))
    hosts[0] = domain
    urls = [f"https://{h}{p}" for h, p in zip(hosts, paths, strict=True)]

    # Status: a finished crawl has completed, failed and skipped tasks; a running one also the rest.
    if running:
        status_opts, status_w = (
            ("completed", "failed", "skipped", "pending", "running", "waiting"),
            (0.62, 0.03, 0.02, 0.25, 0.03, 0.05),
        )
    else:
        status_opts, status_w = ("completed", "failed", "skipped"), (0.95, 0.035, 0.015)
    status = np.array(status_opts)[_pick(rng, status_opts, status_w, n)]
    status[0] = "completed"

    cache_idx = _pick(rng, CACHE, CACHE_WEIGHTS, n)
    cache = [CACHE[c] for c in cache_idx]
    medians = np.array([TIMES[c][0] for c in cache], dtype=float)
    sigmas = np.array([TIMES[c][1] for c in cache], dtype=float)
    # Search and product pages render on the server: slower whatever the cache says.
    medians *= np.where(
        section_of == SECTIONS.index("/search"), 4.0, np.where(section_of == SECTIONS.index("/products"), 1.6, 1.0)
    )
    response = np.minimum(np.round(medians * np.exp(rng.normal(0, 1, n) * sigmas)), 30000)
    miss = np.isin(cache_idx, (1, 3))
    tail = miss & (rng.random(n) < 0.03)
    response[tail] = np.minimum(response[tail] * rng.uniform(3, 12, tail.sum()), 30000)

    second_made = miss & (rng.random(n) < 0.85) & (status == "completed")
    second_hit = second_made & (rng.random(n) < 0.9)
    second_time = np.where(
        second_hit, np.round(60 * np.exp(rng.normal(0, 0.5, n))), np.round(response * rng.uniform(0.6, 1.1, n))
    )
    zero_second = (~second_made) & (status == "completed") & (rng.random(n) < 0.25)  # the original's 0 ms

    error_idx = _pick(rng, ERRORS, ERROR_WEIGHTS, n)
    failed = status == "failed"
    timeouts = failed & (error_idx == 4)
    code = np.where(rng.random(n) < 0.04, 301, 200)
    code[0] = 200

    content = _pick(rng, CONTENT_TYPES, CONTENT_WEIGHTS, n)
    source_kind = rng.random(n)
    parents = rng.integers(0, max(n // 10, 1), n)

    # Batches: sitemap batches of ~500, link discoveries of ~40, each sharing one created_at.
    big = rng.integers(300, 700, n // 300 + 1)
    big = big[: np.searchsorted(np.cumsum(big), int(n * 0.6)) + 1]
    sizes = np.concatenate([big, rng.integers(20, 60, n // 20 + 1)])
    sizes = sizes[: np.searchsorted(np.cumsum(sizes), n) + 1]
    gaps_us = np.round(rng.uniform(2, 40, len(sizes)) * 1e6).astype(np.int64)
    batch_start = np.datetime64(start.replace(tzinfo=None), "us") + np.cumsum(gaps_us).astype("timedelta64[us]")
    created = np.repeat(batch_start, sizes)[:n]
    waiting = np.isin(status, ("pending", "waiting"))
    started = created + np.round(rng.exponential(20, n) * 1e6).astype("timedelta64[us]")
    took_ms = np.nan_to_num(response) + np.where(second_made, second_time, 0)
    completed = started + np.round(took_ms * 1000).astype("timedelta64[us]")
    finished = np.isin(status, ("completed", "failed", "skipped"))

    # Analytics: about 60% of paths have data; heavy-tailed views, 7d <= 28d <= 180d.
    no_views = rng.random(n) >= 0.6
    views_7d = np.floor(rng.pareto(1.3, n) * 12)
    views_28d = np.floor(views_7d * rng.uniform(3.2, 4.8, n) + rng.integers(0, 5, n))
    views_180d = np.floor(views_28d * rng.uniform(5.0, 7.5, n) + rng.integers(0, 20, n))

    completed_row = status == "completed"
    failed_row = status == "failed"
    ran = completed_row | failed_row
    error_texts = np.array([e.format(domain=apex) for e, _ in ERRORS], dtype=object)
    error_codes = np.array([c or 0 for _, c in ERRORS])
    link = (source_kind < 0.30) & (np.arange(n) > 0)
    source_type = np.where(link, "link", np.where(source_kind > 0.995, "manual", "sitemap"))
    status_code = np.where(failed_row, error_codes[error_idx], code)
    retry = np.where(failed_row, rng.integers(1, 4, n), (rng.random(n) < 0.02).astype(int))
    second_value = np.where(second_made, second_time, 0)
    cache_arr = np.array(cache, dtype=object)
    urls_arr = np.array(urls, dtype=object)

    def ints(values, missing):
        return pa.array(np.asarray(values, dtype=np.int64), pa.int64(), mask=np.asarray(missing, dtype=bool))

    def texts(values, missing):
        return pa.array(np.where(missing, None, values).tolist(), pa.string())

    def stamps(values, missing):
        return pa.array(values, pa.timestamp("us"), mask=np.asarray(missing, dtype=bool)).cast(
            pa.timestamp("us", tz="UTC")
        )

    columns = {
        "id": pa.array(_uuid(rng, n), pa.string()),
        "job_id": pa.array([job_id] * n, pa.string()),
        "url": pa.array(urls, pa.string()),
        "path": pa.array(paths, pa.string()),
        "host": pa.nulls(n, pa.string()),
        "status": pa.array(status.tolist(), pa.string()),
        "status_code": ints(status_code, ~ran | (status_code == 0)),
        "response_time": ints(np.nan_to_num(response), ~ran | timeouts),
        "cache_status": texts(cache_arr, ~completed_row | np.equal(cache_arr, None)),
        "second_response_time": ints(second_value, ~(second_made | zero_second)),
        "second_cache_status": texts(np.where(second_hit, "HIT", "MISS").astype(object), ~second_made),
        "content_type": texts(np.array(CONTENT_TYPES, dtype=object)[content], ~completed_row),
        "error": texts(error_texts[error_idx], ~failed_row),
        "source_type": pa.array(source_type.tolist(), pa.string()),
        "source_url": texts(urls_arr[parents], ~link),
        "retry_count": ints(retry, np.zeros(n, bool)),
        "page_views_7d": ints(views_7d, no_views),
        "page_views_28d": ints(views_28d, no_views),
        "page_views_180d": ints(views_180d, no_views),
        "created_at": stamps(created, np.zeros(n, bool)),
        "started_at": stamps(started, waiting),
        "completed_at": stamps(completed, ~finished),
    }
    table = pa.table({c.name: columns[c.name] for c in schema.TASK_COLUMNS})
    done_at = completed[finished]
    last = done_at.max().astype(datetime).replace(tzinfo=UTC) if len(done_at) else start
    return SampleJob(job_id, domain, "running" if running else "completed", start, None if running else last, table)


def generate_jobs(seed: int = 1, tasks: int = 5000, jobs: int = 1) -> list[SampleJob]:
    """`jobs` weekly crawls of `tasks` tasks each; with several, the newest is still running."""
    return [generate_job(seed, tasks, index, running=jobs > 1 and index == jobs - 1) for index in range(jobs)]


SAMPLE_FORMATS = ("adapt", "parquet", "csv")


def write_sample(
    path: str | Path, tasks: int = 5000, jobs: int = 1, seed: int = 1, fmt: str = "adapt"
) -> list[SampleJob]:
    """Write generated jobs to a file: the original's export JSON (an array of exports when several
    jobs), or our columns as Parquet or CSV."""
    out = Path(path)
    generated = generate_jobs(seed, tasks, jobs)
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    try:
        if fmt == "adapt":
            with open(out, "w", encoding="utf-8") as f:
                if len(generated) > 1:
                    f.write("[")
                for number, job in enumerate(generated):
                    if number:
                        f.write(",\n")
                    _write_export_json(con, job, f)
                if len(generated) > 1:
                    f.write("]")
            return generated
        combined = pa.concat_tables([job.table for job in generated])
        con.register("sample_tasks", combined)
        quoted = str(out).replace("'", "''")
        if fmt == "parquet":
            con.execute(f"COPY (SELECT * FROM sample_tasks) TO '{quoted}' (FORMAT parquet)")
        elif fmt == "csv":
            select = ", ".join(
                iso_sql(c.name) + f" AS {c.name}" if c.kind == schema.TIMESTAMP else c.name for c in schema.TASK_COLUMNS
            )
            con.execute(f"COPY (SELECT {select} FROM sample_tasks) TO '{quoted}' (FORMAT csv, HEADER true)")
        else:
            raise ValueError(f"unknown sample format {fmt!r}")
    finally:
        con.close()
    return generated


def _write_export_json(con: duckdb.DuckDBPyConnection, job: SampleJob, f) -> None:
    """One job as the original API's export response, compact as Go writes it, keys sorted."""
    con.register("sample_tasks", job.table)
    # The original omits absent fields; we write them as null except the ones Go would send as "".
    parts = []
    for c in schema.TASK_COLUMNS:
        if c.name == "host":
            continue
        value = iso_sql(c.name) if c.kind == schema.TIMESTAMP else c.name
        if c.name == "error":
            value = "coalesce(error, '')"  # the original's "" sentinel for "no error"
        parts.append(f"{c.name} := {value}")
    columns = [{"key": k, "label": label} for k, label in schema.export_columns("job", True)]
    data_head = {
        "columns": columns,
        "completed_at": iso(job.completed_at),
        "created_at": iso(job.created_at),
        "domain": job.domain,
        "export_time": iso(job.completed_at or job.created_at),
        "export_type": "job",
        "job_id": job.job_id,
        "status": job.status,
    }
    f.write('{"status":"success","data":' + json.dumps(data_head, separators=(",", ":"))[:-1] + ',"tasks":[')
    result = con.execute(f"SELECT to_json(struct_pack({', '.join(parts)})) FROM sample_tasks")
    first = True
    while rows := result.fetchmany(50_000):
        f.write(("" if first else ",") + ",".join(r[0] for r in rows))
        first = False
    n = job.table.num_rows
    f.write(
        f'],"total_tasks":{n}}},"message":"Exported {n} tasks for job {job.job_id}",'
        f'"request_id":"sample-{job.job_id[:8]}"}}'
    )
    con.unregister("sample_tasks")
