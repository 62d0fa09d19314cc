"""Baseline (b): SQLite with indexes, as Datasette would serve it.

One flat `tasks` table of our columns, as `sqlite-utils insert` would make it (id the primary key,
timestamps as ISO 8601 text, written at a fixed width so that text order is time order; values as
imported, so a second request of 0 ms stays 0 and the formulas use NULLIF as the original's do),
and indexes on the filter and sort columns, led by job_id (many jobs live in one file) and ended by
id (the tie-break). A page is `ORDER BY <field> NULLS LAST, id LIMIT ? OFFSET ?` plus a separate
`count(*)` with the same WHERE, as Datasette's table view runs them; the path keyword is a LIKE with
ESCAPE so that `_`, `%` and `\\` are literal (SQLite's LIKE ignores ASCII case). SQLite has no
percentile function: for the stats SQLite sorts the values and Python interpolates between the two
closest ranks, as DuckDB's quantile_cont does. The file is built once and cached.
"""

from __future__ import annotations

import csv
import io
import itertools
import json
import os
import sqlite3
import time
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import xlsxwriter

from bench.data import OUT_DIR, ScenarioData
from bench.engines import Engine
from bench.mix import (
    CACHE_GROUPS,
    CONTENT_TOP,
    EXPORT_CAP,
    FIX_LIMIT,
    QUANTILES,
    SECTION_TOP,
    SLOW_MS,
    ListQuery,
    PageResult,
    hit_rate,
    interpolate,
    linear_bins,
    norm,
    stats_result,
    time_step,
)
from crawldash import schema

BUILD_VERSION = "1"
TYPES = {schema.TEXT: "TEXT", schema.INT: "INTEGER", schema.TIMESTAMP: "TEXT"}
#: Indexes on the filter and sort columns (job first: many jobs share the file; id last: the tie-break).
INDEXES = (
    ("job_id", "created_at", "id"),
    ("job_id", "response_time", "id"),
    ("job_id", "path", "id"),
    ("job_id", "page_views_7d", "id"),
    ("job_id", "status", "cache_status"),
    ("job_id", "cache_status"),
)
EFFECTIVE = "coalesce(nullif(second_response_time, 0), response_time)"
SECOND = "nullif(second_response_time, 0)"
SECTION = (
    "CASE WHEN path = '/' OR path = '' THEN '/' WHEN instr(ltrim(path, '/'), '/') > 0 "
    "THEN '/' || substr(ltrim(path, '/'), 1, instr(ltrim(path, '/'), '/') - 1) ELSE '/' || ltrim(path, '/') END"
)
CONTENT = (
    "coalesce(nullif(lower(trim(CASE WHEN instr(content_type, ';') > 0 "
    "THEN substr(content_type, 1, instr(content_type, ';') - 1) ELSE content_type END)), ''), '(none)')"
)
WHEN = "coalesce(completed_at, started_at, created_at)"
EPOCH = f"((julianday({WHEN}) - 2440587.5) * 86400.0)"


def db_path(data: ScenarioData, out_dir: Path = OUT_DIR) -> Path:
    return out_dir / "db" / f"sqlite-{data.key}-v{BUILD_VERSION}.sqlite"


def build_db(data: ScenarioData, path: Path) -> float | None:
    """Create the SQLite file from the scenario's Parquet files; None when it was cached."""
    if path.exists():
        return None
    started = time.perf_counter()
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    partial.unlink(missing_ok=True)
    con = sqlite3.connect(partial)
    con.execute("PRAGMA journal_mode = OFF")
    con.execute("PRAGMA synchronous = OFF")
    columns = ", ".join(
        f"{c.name} {TYPES[c.kind]}{' PRIMARY KEY' if c.name == 'id' else ''}" for c in schema.TASK_COLUMNS
    )
    con.execute(f"CREATE TABLE tasks ({columns})")
    select = ", ".join(
        f"strftime({c.name}, '%Y-%m-%dT%H:%M:%S.%fZ') AS {c.name}" if c.kind == schema.TIMESTAMP else c.name
        for c in schema.TASK_COLUMNS
    )
    insert = f"INSERT INTO tasks VALUES ({', '.join('?' for _ in schema.TASK_COLUMNS)})"
    duck = duckdb.connect()
    duck.execute("SET TimeZone = 'UTC'")
    for number, job_file in enumerate(data.files, 1):
        result = duck.execute(f"SELECT {select} FROM read_parquet(?)", [str(job_file)])
        while rows := result.fetchmany(100_000):
            con.executemany(insert, rows)
        con.commit()
        print(
            f"  [sqlite] {data.scenario.name}: inserted job {number}/{len(data.files)} "
            f"({time.perf_counter() - started:.0f} s)",
            flush=True,
        )
    duck.close()
    for columns in INDEXES:
        con.execute(f"CREATE INDEX idx_tasks_{'_'.join(columns)} ON tasks ({', '.join(columns)})")
    con.execute("ANALYZE")
    con.commit()
    con.close()
    for stale in path.parent.glob(f"sqlite-{data.scenario.name}-*.sqlite"):  # older data
        stale.unlink()
    os.replace(partial, path)
    print(f"  [sqlite] {data.scenario.name}: indexed ({time.perf_counter() - started:.0f} s)", flush=True)
    return time.perf_counter() - started


