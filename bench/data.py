"""The benchmark's data: generated once with crawldash's sample generator, cached under bench/out/.

A *scenario* is one database: `jobs` generated jobs of `tasks` tasks each (100k, 1M, 10 x 1M). Its
data lives in bench/out/data/<key>/ as one Parquet file of our columns per job plus jobs.json (job
id, domain, status, created and completed times). The key hashes crawldash/sample.py, the seed and
the sizes, so a change to the generator regenerates the data.

One change is made to the generated jobs, the same for every engine: **page views belong to the
page**. The original product stores analytics per page (`page_analytics`: organisation, domain,
path) and joins them to tasks; the generator draws them per task. So within a scenario every task
of one (job domain, path) takes the views of its first task (by job, then id). Only the tasks that
repeat a page change (section roots such as `/blog` and paths repeated across weekly crawls of the
same site); without this the original's schema could not hold the same data as the others.

The import benchmark reads files written by `crawldash.sample.write_sample` itself, unchanged.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pyarrow.parquet as pq

from crawldash import sample, schema
from crawldash.timefmt import iso

BENCH_DIR = Path(__file__).resolve().parent
PROJECT_DIR = BENCH_DIR.parent
OUT_DIR = BENCH_DIR / "out"
DATA_VERSION = "1"  # bump when the transformation below changes
SEED = 20261102

_SIZE = re.compile(r"^(?:(\d+)x)?(\d+)([kKmM]?)$")


def parse_count(text: str) -> int:
    """`10k` -> 10000, `1M` -> 1000000, `250000` -> 250000."""
    match = re.fullmatch(r"(\d+)([kKmM]?)", text.strip())
    if not match:
        raise ValueError(f"not a task count: {text!r} (write 10000, 10k or 1M)")
    n, unit = int(match.group(1)), match.group(2).lower()
    return n * {"": 1, "k": 1000, "m": 1_000_000}[unit]


def count_label(n: int) -> str:
    """1000000 -> `1M`, 100000 -> `100k`, 12345 -> `12345`."""
    if n % 1_000_000 == 0:
        return f"{n // 1_000_000}M"
    if n % 1000 == 0:
        return f"{n // 1000}k"
    return str(n)


@dataclass(frozen=True)
class Scenario:
    """One database: `jobs` jobs of `tasks` tasks; the query mix runs on job number `query_index`."""

    tasks: int
    jobs: int = 1

    @classmethod
    def parse(cls, text: str) -> Scenario:
        """`100k` (one job) or `10x1M` (ten jobs of a million tasks)."""
        match = _SIZE.fullmatch(text.strip())
        if not match:
            raise ValueError(f"not a size: {text!r} (write 100k, 1M or 10x1M)")
        jobs = int(match.group(1) or 1)
        if jobs < 1:
            raise ValueError(f"a size needs at least one job: {text!r}")
        return cls(parse_count(match.group(2) + match.group(3)), jobs)

    @property
    def name(self) -> str:
        return count_label(self.tasks) if self.jobs == 1 else f"{self.jobs}x{count_label(self.tasks)}"

    @property
    def query_index(self) -> int:
        """The newest completed job (with several jobs, the newest one is still running)."""
        return self.jobs - 2 if self.jobs > 1 else 0

    @property
    def total_tasks(self) -> int:
        return self.tasks * self.jobs

    def describe(self) -> str:
        if self.jobs == 1:
            return f"one job of {self.tasks:,} tasks"
        return f"{self.jobs} jobs x {self.tasks:,} tasks in one database, the mix on job {self.query_index + 1}"


@dataclass(frozen=True)
class JobInfo:
    index: int
    job_id: str
    domain: str
    status: str
    created_at: str
    completed_at: str | None
    tasks: int


@dataclass(frozen=True)
class ScenarioData:
    """The cached files of one scenario."""

    scenario: Scenario
    key: str
    directory: Path
    jobs: tuple[JobInfo, ...]

    def job_file(self, index: int) -> Path:
        return self.directory / f"job-{index:02d}.parquet"

    @property
    def files(self) -> list[Path]:
        return [self.job_file(j.index) for j in self.jobs]

    @property
    def query_job(self) -> JobInfo:
        return self.jobs[self.scenario.query_index]


def file_hash(*paths: Path) -> str:
    digest = hashlib.sha1()
    for path in paths:
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def _sample_hash() -> str:
    return file_hash(Path(sample.__file__))


def scenario_key(scenario: Scenario, seed: int = SEED) -> str:
    raw = f"{DATA_VERSION}|{_sample_hash()}|{seed}|{scenario.tasks}|{scenario.jobs}"
    return f"{scenario.name}-{hashlib.sha1(raw.encode()).hexdigest()[:10]}"


def _log(message: str) -> None:
    print(f"  [data] {message}", flush=True)


def scenario_data(scenario: Scenario, seed: int = SEED, out_dir: Path = OUT_DIR) -> ScenarioData:
    """The scenario's files, generated (and cached) when missing."""
    key = scenario_key(scenario, seed)
    directory = out_dir / "data" / key
    meta = directory / "jobs.json"
    if not meta.exists():
        _generate(scenario, seed, directory)
    jobs = tuple(JobInfo(**j) for j in json.loads(meta.read_text(encoding="utf-8")))
    return ScenarioData(scenario, key, directory, jobs)


