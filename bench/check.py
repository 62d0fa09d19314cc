"""The equality check run before any timing: every engine must give ours' answer, or the run stops.

- List Tasks: the same total and the same page (ids in order, and their sort values). For SQL with no
  tie-breaker (the original's), the same total and the same sequence of sort values.
- Exports: every format holds the same task ids in the same order (or, for the original's SQL, tasks
  with the same sequence of created_at).
- Stats and chart series: the same numbers (counts exactly, means and percentiles to 1e-9 relative).
"""

from __future__ import annotations

import csv
import io
import json
import math

import duckdb

from bench.data import ScenarioData
from bench.engines import Variant
from bench.mix import PageResult, norm


class Mismatch(AssertionError):
    """An engine's answer differs from ours: no figure of this run can be trusted."""


def _short(values: list, n: int = 5) -> str:
    return repr(values[:n]) + (" …" if len(values) > n else "")


def compare_page(what: str, ours: PageResult, other: Variant) -> None:
    theirs: PageResult = other.result
    where = f"{what} [{other.label}]" if other.label else what
    if theirs.total != ours.total:
        raise Mismatch(f"{where}: total {theirs.total:,} where ours is {ours.total:,}")
    if len(theirs.ids) != len(ours.ids):
        raise Mismatch(f"{where}: {len(theirs.ids)} rows where ours has {len(ours.ids)}")
    if theirs.values != ours.values:
        first = next(i for i, (a, b) in enumerate(zip(theirs.values, ours.values, strict=True)) if a != b)
        raise Mismatch(
            f"{where}: sort values differ from row {first}: {_short(theirs.values[first:])} "
            f"where ours are {_short(ours.values[first:])}"
        )
    if other.mode == "exact" and theirs.ids != ours.ids:
        first = next(i for i, (a, b) in enumerate(zip(theirs.ids, ours.ids, strict=True)) if a != b)
        raise Mismatch(
            f"{where}: ids differ from row {first}: {_short(theirs.ids[first:], 3)} where ours are "
            f"{_short(ours.ids[first:], 3)}"
        )


def export_ids(fmt: str, body: bytes) -> list[str]:
    """The task ids of an export, in order (the `Task ID` column; `data.tasks[].id` in JSON)."""
    if fmt == "csv":
        rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
        at = rows[0].index("Task ID")
        return [r[at] for r in rows[1:]]
    if fmt == "json":
        return [t["id"] for t in json.loads(body)["data"]["tasks"]]
    import openpyxl

    book = openpyxl.load_workbook(io.BytesIO(body), read_only=True)
    sheet = book.worksheets[0]
    header = list(next(sheet.iter_rows(max_row=1, values_only=True)))
    at = header.index("Task ID") + 1
    ids = [r[0] for r in sheet.iter_rows(min_row=2, min_col=at, max_col=at, values_only=True)]
    book.close()
    return ids


def lookup(data: ScenarioData, ids: list[str], field: str) -> list:
    """The `field` of each id, from the scenario's Parquet (to check the order of an export)."""
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    rows = dict(
        con.execute(
            f"SELECT id, {field} FROM read_parquet(?) WHERE id IN (SELECT unnest(?))",
            [str(data.job_file(data.scenario.query_index)), ids],
        ).fetchall()
    )
    con.close()
    return [norm(rows.get(i)) for i in ids]


def compare_export(what: str, fmt: str, ours: list[str], other: Variant, data: ScenarioData) -> None:
    where = f"{what} {fmt} [{other.label}]" if other.label else f"{what} {fmt}"
    ids = export_ids(fmt, other.result)
    if len(ids) != len(ours):
        raise Mismatch(f"{where}: {len(ids):,} rows where ours has {len(ours):,}")
    if other.mode == "exact":
        if ids != ours:
            first = next(i for i, (a, b) in enumerate(zip(ids, ours, strict=True)) if a != b)
            raise Mismatch(f"{where}: ids differ from row {first}: {ids[first]} where ours is {ours[first]}")
    elif lookup(data, ids, "created_at") != lookup(data, ours, "created_at"):
        raise Mismatch(f"{where}: the rows' created_at sequence differs from ours")


def _close(a, b) -> bool:
    if a is None or b is None:
        return a is b
    if isinstance(a, str) or isinstance(b, str):
        return a == b
    return math.isclose(float(a), float(b), rel_tol=1e-9, abs_tol=1e-6)


def compare_stats(what: str, ours, theirs, path: str = "") -> None:
    """Recursive comparison: dicts by key, lists in order, numbers with a tolerance."""
    here = f"{what}: {path}" if path else what
    if isinstance(ours, dict):
        if not isinstance(theirs, dict) or set(ours) != set(theirs):
            got = sorted(theirs) if isinstance(theirs, dict) else theirs
            raise Mismatch(f"{here} has keys {got} where ours has {sorted(ours)}")
        for key in ours:
            compare_stats(what, ours[key], theirs[key], f"{path}.{key}" if path else str(key))
    elif isinstance(ours, list | tuple):
        if not isinstance(theirs, list | tuple) or len(ours) != len(theirs):
            raise Mismatch(f"{here}: {theirs!r:.300} where ours is {ours!r:.300}")
        for index, (a, b) in enumerate(zip(ours, theirs, strict=True)):
            compare_stats(what, a, b, f"{path}[{index}]")
    elif not _close(ours, theirs):
        raise Mismatch(f"{here}: {theirs!r} where ours is {ours!r}")
