"""Baseline (c): PostgreSQL 15 with the original product's normalised schema and its own SQL shape.

Where the shape comes from (the original's repository, read at commit be8a83c, 2026-02-14):
- schema: supabase/migrations/20240101000000_initial_schema.sql (organisations, domains, pages,
  jobs, tasks), 20260129114624_add_page_analytics_table.sql and 20260129133319_add_traffic_score_column.sql
  (page_analytics), and the index migrations named at INDEXES below;
- List Tasks: internal/api/jobs.go, parseTaskQueryParams (the ORDER BY per sort field, NULLS LAST on
  the nullable ones, no tie-breaker) and buildTaskQuery (tasks joined to pages, jobs, domains and,
  LEFT, page_analytics; the cache groups as ORs; the path as `p.path ILIKE '%kw%'`; LIMIT/OFFSET;
  a separate COUNT(*) over tasks with the same filters);
- exports: internal/api/jobs.go, serveJobExport (the same joins, ORDER BY t.created_at DESC LIMIT 10000,
  then the job's details);
- stats: the original precomputes them when a job completes (calculate_job_stats in
  supabase/migrations/20251011095919_fix_stats_calculation_bugs.sql: one pass of FILTERed
  aggregates and PERCENTILE_CONT over tasks, the effective time as COALESCE(NULLIF(second, 0), first));
  here that SQL style computes the same numbers as ours, live, plus the chart series.
The SQL below is ours, written to that shape; none of the original's code is copied.

Two changes, both stated in the output: the original's COUNT for a path keyword names `p.path`
without joining pages (PostgreSQL rejects it), so our count joins pages; and since the original's
ORDER BY has no tie-breaker (so the order among equal values is undefined), the equality check
runs the same SQL with `, t.id` added and compares ids, and checks the exact SQL (the one timed) on
its counts and on the sequence of sort values. The data is loaded as the original stores it: a
second request of 0 ms stays 0. The generator repeats a few pages within a job (section roots), so
the original's UNIQUE (job_id, page_id) index is created without UNIQUE; row level security is left
off (the benchmark connects as the owner, who bypasses it), and so are the triggers, which only act
on writes.
"""

from __future__ import annotations

import re
import tempfile
import time
import uuid
from pathlib import Path

import duckdb

from bench.data import ScenarioData
from bench.engines import Engine, Variant
from bench.engines.lite import write_rows
from bench.mix import (
    CONTENT_TOP,
    FIX_LIMIT,
    QUANTILES,
    SECTION_TOP,
    SLOW_MS,
    ListQuery,
    PageResult,
    hit_rate,
    linear_bins,
    norm,
    stats_result,
    time_step,
)
from bench.pgcluster import Cluster
from crawldash import schema

ORGANISATION = str(uuid.UUID(int=1))