def _generate(scenario: Scenario, seed: int, directory: Path) -> None:
    started = time.perf_counter()
    partial = directory.with_name(directory.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    raw = partial / "raw"
    raw.mkdir()
    jobs = []
    for index in range(scenario.jobs):
        running = scenario.jobs > 1 and index == scenario.jobs - 1  # as sample.generate_jobs does
        job = sample.generate_job(seed, scenario.tasks, index, running=running)
        pq.write_table(job.table, raw / f"job-{index:02d}.parquet")
        jobs.append(
            JobInfo(
                index, job.job_id, job.domain, job.status, iso(job.created_at), iso(job.completed_at), scenario.tasks
            )
        )
        _log(f"{scenario.name}: generated job {index + 1}/{scenario.jobs} ({time.perf_counter() - started:.0f} s)")
    _page_level_views(raw, partial, jobs)
    shutil.rmtree(raw)
    (partial / "jobs.json").write_text(json.dumps([j.__dict__ for j in jobs], indent=1), encoding="utf-8")
    for stale in directory.parent.glob(f"{scenario.name}-*"):  # data of an older generator
        if stale != partial:
            shutil.rmtree(stale, ignore_errors=True)
    partial.rename(directory)
    _log(f"{scenario.name}: data ready in {time.perf_counter() - started:.0f} s ({directory})")


def _page_level_views(raw: Path, out: Path, jobs: list[JobInfo]) -> None:
    """Rewrite each job's Parquet with page views per (job domain, path), as the module docstring says."""
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    con.execute("SET memory_limit = '3GB'")
    con.execute("SET temp_directory = ?", [str(out / "tmp")])
    con.execute("CREATE TABLE job_meta (job_index INTEGER, job_id VARCHAR, domain VARCHAR)")
    con.executemany("INSERT INTO job_meta VALUES (?, ?, ?)", [(j.index, j.job_id, j.domain) for j in jobs])
    files = [str(raw / f"job-{j.index:02d}.parquet") for j in jobs]
    con.execute(
        """CREATE TABLE canon AS
            SELECT domain, path, page_views_7d AS v7, page_views_28d AS v28, page_views_180d AS v180 FROM (
                SELECT m.domain, t.path, t.page_views_7d, t.page_views_28d, t.page_views_180d,
                    row_number() OVER (PARTITION BY m.domain, t.path ORDER BY m.job_index, t.id) AS n
                FROM read_parquet(?) t JOIN job_meta m USING (job_id))
            WHERE n = 1""",
        [files],
    )
    views = {"page_views_7d": "c.v7", "page_views_28d": "c.v28", "page_views_180d": "c.v180"}
    select = ", ".join(f"{views[n]} AS {n}" if n in views else f"t.{n}" for n in schema.TASK_FIELDS)
    for job in jobs:
        source = str(raw / f"job-{job.index:02d}.parquet")
        target = str(out / f"job-{job.index:02d}.parquet").replace("'", "''")
        con.execute(
            f"""COPY (
                SELECT {select} FROM read_parquet(?, file_row_number = true) t
                JOIN canon c ON c.domain = ? AND c.path = t.path
                ORDER BY t.file_row_number
            ) TO '{target}' (FORMAT parquet)""",
            [source, job.domain],
        )
    con.close()
    shutil.rmtree(out / "tmp", ignore_errors=True)


# --- files for the import benchmark -------------------------------------------------------------------

IMPORT_FORMATS = (("adapt", "json", "original JSON"), ("csv", "csv", "CSV"), ("parquet", "parquet", "Parquet"))


def import_files(tasks: int, seed: int = SEED, out_dir: Path = OUT_DIR) -> dict[str, Path]:
    """One job of `tasks` tasks as the original's export JSON, our CSV and our Parquet, written by
    `crawldash.sample.write_sample` (cached)."""
    raw = f"{DATA_VERSION}|{_sample_hash()}|{seed}|{tasks}"
    directory = out_dir / "data" / f"import-{count_label(tasks)}-{hashlib.sha1(raw.encode()).hexdigest()[:10]}"
    directory.mkdir(parents=True, exist_ok=True)
    paths = {}
    for fmt, ext, _label in IMPORT_FORMATS:
        path = directory / f"job.{ext}"
        if not path.exists():
            started = time.perf_counter()
            partial = path.with_suffix(".partial")
            sample.write_sample(partial, tasks=tasks, jobs=1, seed=seed, fmt=fmt)
            os.replace(partial, path)
            _log(f"import files: wrote {path.name} ({time.perf_counter() - started:.0f} s)")
        paths[fmt] = path
    return paths
