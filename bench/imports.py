"""The imports section: the original's JSON, our CSV and our Parquet, each imported by
`crawldash.importers.import_files` in a fresh subprocess (bench/import_worker.py) into a new DuckDB
file, so that the peak RSS is that import's alone."""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

from bench import data as bench_data
from bench.report import Section, Target, table

PROJECT = Path(__file__).resolve().parent.parent
#: (format, tasks/s at least) from issue 5; every import: peak RSS at most 1.5 GiB.
RATE_TARGETS = {"adapt": 100_000, "csv": 500_000, "parquet": 500_000}
RSS_TARGET = 1.5 * 2**30
JUDGED_FROM = 1_000_000


def import_once(path: Path, scratch: Path) -> dict:
    db = scratch / f"import-{path.suffix.lstrip('.')}.duckdb"
    done = subprocess.run(
        [sys.executable, "-m", "bench.import_worker", str(path), str(db)],
        cwd=PROJECT,
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        raise RuntimeError(f"importing {path.name} failed: {done.stderr.strip()[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def run(ctx) -> Section:
    section = Section("imports")
    tasks = ctx.import_tasks
    files = bench_data.import_files(tasks, out_dir=ctx.out_dir)
    rows, figures = [], {}
    ctx.out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="imports-", dir=ctx.out_dir) as scratch:
        for fmt, _ext, label in bench_data.IMPORT_FORMATS:
            path = files[fmt]
            result = import_once(path, Path(scratch))
            if result["tasks"] != tasks:
                raise RuntimeError(f"importing {path.name} stored {result['tasks']:,} tasks, expected {tasks:,}")
            rate = tasks / result["seconds"]
            peak = result["peak_rss_bytes"]
            figures[fmt] = {**result, "tasks_per_s": rate, "file_bytes": path.stat().st_size}
            rows.append(
                [
                    label,
                    f"{path.stat().st_size / 2**20:,.0f} MiB",
                    f"{result['seconds']:.2f} s",
                    f"{rate:,.0f}",
                    f"{peak / 2**20:,.0f} MiB",
                ]
            )
            judged = tasks >= JUDGED_FROM
            section.targets.append(
                Target(
                    f"import {bench_data.count_label(tasks)}",
                    f"{label} import >= {RATE_TARGETS[fmt]:,} tasks/s",
                    f"{rate:,.0f} tasks/s",
                    rate >= RATE_TARGETS[fmt] if judged else None,
                )
            )
            section.targets.append(
                Target(
                    f"import {bench_data.count_label(tasks)}",
                    f"{label} import peak RSS <= 1.5 GiB",
                    f"{peak / 2**30:.2f} GiB",
                    peak <= RSS_TARGET if judged else None,
                )
            )
            print(f"  [imports] {label}: {result['seconds']:.2f} s, {rate:,.0f} tasks/s, {peak / 2**20:,.0f} MiB")
    section.lines += [
        f"### Imports: one job of {tasks:,} tasks, ours (`crawldash.importers.import_files`)",
        "",
        "One run per format, each in a fresh process into a new DuckDB file; the time is the import call alone, "
        "the peak RSS the whole process's high-water mark (VmHWM; Python and its libraries included).",
        "",
        *table(["format", "file", "time", "tasks/s", "peak RSS"], rows),
        "",
    ]
    section.data = {"tasks": tasks, "formats": figures}
    return section