TABLES = {
    "organisations": """id UUID DEFAULT gen_random_uuid(), name TEXT NOT NULL,
        created_at TIMESTAMPTZ NOT NULL DEFAULT NOW(), updated_at TIMESTAMPTZ NOT NULL DEFAULT NOW()""",
    "domains": """id SERIAL, name TEXT NOT NULL, crawl_delay_seconds INTEGER DEFAULT NULL,
        adaptive_delay_seconds INTEGER NOT NULL DEFAULT 0, adaptive_delay_floor_seconds INTEGER NOT NULL DEFAULT 0,
        created_at TIMESTAMPTZ NOT NULL DEFAULT NOW()""",
    "pages": "id SERIAL, domain_id INTEGER NOT NULL, path TEXT NOT NULL, created_at TIMESTAMPTZ NOT NULL DEFAULT NOW()",
    "jobs": """id TEXT, domain_id INTEGER NOT NULL, user_id UUID, organisation_id UUID, status TEXT NOT NULL,
        progress REAL NOT NULL, sitemap_tasks INTEGER NOT NULL DEFAULT 0, found_tasks INTEGER NOT NULL DEFAULT 0,
        total_tasks INTEGER NOT NULL DEFAULT 0, completed_tasks INTEGER NOT NULL DEFAULT 0,
        failed_tasks INTEGER NOT NULL DEFAULT 0, skipped_tasks INTEGER NOT NULL DEFAULT 0,
        running_tasks INTEGER NOT NULL DEFAULT 0, created_at TIMESTAMPTZ NOT NULL, started_at TIMESTAMPTZ,
        completed_at TIMESTAMPTZ, concurrency INTEGER NOT NULL, find_links BOOLEAN NOT NULL, max_pages INTEGER NOT NULL,
        include_paths TEXT, exclude_paths TEXT, required_workers INTEGER DEFAULT 0, error_message TEXT,
        source_type TEXT, source_detail TEXT, source_info TEXT""",
    "tasks": """id TEXT, job_id TEXT NOT NULL, page_id INTEGER NOT NULL, path TEXT NOT NULL, status TEXT NOT NULL,
        created_at TIMESTAMPTZ NOT NULL, started_at TIMESTAMPTZ, completed_at TIMESTAMPTZ, retry_count INTEGER NOT NULL,
        error TEXT, source_type TEXT NOT NULL, source_url TEXT, status_code INTEGER, response_time BIGINT,
        cache_status TEXT, content_type TEXT, content_length BIGINT, headers JSONB, redirect_url TEXT,
        dns_lookup_time INTEGER, tcp_connection_time INTEGER, tls_handshake_time INTEGER, ttfb INTEGER,
        content_transfer_time INTEGER, second_response_time BIGINT, second_cache_status TEXT,
        second_content_length BIGINT, second_headers JSONB, second_dns_lookup_time INTEGER,
        second_tcp_connection_time INTEGER, second_tls_handshake_time INTEGER, second_ttfb INTEGER,
        second_content_transfer_time INTEGER, cache_check_attempts JSONB, priority_score NUMERIC(4,3) DEFAULT 0.000""",
    "page_analytics": """id UUID DEFAULT gen_random_uuid(), organisation_id UUID NOT NULL, domain_id INTEGER NOT NULL,
        path TEXT NOT NULL, page_views_7d BIGINT DEFAULT 0, page_views_28d BIGINT DEFAULT 0,
        page_views_180d BIGINT DEFAULT 0, ga_connection_id UUID, fetched_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
        created_at TIMESTAMPTZ NOT NULL DEFAULT NOW(), updated_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
        traffic_score FLOAT DEFAULT 0""",
}
#: Keys, constraints and indexes, added after the load (the same end state, built faster).
INDEXES = (
    # initial_schema.sql
    "ALTER TABLE organisations ADD PRIMARY KEY (id)",
    "ALTER TABLE domains ADD PRIMARY KEY (id)",
    "ALTER TABLE domains ADD UNIQUE (name)",
    "ALTER TABLE pages ADD PRIMARY KEY (id)",
    "ALTER TABLE pages ADD UNIQUE (domain_id, path)",
    "ALTER TABLE pages ADD FOREIGN KEY (domain_id) REFERENCES domains(id) ON DELETE CASCADE",
    "ALTER TABLE jobs ADD PRIMARY KEY (id)",
    "ALTER TABLE jobs ADD FOREIGN KEY (domain_id) REFERENCES domains(id) ON DELETE CASCADE",
    "ALTER TABLE jobs ADD FOREIGN KEY (organisation_id) REFERENCES organisations(id) ON DELETE CASCADE",
    "ALTER TABLE tasks ADD PRIMARY KEY (id)",
    "ALTER TABLE tasks ADD FOREIGN KEY (job_id) REFERENCES jobs(id) ON DELETE CASCADE",
    "ALTER TABLE tasks ADD FOREIGN KEY (page_id) REFERENCES pages(id) ON DELETE CASCADE",
    "CREATE INDEX idx_tasks_job_id ON tasks(job_id)",
    "CREATE INDEX idx_tasks_pending_claim_order ON tasks (created_at) WHERE status = 'pending'",
    "CREATE INDEX idx_tasks_job_page_unique ON tasks(job_id, page_id)",  # UNIQUE there; see the docstring
    "CREATE INDEX idx_jobs_running_tasks ON jobs(running_tasks) WHERE status = 'running'",
    "CREATE INDEX idx_jobs_id ON jobs(id)",
    # 20251012060206_idx_tasks_running_started_at.sql
    "CREATE INDEX idx_tasks_running_started_at ON tasks (started_at) WHERE status = 'running'",
    # 20251013104047_add_composite_indexes_for_query_optimisation.sql
    "CREATE INDEX idx_tasks_claim_optimised ON tasks(status, job_id, priority_score DESC, created_at ASC) "
    "WHERE status = 'pending'",
    "CREATE INDEX idx_jobs_org_status_created ON jobs(organisation_id, status, created_at DESC)",
    "CREATE INDEX idx_jobs_org_created ON jobs(organisation_id, created_at DESC)",
    # 20251024113314_add_foreign_key_indexes.sql
    "CREATE INDEX idx_jobs_domain_id ON jobs(domain_id)",
    "CREATE INDEX idx_jobs_organisation_id ON jobs(organisation_id)",
    "CREATE INDEX idx_tasks_job_id_status ON tasks(job_id, status)",
    "CREATE INDEX idx_tasks_page_id ON tasks(page_id)",
    "CREATE INDEX idx_jobs_status_created_at ON jobs(status, created_at DESC)",
    # 20251101064011_add_task_waiting_status_and_optimise_queue.sql
    "ALTER TABLE tasks ADD CONSTRAINT tasks_status_check "
    "CHECK (status IN ('pending', 'running', 'completed', 'failed', 'skipped', 'waiting'))",
    "CREATE INDEX idx_tasks_pending_ready ON tasks (priority_score DESC, created_at, job_id) WHERE status = 'pending'",
    "CREATE INDEX idx_tasks_waiting_by_job ON tasks (job_id, priority_score DESC, created_at) WHERE status = 'waiting'",
    # 20251102123000_optimize_task_claim_indexes.sql, 20251110133000_optimize_task_claim_index.sql
    "CREATE INDEX idx_tasks_pending_by_job_priority ON tasks (job_id, priority_score DESC, created_at) "
    "WHERE status = 'pending'",
    "CREATE INDEX idx_tasks_job_status_priority_pending ON tasks (job_id, status, priority_score DESC, created_at ASC) "
    "WHERE status = 'pending'",
    # 20251102131500_add_pages_domain_path_index.sql
    "CREATE INDEX idx_pages_domain_path ON pages (domain_id, path)",
    # 20260129114624_add_page_analytics_table.sql and later
    "ALTER TABLE page_analytics ADD PRIMARY KEY (id)",
    "ALTER TABLE page_analytics ADD UNIQUE (organisation_id, domain_id, path)",
    "ALTER TABLE page_analytics ADD FOREIGN KEY (organisation_id) REFERENCES organisations(id) ON DELETE CASCADE",
    "ALTER TABLE page_analytics ADD FOREIGN KEY (domain_id) REFERENCES domains(id) ON DELETE CASCADE",
    "CREATE INDEX idx_page_analytics_org ON page_analytics(organisation_id)",
    "CREATE INDEX idx_page_analytics_domain ON page_analytics(domain_id)",
    "CREATE INDEX idx_page_analytics_org_domain ON page_analytics(organisation_id, domain_id)",
    "CREATE INDEX idx_page_analytics_fetched ON page_analytics(fetched_at)",
    "CREATE INDEX idx_page_analytics_traffic_score_v2 ON page_analytics"
    "(organisation_id, domain_id, path, traffic_score)",
    "CREATE INDEX idx_page_analytics_org_domain_path ON page_analytics(organisation_id, domain_id, path)",
)