def like_escape(keyword: str) -> str:
    return keyword.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


class Lite(Engine):
    name = "sqlite"
    title = "SQLite with indexes (Datasette's queries)"

    def __init__(self, out_dir: Path = OUT_DIR):
        self.out_dir = out_dir
        self.con: sqlite3.Connection | None = None

    def setup(self, data: ScenarioData) -> str:
        path = db_path(data, self.out_dir)
        took = build_db(data, path)
        self.con = sqlite3.connect(path)
        self.job = data.query_job
        self.has_analytics = bool(
            self.con.execute(
                "SELECT EXISTS (SELECT 1 FROM tasks WHERE job_id = ? AND page_views_7d IS NOT NULL)", [self.job.job_id]
            ).fetchone()[0]
        )
        size = path.stat().st_size / 2**20
        return f"SQLite file {size:,.0f} MiB ({'cached' if took is None else f'built in {took:.1f} s'})"

    def _where(self, q: ListQuery) -> tuple[str, list]:
        sql, params = "job_id = ?", [self.job.job_id]
        if q.status is not None:
            sql += " AND status = ?"
            params.append(q.status)
        if q.cache is not None:
            sql += " AND cache_status IN (?, ?)"
            params += list(CACHE_GROUPS[q.cache])
        if q.path is not None:
            sql += " AND path LIKE ? ESCAPE '\\'"
            params.append("%" + like_escape(q.path) + "%")
        return sql, params

    def list_tasks(self, q: ListQuery):
        where, params = self._where(q)
        direction = "DESC" if q.descending else "ASC"
        total = self.con.execute(f"SELECT count(*) FROM tasks WHERE {where}", params).fetchone()[0]
        cursor = self.con.execute(
            f"SELECT * FROM tasks WHERE {where} ORDER BY {q.field} {direction} NULLS LAST, id {direction} "
            "LIMIT ? OFFSET ?",
            [*params, q.limit, q.offset],
        )
        return total, cursor.fetchall()

    def page_result(self, raw, q: ListQuery) -> PageResult:
        total, rows = raw
        at = schema.TASK_FIELDS.index(q.field)
        return PageResult(total, [r[0] for r in rows], [norm(r[at]) for r in rows])

    # --- exports -------------------------------------------------------------------------------------

    def _export_rows(self) -> tuple[list[tuple], list[tuple[str, str]]]:
        columns = schema.export_columns("job", self.has_analytics)
        rows = self.con.execute(
            f"SELECT {', '.join(f for f, _ in columns)} FROM tasks WHERE job_id = ? "
            "ORDER BY created_at DESC NULLS LAST, id DESC LIMIT ?",
            [self.job.job_id, EXPORT_CAP],
        ).fetchall()
        return rows, columns

    def export(self, fmt: str) -> bytes:
        rows, columns = self._export_rows()
        return write_rows(fmt, rows, columns, self.job, lambda v: v)

    # --- stats and chart series ----------------------------------------------------------------------

    def _quantiles(self, value: str, key: str | None, where: str, params: list, ps=QUANTILES) -> dict:
        """{group: {p: value}} (key None: {p: value}): SQLite sorts the values, Python interpolates
        between the two closest ranks, as a Datasette plugin or an app on SQLite would (SQLite has no
        percentile function; numbering the rows with a window function instead is twice as slow)."""
        group = key or "0"
        rows = self.con.execute(
            f"SELECT {group} AS g, {value} AS v FROM tasks WHERE {where} AND {value} IS NOT NULL ORDER BY g, v", params
        ).fetchall()
        out = {}
        for g, members in itertools.groupby(rows, key=lambda r: r[0]):
            values = [v for _, v in members]
            out[g] = {p: interpolate(values, p) for p in ps}
        return out if key else out.get(0, {p: None for p in ps})

    def stats(self) -> dict:
        con, job = self.con, self.job.job_id
        base, params = "job_id = ?", [job]
        tasks, slow, broken, warmed, saved, second_pages, mean, timed = con.execute(
            f"""SELECT count(*),
                count(*) FILTER (WHERE {EFFECTIVE} > {SLOW_MS}),
                count(*) FILTER (WHERE status = 'failed'),
                count(*) FILTER (WHERE cache_status IN ('MISS', 'EXPIRED') AND second_cache_status = 'HIT'),
                coalesce(sum(response_time - {SECOND}) FILTER (WHERE {SECOND} IS NOT NULL), 0),
                count(*) FILTER (WHERE {SECOND} IS NOT NULL AND response_time IS NOT NULL),
                avg({EFFECTIVE}), count({EFFECTIVE})
            FROM tasks WHERE {base}""",
            params,
        ).fetchone()
        status = dict(con.execute(f"SELECT status, count(*) FROM tasks WHERE {base} GROUP BY status", params))
        caches = dict(
            con.execute(
                f"SELECT coalesce(cache_status, 'none'), count(*) FROM tasks WHERE {base} GROUP BY 1", params
            ).fetchall()
        )
        q = self._quantiles(EFFECTIVE, None, base, params)
        out = stats_result(
            tasks=tasks,
            status=status,
            caches=caches,
            slow=slow,
            broken=broken,
            warmed=warmed,
            saved=saved,
            second_pages=second_pages,
            quantiles=[q[p] for p in QUANTILES],
            mean=mean,
            timed=timed,
        )
        timed_where = f"{base} AND {EFFECTIVE} IS NOT NULL"
        width, top = linear_bins(q[0.99])
        rows = con.execute(
            f"SELECT min(floor({EFFECTIVE} / ?), ?) AS b, count(*) FROM tasks WHERE {timed_where} "
            "GROUP BY b ORDER BY b",
            [width, top, *params],
        ).fetchall()
        out["histogram"] = [(b * width, (b + 1) * width if b < top else None, n) for b, n in rows]
        rows = con.execute(
            # SQLite's log10 is not exact at powers of ten (log10(1000) = 2.9999999999999996): the 1e-9
            # puts those in their bin, and changes no other integer's bin up to 10^6 (checked).
            f"SELECT floor(log10(max({EFFECTIVE}, 1)) * 10 + 1e-9) AS b, count(*) FROM tasks WHERE {timed_where} "
            "GROUP BY b ORDER BY b",
            params,
        ).fetchall()
        out["histogram_log"] = [(10 ** (b / 10), 10 ** ((b + 1) / 10), n) for b, n in rows]

        warmed_sql = "coalesce(cache_status IN ('MISS', 'EXPIRED') AND second_cache_status = 'HIT', 0)"
        both = f"{base} AND {SECOND} IS NOT NULL AND response_time IS NOT NULL"
        counts = dict(con.execute(f"SELECT {warmed_sql}, count(*) FROM tasks WHERE {both} GROUP BY 1", params))
        first = self._quantiles("response_time", warmed_sql, both, params, (0.5, 0.95))
        second = self._quantiles(SECOND, warmed_sql, both, params, (0.5, 0.95))
        out["first_vs_second"] = [
            ("warmed" if w else "other", counts[w], first[w][0.5], first[w][0.95], second[w][0.5], second[w][0.95])
            for w in sorted(counts, reverse=True)
        ]
        out["by_section"] = self._grouped(SECTION, SECTION_TOP)
        out["by_content_type"] = self._grouped(CONTENT, CONTENT_TOP)
        out["over_time"] = self._over_time()
        known = ("HIT", "MISS", "EXPIRED", "DYNAMIC")
        buckets = dict(
            con.execute(
                f"""SELECT CASE WHEN cache_status IS NULL THEN 'none' WHEN cache_status IN
                    ('HIT', 'MISS', 'EXPIRED', 'DYNAMIC') THEN cache_status ELSE 'other' END, count(*)
                FROM tasks WHERE {base} GROUP BY 1""",
                params,
            ).fetchall()
        )
        total = sum(buckets.values())
        out["cache_breakdown"] = [
            (b, buckets.get(b, 0), buckets.get(b, 0) / total if total else None) for b in known + ("other", "none")
        ]
        outcomes = dict(
            con.execute(
                f"""SELECT CASE WHEN second_cache_status = 'HIT' THEN 'warmed'
                        WHEN {SECOND} IS NULL AND second_cache_status IS NULL THEN 'no second request'
                        ELSE 'not warmed' END, count(*)
                FROM tasks WHERE {base} AND cache_status IN ('MISS', 'EXPIRED') GROUP BY 1""",
                params,
            ).fetchall()
        )
        out["warming_outcome"] = [(o, outcomes.get(o, 0)) for o in ("warmed", "not warmed", "no second request")]
        out["broken_to_fix"] = self._to_fix("status = 'failed'")
        out["slow_to_fix"] = self._to_fix(f"{EFFECTIVE} > {SLOW_MS}")
        return out

    def _grouped(self, key: str, top: int) -> list[tuple]:
        base, params = "job_id = ?", [self.job.job_id]
        rows = self.con.execute(
            f"""SELECT {key} AS k, count(*) AS tasks, avg({EFFECTIVE}),
                    count(*) FILTER (WHERE {EFFECTIVE} > {SLOW_MS}),
                    count(*) FILTER (WHERE cache_status = 'HIT'),
                    count(*) FILTER (WHERE cache_status IN ('MISS', 'EXPIRED')),
                    count(*) FILTER (WHERE cache_status = 'DYNAMIC')
                FROM tasks WHERE {base} GROUP BY k ORDER BY tasks DESC, k LIMIT ?""",
            [*params, top],
        ).fetchall()
        q = self._quantiles(EFFECTIVE, key, base, params, (0.5, 0.95))
        return [
            (k, n, q.get(k, {}).get(0.5), q.get(k, {}).get(0.95), mean, slow, hits, misses, dyn, hit_rate(hits, misses))
            for k, n, mean, slow, hits, misses, dyn in rows
        ]

    def _over_time(self) -> list[tuple]:
        base, params = f"job_id = ? AND {WHEN} IS NOT NULL", [self.job.job_id]
        low, high = self.con.execute(f"SELECT min({EPOCH}), max({EPOCH}) FROM tasks WHERE {base}", params).fetchone()
        step = time_step(low, high)
        bucket = f"(floor({EPOCH} / {step}) * {step})"
        rows = self.con.execute(
            f"""SELECT {bucket} AS b, count(*),
                    count(*) FILTER (WHERE cache_status = 'HIT'),
                    count(*) FILTER (WHERE cache_status IN ('MISS', 'EXPIRED')),
                    count(*) FILTER (WHERE status = 'failed')
                FROM tasks WHERE {base} GROUP BY b ORDER BY b""",
            params,
        ).fetchall()
        q = self._quantiles(EFFECTIVE, bucket, base, params, (0.5, 0.95))
        return [
            (round(b * 1_000_000), step, n, q.get(b, {}).get(0.5), q.get(b, {}).get(0.95), hits, misses, failed)
            + (hit_rate(hits, misses),)
            for b, n, hits, misses, failed in rows
        ]

    def _to_fix(self, condition: str) -> list[str]:
        order = "page_views_28d DESC NULLS LAST, " if self.has_analytics else ""
        rows = self.con.execute(
            f"SELECT id FROM tasks WHERE job_id = ? AND {condition} "
            f"ORDER BY {order}{EFFECTIVE} DESC NULLS LAST, id LIMIT ?",
            [self.job.job_id, FIX_LIMIT],
        ).fetchall()
        return [r[0] for r in rows]

    def close(self) -> None:
        if self.con is not None:
            self.con.close()
            self.con = None


