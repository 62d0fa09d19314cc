"""Ours: crawldash's own library on a DuckDB file, imported once with `crawldash.importers.import_files`
and cached under bench/out/db/, keyed by a hash of every crawldash module: what an import stores may
depend on any of them (an import may precompute what the queries or the stats read), so any change
to crawldash re-imports."""

from __future__ import annotations

import hashlib
import io
import os
import time
from pathlib import Path

import crawldash
from bench.data import OUT_DIR, ScenarioData
from bench.engines import Engine
from bench.mix import SERIES_COLUMNS, ListQuery, PageResult, norm
from crawldash import stats as cstats
from crawldash.export import write_export
from crawldash.importers import import_files
from crawldash.query import Filters, Sort, list_tasks
from crawldash.store import Store

PACKAGE = Path(crawldash.__file__).resolve().parent


def store_key() -> str:
    """A hash of the crawldash sources (what an import stores)."""
    digest = hashlib.sha1()
    for path in sorted(PACKAGE.rglob("*.py")):
        digest.update(str(path.relative_to(PACKAGE)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:10]


def db_path(data: ScenarioData, out_dir: Path = OUT_DIR) -> Path:
    return out_dir / "db" / f"ours-{data.key}-{store_key()}.duckdb"


def build_db(data: ScenarioData, path: Path, rebuild: bool = False) -> float | None:
    """Import the scenario's job files (one import per job) into `path`; None when it was cached."""
    if path.exists() and not rebuild:
        return None
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    for leftover in (partial, Path(f"{partial}.wal")):
        leftover.unlink(missing_ok=True)
    started = time.perf_counter()
    store = Store(partial)
    try:
        for number, job_file in enumerate(data.files, 1):
            import_files(store, [job_file])
            print(
                f"  [ours] {data.scenario.name}: imported job {number}/{len(data.files)} "
                f"({time.perf_counter() - started:.0f} s)",
                flush=True,
            )
    finally:
        store.close()
    for stale in path.parent.glob(f"ours-{data.scenario.name}-*.duckdb"):  # older data or crawldash
        stale.unlink()
    os.replace(partial, path)
    return time.perf_counter() - started


#: The chart series of crawldash/stats.py, called as the dashboard's pages would.
SERIES = (
    ("histogram", lambda s, j: cstats.response_time_histogram(s, j)),
    ("histogram_log", lambda s, j: cstats.response_time_histogram(s, j, log=True)),
    ("percentiles", lambda s, j: cstats.percentiles(s, j)),
    ("first_vs_second", lambda s, j: cstats.first_vs_second(s, j)),
    ("by_section", lambda s, j: cstats.by_section(s, j)),
    ("by_content_type", lambda s, j: cstats.by_content_type(s, j)),
    ("over_time", lambda s, j: cstats.over_time(s, j)),
    ("cache_breakdown", lambda s, j: cstats.cache_breakdown(s, j)),
    ("warming_outcome", lambda s, j: cstats.warming_outcome(s, j)),
    ("broken_to_fix", lambda s, j: cstats.pages_to_fix(s, j, kind="broken")),
    ("slow_to_fix", lambda s, j: cstats.pages_to_fix(s, j, kind="slow")),
)


def _records(frame) -> list[tuple]:
    return [tuple(norm(v) for v in row) for row in frame.itertuples(index=False, name=None)]


class Ours(Engine):
    name = "ours"
    title = "crawldash (DuckDB file)"

    def __init__(self, out_dir: Path = OUT_DIR, rebuild: bool = False):
        self.out_dir = out_dir
        self.rebuild = rebuild
        self.store: Store | None = None
        self.job_id = ""

    def setup(self, data: ScenarioData) -> str:
        path = db_path(data, self.out_dir)
        took = build_db(data, path, self.rebuild)
        self.store = Store(path)
        self.job_id = data.query_job.job_id
        size = path.stat().st_size / 2**20
        what = "cached" if took is None else f"imported in {took:.1f} s"
        return f"DuckDB file {size:,.0f} MiB ({what})"

    def list_tasks(self, q: ListQuery):
        return list_tasks(
            self.store,
            self.job_id,
            Filters(status=q.status, cache=q.cache, path=q.path),
            Sort.parse(q.sort),
            q.limit,
            q.offset,
        )

    def page_result(self, raw, q: ListQuery) -> PageResult:
        return PageResult(raw.total, [t["id"] for t in raw.tasks], [norm(t[q.field]) for t in raw.tasks])

    def export(self, fmt: str) -> bytes:
        out = io.BytesIO()
        write_export(self.store, self.job_id, out, "job", fmt)
        return out.getvalue()

    def stats(self):
        out = {"stats": cstats.job_stats(self.store, self.job_id)}
        for name, call in SERIES:
            out[name] = call(self.store, self.job_id)
        return out

    def canonical_stats(self, raw) -> dict:
        s = raw["stats"]
        effective = s["effective_response_time_ms"]
        out = {
            "kpi": {
                k: s[k]
                for k in (
                    "tasks",
                    "status",
                    "cache_status",
                    "slow_pages",
                    "broken",
                    "warmed",
                    "time_saved_ms",
                    "pages_with_second_request",
                    "cache_hit_rate",
                    "dynamic_share",
                )
            },
            "effective": {k: effective[k] for k in ("p50", "p90", "p95", "p99", "mean", "timed_tasks")},
            "percentiles": dict(raw["percentiles"]),
        }
        for name in SERIES_COLUMNS:
            out[name] = _records(raw[name][list(SERIES_COLUMNS[name])])
        out["broken_to_fix"] = list(raw["broken_to_fix"]["id"])
        out["slow_to_fix"] = list(raw["slow_to_fix"]["id"])
        return out

    def close(self) -> None:
        if self.store is not None:
            self.store.close()
            self.store = None