# --- List Tasks, in the shape of buildTaskQuery / parseTaskQueryParams -------------------------------

TASK_SELECT = """
    SELECT t.id, t.job_id, p.path, d.name as domain, t.status, t.status_code, t.response_time,
           t.cache_status, t.second_response_time, t.second_cache_status, t.content_type, t.error, t.source_type,
           t.source_url, t.created_at, t.started_at, t.completed_at, t.retry_count,
           pa.page_views_7d, pa.page_views_28d, pa.page_views_180d
    FROM tasks t
    JOIN pages p ON t.page_id = p.id
    JOIN jobs j ON t.job_id = j.id
    JOIN domains d ON j.domain_id = d.id
    LEFT JOIN page_analytics pa ON pa.organisation_id = j.organisation_id
        AND pa.domain_id = p.domain_id
        AND pa.path = p.path
    WHERE t.job_id = %s"""
#: The selected columns' names, in order (d.name is the job's domain).
SELECTED = [
    name.split(".")[-1].replace("name as domain", "domain")
    for name in (c.strip() for c in TASK_SELECT.split("FROM")[0].removeprefix("\n    SELECT").split(","))
]
#: parseTaskQueryParams: the column per sort field, NULLS LAST only where the original writes it.
ORDER_COLUMN = {
    "path": ("p.path", ""),
    "status": ("t.status", ""),
    "response_time": ("t.response_time", " NULLS LAST"),
    "cache_status": ("t.cache_status", " NULLS LAST"),
    "second_response_time": ("t.second_response_time", " NULLS LAST"),
    "status_code": ("t.status_code", " NULLS LAST"),
    "page_views_7d": ("pa.page_views_7d", " NULLS LAST"),
    "page_views_28d": ("pa.page_views_28d", " NULLS LAST"),
    "page_views_180d": ("pa.page_views_180d", " NULLS LAST"),
    "created_at": ("t.created_at", ""),
}


