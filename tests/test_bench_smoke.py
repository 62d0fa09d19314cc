"""The benchmark runner (bench/) works end to end at 10,000 tasks, so it cannot rot: every engine
gives ours' answers before anything is timed, and every figure of the report is printed.

PostgreSQL takes part when its server is installed; under CI=true it must (scripts/test installs it).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from bench.mix import LIST_QUERIES
from bench.pgcluster import find_bindir

PROJECT = Path(__file__).resolve().parent.parent
IN_CI = os.environ.get("CI") == "true"


@pytest.fixture(scope="module")
def smoke(tmp_path_factory) -> tuple[subprocess.CompletedProcess, Path]:
    out = tmp_path_factory.mktemp("bench-out")
    command = [sys.executable, "-m", "bench", "--quick", "--out", str(out)]
    if IN_CI:
        command.append("--require-postgres")
    done = subprocess.run(command, cwd=PROJECT, capture_output=True, text=True, timeout=600)
    return done, out


def test_bench_smoke_runs_and_engines_agree(smoke):
    done, _out = smoke
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "MISMATCH" not in done.stdout + done.stderr
    assert "Checked equal before timing" in done.stdout


def test_bench_smoke_prints_every_figure_for_every_engine(smoke):
    done, out = smoke
    report = done.stdout
    engines = ["pandas", "sqlite"]
    if find_bindir() is not None or IN_CI:
        engines.append("postgres")
    else:
        assert "postgres: not run" in report
    for name in engines:
        assert f"| {name} ms | {name} / ours |" in report
    labels = [q.label for q in LIST_QUERIES]
    labels += [
        "export CSV, 10,000 rows",
        "export JSON, 10,000 rows",
        "export XLSX, 10,000 rows",
        "stats + chart series",
    ]
    for label in labels:
        rows = [line for line in report.splitlines() if line.startswith(f"| {label} |")]
        assert len(rows) == 1, label
        cells = rows[0].strip("|").split("|")
        assert len(cells) == 2 + 2 * len(engines), rows[0]
        assert all(cell.strip() for cell in cells), rows[0]
    for fmt in ("original JSON", "CSV", "Parquet"):
        assert any(line.startswith(f"| {fmt} |") for line in report.splitlines()), fmt
    assert "Method:" in report and "Versions: python" in report and "cores" in report
    assert "### Targets of issue 5" in report
    if IN_CI or Path("/usr/bin/chromium").exists():  # scripts/test installs it
        assert "### Browser: Chromium against `streamlit run app.py`" in report
        for operation in ("first load", "filter change", "sort change", "page change"):
            rows = [line for line in report.splitlines() if line.startswith(f"| {operation} |")]
            assert len(rows) == 1 and rows[0].count("|") == 5, operation
    else:
        assert "### Browser: not run" in report
    assert (out / "results.md").read_text(encoding="utf-8") in report
    assert (out / "results.json").exists()