def write_rows(fmt: str, rows: list[tuple], columns, job, stamp) -> bytes:
    """A job export from fetched rows: CSV (csv module), the original's JSON shape (json, `stamp`
    turning timestamps into text), XLSX (xlsxwriter)."""
    out = io.BytesIO()
    names = [f for f, _ in columns]
    if fmt == "csv":
        text = io.StringIO()
        writer = csv.writer(text)
        writer.writerow([label for _, label in columns])
        writer.writerows(rows)
        out.write(text.getvalue().encode())
    elif fmt == "json":
        head = {
            "job_id": job.job_id,
            "domain": job.domain,
            "status": job.status,
            "created_at": job.created_at,
            "completed_at": job.completed_at,
            "export_type": "job",
            "export_time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "total_tasks": len(rows),
            "columns": [{"key": k, "label": label} for k, label in columns],
            "tasks": [dict(zip(names, (stamp(v) for v in row), strict=True)) for row in rows],
        }
        body = {"status": "success", "data": head, "message": f"Exported {len(rows)} tasks for job {job.job_id}"}
        out.write(json.dumps(body).encode())
    else:
        options = {"in_memory": True, "strings_to_urls": False, "strings_to_formulas": False, "remove_timezone": True}
        book = xlsxwriter.Workbook(out, options)
        sheet = book.add_worksheet("job")
        sheet.write_row(0, 0, [label for _, label in columns])
        for r, row in enumerate(rows, 1):
            sheet.write_row(r, 0, row)
        book.close()
    return out.getvalue()