def task_query(job_id: str, q: ListQuery, tie_break: bool = False) -> tuple[str, str, list, list]:
    """(select SQL, count SQL, select args, count args) as the original builds them; `tie_break`
    adds `, t.id` to the ORDER BY (for the equality check only)."""
    select, count, args = TASK_SELECT, "SELECT COUNT(*) FROM tasks t WHERE t.job_id = %s", [job_id]
    if q.status is not None:
        select += " AND t.status = %s"
        count += " AND t.status = %s"
        args.append(q.status)
    if q.cache == "miss":
        clause = " AND (t.cache_status = 'MISS' OR t.cache_status = 'EXPIRED')"
        select, count = select + clause, count + clause
    elif q.cache == "hit":
        clause = " AND (t.cache_status = 'HIT' OR t.cache_status = 'DYNAMIC')"
        select, count = select + clause, count + clause
    if q.path is not None:
        select += " AND p.path ILIKE %s"
        # The original's count says `AND p.path ILIKE` without pages in FROM: joined here so it runs.
        count = count.replace("FROM tasks t", "FROM tasks t JOIN pages p ON t.page_id = p.id") + " AND p.path ILIKE %s"
        args.append("%" + q.path + "%")
    column, nulls = ORDER_COLUMN[q.field]
    direction = "DESC" if q.descending else "ASC"
    order = f"{column} {direction}{nulls}" + (f", t.id {direction}" if tie_break else "")
    return select + f" ORDER BY {order} LIMIT %s OFFSET %s", count, [*args, q.limit, q.offset], list(args)


EXPORT_SQL = """
    SELECT
        t.id, t.job_id, p.path, d.name as domain,
        t.status, t.status_code, t.response_time, t.cache_status,
        t.second_response_time, t.second_cache_status,
        t.content_type, t.error, t.source_type, t.source_url,
        t.created_at, t.started_at, t.completed_at, t.retry_count,
        pa.page_views_7d, pa.page_views_28d, pa.page_views_180d
    FROM tasks t
    JOIN pages p ON t.page_id = p.id
    JOIN domains d ON p.domain_id = d.id
    JOIN jobs j ON t.job_id = j.id
    LEFT JOIN page_analytics pa ON pa.organisation_id = j.organisation_id
        AND pa.domain_id = p.domain_id
        AND pa.path = p.path
    WHERE t.job_id = %s
    ORDER BY t.created_at DESC{tie}
    LIMIT 10000"""
JOB_SQL = """
    SELECT d.name, j.status, j.created_at, j.completed_at
    FROM jobs j
    JOIN domains d ON j.domain_id = d.id
    WHERE j.id = %s"""

# --- the stats, in the style of calculate_job_stats ---------------------------------------------------

EFF = "COALESCE(NULLIF(t.second_response_time, 0), t.response_time)"
SECOND = "NULLIF(t.second_response_time, 0)"
SECTION = "CASE WHEN t.path IN ('/', '') THEN '/' ELSE '/' || split_part(ltrim(t.path, '/'), '/', 1) END"
CONTENT = "COALESCE(NULLIF(lower(trim(split_part(t.content_type, ';', 1))), ''), '(none)')"
WHEN = "COALESCE(t.completed_at, t.started_at, t.created_at)"
EPOCH = f"EXTRACT(EPOCH FROM {WHEN})::float8"
WARMED = "(t.cache_status IN ('MISS', 'EXPIRED') AND t.second_cache_status = 'HIT')"


def _iso(value):
    return value.isoformat().replace("+00:00", "Z") if hasattr(value, "isoformat") else value


