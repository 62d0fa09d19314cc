"""The benchmark runner of issue 5: `.venv/bin/python -m bench` (or `python bench/run.py`).

It needs no network. It generates the data once (cached under bench/out/), starts a private
PostgreSQL cluster when the server is installed, checks that every engine gives ours' answers,
times the mix, prints one markdown report and writes it to bench/out/results.md (and .json).

Sections
--------
The runner is a list of sections (SECTIONS below). Each is a function `run(ctx) -> Section | list[Section]`
that measures something and returns its markdown lines, the targets it judged and its figures;
the report prints them in order and adds the method line and the targets. `--sections` picks some.

The sections are "queries" (bench/queries.py), "imports" (bench/imports.py) and "browser"
(bench/browser.py). A new one gets the cached databases from
`bench.engines.ours.db_path(bench.data.scenario_data(s, out_dir=ctx.out_dir), ctx.out_dir)` for s
in ctx.scenarios, and `ctx.budget` for its repeats; it returns `report.Target`s as the others do.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import pwd
import sqlite3
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

if __package__ in (None, ""):  # `python bench/run.py`
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import browser, imports, queries
from bench.check import Mismatch
from bench.data import OUT_DIR, PROJECT_DIR, Scenario, parse_count
from bench.pgcluster import Cluster, find_bindir, server_version
from bench.report import Section
from bench.timing import SLOW_CAP

#: name -> run(ctx); in the order the report shows them. See the module docstring to add one.
SECTIONS = {
    "queries": queries.run,
    "imports": imports.run,
    "browser": browser.run,
}
ENGINES = ("ours", "pandas", "sqlite", "postgres")
DEFAULT_SIZES = "100k,1M,10x1M"


@dataclass
class Context:
    """What every section may read: the options, the scenarios, the PostgreSQL cluster."""

    out_dir: Path
    scenarios: list[Scenario]
    import_tasks: int
    engines: tuple[str, ...]
    baseline_max_tasks: int
    budget: float
    min_runs: int = 3
    rebuild: bool = False
    cluster: Cluster | None = None
    no_postgres: str = ""
    notes: list[str] = field(default_factory=list)


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m bench", description="crawldash benchmarks (issue 5)")
    p.add_argument("--sizes", default=DEFAULT_SIZES, help=f"databases to run the mix on (default {DEFAULT_SIZES})")
    p.add_argument("--import-size", default="1M", help="tasks of the import files (default 1M)")
    p.add_argument(
        "--quick", action="store_true", help="a smoke run: --sizes 10k --import-size 10k --budget 0 --min-runs 1"
    )
    p.add_argument("--sections", default=",".join(SECTIONS), help=f"some of {', '.join(SECTIONS)}")
    p.add_argument("--engines", default=",".join(ENGINES), help="engines to run (ours always runs)")
    p.add_argument(
        "--baseline-max-tasks",
        default="1M",
        help="the baselines run only on databases of at most this many tasks (default 1M)",
    )
    p.add_argument("--budget", type=float, default=2.0, help="seconds of timed runs per operation and engine")
    p.add_argument("--min-runs", type=int, default=3, help="timed runs per operation and engine, at least")
    p.add_argument("--out", type=Path, default=OUT_DIR, help="cache and results directory (default bench/out)")
    p.add_argument("--rebuild", action="store_true", help="re-import ours' cached DuckDB databases")
    p.add_argument("--require-postgres", action="store_true", help="fail when the PostgreSQL server is missing")
    return p


def _postgres_missing() -> str:
    if find_bindir() is None:
        return "not run: PostgreSQL's server is not installed (apt-get install -y postgresql)"
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            return "not run: running as root and there is no postgres user to run the server as"
    return ""


def _git() -> str:
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=PROJECT_DIR, capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--", "crawldash"], cwd=PROJECT_DIR, capture_output=True, text=True
        ).stdout.strip()
        return head + (" + uncommitted changes in crawldash/" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def _memory() -> str:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return f"{int(line.split()[1]) / 2**20:.0f} GiB"
    except OSError:
        pass
    return "? GiB"


def versions(ctx: Context) -> dict[str, str]:
    import duckdb
    import pandas
    import pyarrow

    out = {
        "python": platform.python_version(),
        "duckdb": duckdb.__version__,
        "pandas": pandas.__version__,
        "pyarrow": pyarrow.__version__,
        "sqlite": sqlite3.sqlite_version,
    }
    if ctx.cluster is not None:
        import psycopg

        out["postgres"] = server_version(ctx.cluster.bindir)
        out["psycopg"] = psycopg.__version__
    out["crawldash"] = _git()
    return out


def method_line(ctx: Context, v: dict[str, str]) -> str:
    shown = ", ".join(f"{k} {val}" for k, val in v.items())
    return (
        "Method: each operation runs once untimed (the run the equality check compares), then timed runs "
        f"until {ctx.budget:g} s are spent, at least {ctx.min_runs} (unless {SLOW_CAP:g} s have passed) and at "
        "most 21; the median, min and max are of the wall-clock time (perf_counter) of the library call, every "
        "engine in this one Python process (PostgreSQL: a local server over loopback TCP); imports run once each "
        f"in a fresh process. Versions: {shown}. "
        f"Machine: {os.cpu_count()} cores, {_memory()}, {platform.machine()}, shared with other work "
        f"(load average {os.getloadavg()[0]:.2f} at the start)."
    )


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    started = time.perf_counter()
    try:
        sizes = "10k" if args.quick and args.sizes == DEFAULT_SIZES else args.sizes
        scenarios = [Scenario.parse(s) for s in sizes.split(",") if s.strip()]
        import_size = "10k" if args.quick and args.import_size == "1M" else args.import_size
        engines = tuple(e.strip() for e in args.engines.split(",") if e.strip())
        sections = [s.strip() for s in args.sections.split(",") if s.strip()]
        unknown = [e for e in engines if e not in ENGINES] + [s for s in sections if s not in SECTIONS]
        if unknown:
            raise ValueError(f"unknown engine or section: {', '.join(unknown)}")
        ctx = Context(
            out_dir=args.out.resolve(),
            scenarios=scenarios,
            import_tasks=parse_count(import_size),
            engines=engines,
            baseline_max_tasks=parse_count(args.baseline_max_tasks),
            budget=0.0 if args.quick and args.budget == 2.0 else args.budget,
            min_runs=1 if args.quick and args.min_runs == 3 else max(1, args.min_runs),
            rebuild=args.rebuild,
        )
    except ValueError as exc:
        print(f"python -m bench: {exc}", file=sys.stderr)
        return 2
    ctx.out_dir.mkdir(parents=True, exist_ok=True)

    needs_pg = (
        "queries" in sections
        and "postgres" in engines
        and any(s.total_tasks <= ctx.baseline_max_tasks for s in scenarios)
    )
    if needs_pg:
        ctx.no_postgres = _postgres_missing()
        if ctx.no_postgres and args.require_postgres:
            print(f"python -m bench: postgres {ctx.no_postgres}", file=sys.stderr)
            return 2
    out: list[Section] = []
    try:
        if needs_pg and not ctx.no_postgres:
            ctx.cluster = Cluster(find_bindir()).start()
            print(f"PostgreSQL {server_version(ctx.cluster.bindir)} started on 127.0.0.1:{ctx.cluster.port}")
        ver = versions(ctx)
        for name in sections:
            result = SECTIONS[name](ctx)
            out += result if isinstance(result, list) else [result]
    except Mismatch as exc:
        print(f"\nMISMATCH: {exc}\nThe engines disagree, so nothing was timed for this database.", file=sys.stderr)
        return 1
    except RuntimeError as exc:  # an import that failed, a server that did not start
        print(f"\npython -m bench: {exc}", file=sys.stderr)
        return 1
    finally:
        if ctx.cluster is not None:
            ctx.cluster.stop()
            print("PostgreSQL stopped")
    elapsed = time.perf_counter() - started
    lines = _report(ctx, ver, out, elapsed)
    text = "\n".join(lines) + "\n"
    print("\n" + text)
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    (ctx.out_dir / "results.md").write_text(text, encoding="utf-8")
    (ctx.out_dir / f"results-{stamp}.md").write_text(text, encoding="utf-8")
    payload = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "elapsed_s": elapsed,
        "versions": ver,
        "sections": {s.name: s.data for s in out},
        "targets": [t.__dict__ for s in out for t in s.targets],
    }
    (ctx.out_dir / "results.json").write_text(json.dumps(payload, indent=1, default=str), encoding="utf-8")
    print(f"written to {ctx.out_dir / 'results.md'} and results.json")
    return 0


def _report(ctx: Context, ver: dict[str, str], sections: list[Section], elapsed: float) -> list[str]:
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        f"## crawldash benchmark, {when}",
        "",
        method_line(ctx, ver),
        "",
        "Times in milliseconds: **ours' median** (min-max, timed runs); for each baseline its median (min-max, "
        "runs) and baseline / ours, i.e. how many times faster ours is.",
        "",
    ]
    for section in sections:
        lines += section.lines
    targets = [t for s in sections for t in s.targets]
    if targets:
        judged = [t for t in targets if t.ok is not None]
        lines += ["### Targets of issue 5 (ours, medians; judged on a 1,000,000-task job)", ""]
        lines += [t.line() for t in (judged or targets)]
        passed = sum(1 for t in judged if t.ok)
        lines += ["", f"{passed} of {len(judged)} judged targets met."]
        if judged and len(judged) < len(targets):
            lines.append(
                f"{len(targets) - len(judged)} more are not judged here (smaller jobs); results.json lists them."
            )
    lines += ["", f"Whole run: {elapsed / 60:.1f} min."]
    return lines


if __name__ == "__main__":
    sys.exit(main())
