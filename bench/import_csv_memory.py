"""Peak memory and speed of importing a 1,000,000-row CSV of our own columns.

    .venv/bin/python bench/import_csv_memory.py [--tasks N] [--keep]

Writes the CSV with `crawldash.sample.write_sample(path, tasks=N, fmt="csv")` (in a process of its
own, so the generator's memory is not counted), then imports it into a new database file in a fresh
process and prints that process's peak RSS (`ru_maxrss`) and tasks per second. The limit is 1.5 GiB.
Files go to bench/out/ (git-ignored); the CSV is kept between runs with --keep.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
PROJECT = HERE.parent
LIMIT_BYTES = int(1.5 * 2**30)

_GENERATE = """
import sys
from crawldash.sample import write_sample
write_sample(sys.argv[1], tasks=int(sys.argv[2]), fmt="csv")
"""

_IMPORT = """
import json, resource, sys, time
from crawldash.importers import import_files
from crawldash.store import Store
start = time.perf_counter()
store = Store(sys.argv[2])
result = import_files(store, [sys.argv[1]], fmt="auto")[0]
store.close()
elapsed = time.perf_counter() - start
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # kilobytes on Linux
print(json.dumps({"tasks": result.tasks, "seconds": elapsed, "peak_rss": peak}))
"""


def _run(code: str, *args: str) -> str:
    done = subprocess.run([sys.executable, "-c", code, *args], cwd=PROJECT, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        sys.exit(f"failed: {done.stderr.strip().splitlines()[-1] if done.stderr.strip() else done.returncode}")
    return done.stdout


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=1_000_000)
    parser.add_argument("--keep", action="store_true", help="reuse (and keep) bench/out/tasks-N.csv")
    args = parser.parse_args()
    out = HERE / "out"
    out.mkdir(exist_ok=True)
    csv = out / f"tasks-{args.tasks}.csv"
    if not (args.keep and csv.exists()):
        print(f"writing {csv.name} ({args.tasks:,} tasks) ...", flush=True)
        _run(_GENERATE, str(csv), str(args.tasks))
    with tempfile.TemporaryDirectory(dir=out) as tmp:
        figures = json.loads(_run(_IMPORT, str(csv), str(Path(tmp) / "bench.duckdb")))
    size = csv.stat().st_size
    if not args.keep:
        csv.unlink(missing_ok=True)
    peak = figures["peak_rss"]
    print(f"tasks imported : {figures['tasks']:,} ({size / 2**20:,.0f} MiB CSV)")
    print(f"import time    : {figures['seconds']:.1f} s ({figures['tasks'] / figures['seconds']:,.0f} tasks/s)")
    print(f"peak RSS       : {peak / 2**20:,.0f} MiB (limit {LIMIT_BYTES / 2**20:,.0f} MiB)")
    ok = peak < LIMIT_BYTES and figures["tasks"] == args.tasks
    print("result         :", "OK" if ok else "OVER THE LIMIT OR ROWS MISSING")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