class Postgres(Engine):
    name = "postgres"
    title = "PostgreSQL 15, the original's schema and SQL"

    def __init__(self, cluster: Cluster):
        self.cluster = cluster
        self.con = None
        self.dbname = ""

    def setup(self, data: ScenarioData) -> str:
        import psycopg

        self.job = data.query_job
        self.dbname = "bench_" + re.sub(r"[^a-z0-9]+", "_", data.scenario.name.lower())
        started = time.perf_counter()
        with psycopg.connect(self.cluster.dsn("postgres"), autocommit=True) as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {self.dbname}")
            admin.execute(f"CREATE DATABASE {self.dbname}")
        with psycopg.connect(self.cluster.dsn(self.dbname), autocommit=True) as con:
            loaded = _load(con, data)
            indexed = time.perf_counter()
            for statement in INDEXES:
                con.execute(statement)
            took_index = time.perf_counter() - indexed
            vacuumed = time.perf_counter()
            con.execute("VACUUM ANALYZE")
            took_vacuum = time.perf_counter() - vacuumed
            size = con.execute("SELECT pg_database_size(current_database())").fetchone()[0] / 2**20
        self.con = psycopg.connect(self.cluster.dsn(self.dbname), autocommit=True, prepare_threshold=None)
        self.has_analytics = self.con.execute(
            """SELECT EXISTS (SELECT 1 FROM tasks t JOIN pages p ON t.page_id = p.id JOIN jobs j ON t.job_id = j.id
               JOIN page_analytics pa ON pa.organisation_id = j.organisation_id AND pa.domain_id = p.domain_id
               AND pa.path = p.path WHERE t.job_id = %s)""",
            [self.job.job_id],
        ).fetchone()[0]
        took = time.perf_counter() - started
        return (
            f"database {size:,.0f} MiB, loaded in {took:.1f} s (COPY {loaded:.1f} s, keys and indexes "
            f"{took_index:.1f} s, VACUUM ANALYZE {took_vacuum:.1f} s)"
        )

    # --- List Tasks -----------------------------------------------------------------------------------

    def _run(self, q: ListQuery, tie_break: bool):
        select, count, args, count_args = task_query(self.job.job_id, q, tie_break)
        total = self.con.execute(count, count_args).fetchone()[0]
        rows = self.con.execute(select, args).fetchall()
        return total, rows

    def list_tasks(self, q: ListQuery):
        return self._run(q, tie_break=False)

    def page_result(self, raw, q: ListQuery) -> PageResult:
        total, rows = raw
        at = SELECTED.index(q.field)
        return PageResult(total, [r[0] for r in rows], [norm(r[at]) for r in rows])

    def check_list(self, q: ListQuery) -> list[Variant]:
        return [
            Variant("the original's SQL + `, t.id`", self.page_result(self._run(q, True), q)),
            Variant("the original's SQL as timed", self.page_result(self._run(q, False), q), "values"),
        ]

    # --- exports --------------------------------------------------------------------------------------

    def _export(self, fmt: str, tie_break: bool) -> bytes:
        rows = self.con.execute(EXPORT_SQL.format(tie=", t.id DESC" if tie_break else ""), [self.job.job_id]).fetchall()
        self.con.execute(JOB_SQL, [self.job.job_id]).fetchone()  # the job's details, as serveJobExport reads them
        analytics = any(r[18] is not None or r[19] is not None or r[20] is not None for r in rows)
        columns = schema.export_columns("job", analytics)
        at = {name: SELECTED.index(name) for name in SELECTED}
        shaped = []
        for r in rows:
            values = []
            for name, _ in columns:
                values.append(f"https://{r[3]}{r[2]}" if name == "url" else r[at[name]])
            shaped.append(tuple(values))
        return write_rows(fmt, shaped, columns, self.job, _iso)

    def export(self, fmt: str) -> bytes:
        return self._export(fmt, tie_break=False)

    def check_export(self, fmt: str) -> list[Variant]:
        exact = Variant("the original's SQL as timed", self._export(fmt, False), "values")
        if fmt != "csv":  # the same rows in every format: their ids are checked once
            return [exact]
        return [Variant("the original's SQL + `, t.id DESC`", self._export(fmt, True)), exact]

    # --- stats and chart series -----------------------------------------------------------------------

    def stats(self) -> dict:
        con, job = self.con, self.job.job_id
        ps = "ARRAY[" + ", ".join(str(p) for p in QUANTILES) + "]"
        tasks, slow, broken, warmed, saved, second_pages, mean, timed, quantiles = con.execute(
            f"""SELECT COUNT(*),
                COUNT(*) FILTER (WHERE {EFF} > {SLOW_MS}),
                COUNT(*) FILTER (WHERE t.status = 'failed'),
                COUNT(*) FILTER (WHERE {WARMED}),
                COALESCE(SUM(t.response_time - {SECOND}) FILTER (WHERE {SECOND} IS NOT NULL), 0),
                COUNT(*) FILTER (WHERE {SECOND} IS NOT NULL AND t.response_time IS NOT NULL),
                AVG({EFF})::float8, COUNT({EFF}),
                PERCENTILE_CONT({ps}) WITHIN GROUP (ORDER BY {EFF})
            FROM tasks t WHERE t.job_id = %s""",
            [job],
        ).fetchone()
        status = dict(con.execute("SELECT status, COUNT(*) FROM tasks t WHERE t.job_id = %s GROUP BY 1", [job]))
        caches = dict(
            con.execute(
                "SELECT COALESCE(cache_status, 'none'), COUNT(*) FROM tasks t WHERE t.job_id = %s GROUP BY 1", [job]
            )
        )
        out = stats_result(
            tasks=tasks,
            status=status,
            caches=caches,
            slow=slow,
            broken=broken,
            warmed=warmed,
            saved=int(saved),
            second_pages=second_pages,
            quantiles=quantiles,
            mean=mean,
            timed=timed,
        )
        single = con.execute(
            f"SELECT PERCENTILE_CONT({ps}) WITHIN GROUP (ORDER BY {EFF}) FROM tasks t WHERE t.job_id = %s", [job]
        ).fetchone()[0]
        out["percentiles"] = {f"p{round(p * 100)}": v for p, v in zip(QUANTILES, single, strict=True)}
        timed_where = f"t.job_id = %s AND {EFF} IS NOT NULL"
        p99 = con.execute(
            f"SELECT PERCENTILE_CONT(0.99) WITHIN GROUP (ORDER BY {EFF}) FROM tasks t WHERE {timed_where}", [job]
        ).fetchone()[0]
        width, top = linear_bins(p99)
        rows = con.execute(
            f"SELECT LEAST(FLOOR({EFF} / %s::float8), %s) AS b, COUNT(*) FROM tasks t WHERE {timed_where} "
            "GROUP BY b ORDER BY b",
            [width, top, job],
        ).fetchall()
        out["histogram"] = [(b * width, (b + 1) * width if b < top else None, n) for b, n in rows]
        rows = con.execute(
            f"SELECT FLOOR(LOG(GREATEST({EFF}, 1)::float8) * 10) AS b, COUNT(*) FROM tasks t WHERE {timed_where} "
            "GROUP BY b ORDER BY b",
            [job],
        ).fetchall()
        out["histogram_log"] = [(10 ** (b / 10), 10 ** ((b + 1) / 10), n) for b, n in rows]
        rows = con.execute(
            f"""SELECT COALESCE({WARMED}, FALSE) AS w, COUNT(*),
                    PERCENTILE_CONT(ARRAY[0.5, 0.95]) WITHIN GROUP (ORDER BY t.response_time),
                    PERCENTILE_CONT(ARRAY[0.5, 0.95]) WITHIN GROUP (ORDER BY {SECOND})
                FROM tasks t WHERE t.job_id = %s AND {SECOND} IS NOT NULL AND t.response_time IS NOT NULL
                GROUP BY w ORDER BY w DESC""",
            [job],
        ).fetchall()
        out["first_vs_second"] = [("warmed" if w else "other", n, a[0], a[1], b[0], b[1]) for w, n, a, b in rows]
        out["by_section"] = self._grouped(SECTION, SECTION_TOP)
        out["by_content_type"] = self._grouped(CONTENT, CONTENT_TOP)
        out["over_time"] = self._over_time()
        buckets = dict(
            con.execute(
                """SELECT CASE WHEN cache_status IS NULL THEN 'none' WHEN cache_status IN
                    ('HIT', 'MISS', 'EXPIRED', 'DYNAMIC') THEN cache_status ELSE 'other' END, COUNT(*)
                FROM tasks t WHERE t.job_id = %s GROUP BY 1""",
                [job],
            )
        )
        total = sum(buckets.values())
        out["cache_breakdown"] = [
            (b, buckets.get(b, 0), buckets.get(b, 0) / total if total else None)
            for b in ("HIT", "MISS", "EXPIRED", "DYNAMIC", "other", "none")
        ]
        outcomes = dict(
            con.execute(
                f"""SELECT CASE WHEN t.second_cache_status = 'HIT' THEN 'warmed'
                        WHEN {SECOND} IS NULL AND t.second_cache_status IS NULL THEN 'no second request'
                        ELSE 'not warmed' END, COUNT(*)
                FROM tasks t WHERE t.job_id = %s AND t.cache_status IN ('MISS', 'EXPIRED') GROUP BY 1""",
                [job],
            )
        )
        out["warming_outcome"] = [(o, outcomes.get(o, 0)) for o in ("warmed", "not warmed", "no second request")]
        out["broken_to_fix"] = self._to_fix("t.status = 'failed'")
        out["slow_to_fix"] = self._to_fix(f"{EFF} > {SLOW_MS}")
        return out

    def _grouped(self, key: str, top: int) -> list[tuple]:
        rows = self.con.execute(
            f"""SELECT {key} AS k, COUNT(*) AS tasks,
                    PERCENTILE_CONT(0.5) WITHIN GROUP (ORDER BY {EFF}),
                    PERCENTILE_CONT(0.95) WITHIN GROUP (ORDER BY {EFF}),
                    AVG({EFF})::float8,
                    COUNT(*) FILTER (WHERE {EFF} > {SLOW_MS}),
                    COUNT(*) FILTER (WHERE t.cache_status = 'HIT'),
                    COUNT(*) FILTER (WHERE t.cache_status IN ('MISS', 'EXPIRED')),
                    COUNT(*) FILTER (WHERE t.cache_status = 'DYNAMIC')
                FROM tasks t WHERE t.job_id = %s GROUP BY k ORDER BY tasks DESC, k LIMIT %s""",
            [self.job.job_id, top],
        ).fetchall()
        return [(*r, hit_rate(r[6], r[7])) for r in rows]

    def _over_time(self) -> list[tuple]:
        job = self.job.job_id
        low, high = self.con.execute(
            f"SELECT MIN({EPOCH}), MAX({EPOCH}) FROM tasks t WHERE t.job_id = %s AND {WHEN} IS NOT NULL", [job]
        ).fetchone()
        step = time_step(low, high)
        rows = self.con.execute(
            f"""SELECT FLOOR({EPOCH} / %s) * %s AS b, COUNT(*),
                    PERCENTILE_CONT(0.5) WITHIN GROUP (ORDER BY {EFF}),
                    PERCENTILE_CONT(0.95) WITHIN GROUP (ORDER BY {EFF}),
                    COUNT(*) FILTER (WHERE t.cache_status = 'HIT'),
                    COUNT(*) FILTER (WHERE t.cache_status IN ('MISS', 'EXPIRED')),
                    COUNT(*) FILTER (WHERE t.status = 'failed')
                FROM tasks t WHERE t.job_id = %s AND {WHEN} IS NOT NULL GROUP BY b ORDER BY b""",
            [float(step), float(step), job],
        ).fetchall()
        return [
            (round(b * 1_000_000), step, n, p50, p95, hits, misses, failed, hit_rate(hits, misses))
            for b, n, p50, p95, hits, misses, failed in rows
        ]

    def _to_fix(self, condition: str) -> list[str]:
        order = "pa.page_views_28d DESC NULLS LAST, " if self.has_analytics else ""
        rows = self.con.execute(
            f"""SELECT t.id FROM tasks t
                JOIN pages p ON t.page_id = p.id
                JOIN jobs j ON t.job_id = j.id
                LEFT JOIN page_analytics pa ON pa.organisation_id = j.organisation_id
                    AND pa.domain_id = p.domain_id AND pa.path = p.path
                WHERE t.job_id = %s AND {condition}
                ORDER BY {order}{EFF} DESC NULLS LAST, t.id LIMIT %s""",
            [self.job.job_id, FIX_LIMIT],
        ).fetchall()
        return [r[0] for r in rows]

    def close(self) -> None:
        if self.con is not None:
            self.con.close()
            self.con = None
        if self.dbname:
            import psycopg

            with psycopg.connect(self.cluster.dsn("postgres"), autocommit=True) as admin:
                admin.execute(f"DROP DATABASE IF EXISTS {self.dbname}")
            self.dbname = ""


def _load(con, data: ScenarioData) -> float:
    """Normalise the scenario into the original's tables with DuckDB, then COPY each in; seconds taken."""
    started = time.perf_counter()
    duck = duckdb.connect()
    duck.execute("SET TimeZone = 'UTC'")
    duck.execute("SET memory_limit = '3GB'")
    with tempfile.TemporaryDirectory(prefix="crawldash-bench-pgload-") as tmp:
        duck.execute("SET temp_directory = ?", [str(Path(tmp) / "spill")])
        domains = sorted({j.domain for j in data.jobs})
        duck.execute("CREATE TABLE domains (id INTEGER, name VARCHAR)")
        duck.executemany("INSERT INTO domains VALUES (?, ?)", list(enumerate(domains, 1)))
        duck.execute("CREATE TABLE job_meta (job_id VARCHAR, domain_id INTEGER)")
        duck.executemany(
            "INSERT INTO job_meta VALUES (?, ?)", [(j.job_id, domains.index(j.domain) + 1) for j in data.jobs]
        )
        files = [str(f) for f in data.files]
        duck.execute(
            "CREATE TABLE t AS SELECT m.domain_id, x.* FROM read_parquet(?, file_row_number = true) x "
            "JOIN job_meta m USING (job_id)",
            [files],
        )
        duck.execute(
            "CREATE TABLE pages AS SELECT row_number() OVER (ORDER BY domain_id, path)::INTEGER AS id, domain_id, path "
            "FROM (SELECT DISTINCT domain_id, path FROM t)"
        )
        exports = {
            "domains": ("id, name", "SELECT id, name FROM domains"),
            "pages": ("id, domain_id, path", "SELECT id, domain_id, path FROM pages ORDER BY id"),
            "page_analytics": (
                "organisation_id, domain_id, path, page_views_7d, page_views_28d, page_views_180d",
                f"""SELECT '{ORGANISATION}', domain_id, path, min(page_views_7d), min(page_views_28d),
                        min(page_views_180d)
                    FROM t WHERE page_views_7d IS NOT NULL GROUP BY domain_id, path ORDER BY domain_id, path""",
            ),
            "tasks": (
                "id, job_id, page_id, path, status, created_at, started_at, completed_at, retry_count, error, "
                "source_type, source_url, status_code, response_time, cache_status, content_type, "
                "second_response_time, second_cache_status",
                """SELECT t.id, t.job_id, p.id, t.path, t.status, t.created_at, t.started_at, t.completed_at,
                        t.retry_count, t.error, t.source_type, t.source_url, t.status_code, t.response_time,
                        t.cache_status, t.content_type, t.second_response_time, t.second_cache_status
                    FROM t JOIN pages p ON p.domain_id = t.domain_id AND p.path = t.path
                    ORDER BY t.job_id, t.file_row_number""",
            ),
        }
        con.execute(f"CREATE TABLE organisations ({TABLES['organisations']})")
        con.execute("INSERT INTO organisations (id, name) VALUES (%s, 'Benchmark agency')", [ORGANISATION])
        con.execute(f"CREATE TABLE jobs ({TABLES['jobs']})")
        for j in data.jobs:
            con.execute(
                "INSERT INTO jobs (id, domain_id, organisation_id, status, progress, total_tasks, created_at, "
                "completed_at, concurrency, find_links, max_pages) "
                "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, 20, true, 0)",
                [
                    j.job_id,
                    domains.index(j.domain) + 1,
                    ORGANISATION,
                    j.status,
                    100.0 if j.status == "completed" else 50.0,
                    j.tasks,
                    j.created_at,
                    j.completed_at,
                ],
            )
        for table, (columns, sql) in exports.items():
            path = Path(tmp) / f"{table}.csv"
            duck.execute(f"COPY ({sql}) TO '{path}' (FORMAT csv, HEADER false)")
            with con.transaction():
                con.execute(f"CREATE TABLE {table} ({TABLES[table]})")
                with (
                    con.cursor().copy(f"COPY {table} ({columns}) FROM STDIN (FORMAT csv)") as copy,
                    open(path, "rb") as f,
                ):
                    while chunk := f.read(1 << 20):
                        copy.write(chunk)
            path.unlink()
            if table == "domains":
                con.execute("SELECT setval('domains_id_seq', (SELECT max(id) FROM domains))")
            if table == "pages":
                con.execute("SELECT setval('pages_id_seq', (SELECT max(id) FROM pages))")
    duck.close()
    return time.perf_counter() - started
