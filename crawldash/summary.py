"""The whole job's KPIs and chart series, computed once after an import and read back instantly.

A job's unfiltered numbers are what every dashboard page opens with; computing them live means a
dozen scans of every task. `refresh` computes each of them once, right after the import commits,
and stores it under the job's key (a re-imported job gets a new key, so nothing stale is read).
`cached` wraps a `crawldash.stats` function: an unfiltered call with stored options is read back,
any other call is computed live. Frames are stored as Arrow IPC, so types survive the round trip.
"""

from __future__ import annotations

import functools
import inspect
import json
from collections.abc import Callable

import pandas as pd
import pyarrow as pa

from crawldash.store import Store

#: (stats function name, options) computed for every job: what the dashboard and the CLI ask for.
PRECOMPUTED: tuple[tuple[str, dict], ...] = (
    ("job_stats", {}),
    ("response_time_histogram", {}),
    ("response_time_histogram", {"log": True}),
    ("percentiles", {}),
    ("first_vs_second", {}),
    ("by_section", {}),
    ("by_content_type", {}),
    ("over_time", {}),
    ("cache_breakdown", {}),
    ("warming_outcome", {}),
    ("pages_to_fix", {}),
    ("pages_to_fix", {"kind": "slow"}),
)
_FUNCTIONS: dict[str, Callable] = {}


def _key(name: str, options: dict) -> str:
    return name + json.dumps(options, sort_keys=True)


def _encode(value) -> tuple[str, bytes | None]:
    if isinstance(value, pd.DataFrame):
        table = pa.Table.from_pandas(value, preserve_index=False)
        sink = pa.BufferOutputStream()
        with pa.ipc.new_stream(sink, table.schema) as writer:
            writer.write_table(table)
        return json.dumps({"attrs": value.attrs}, default=str), sink.getvalue().to_pybytes()
    return json.dumps(value, default=str), None


def _decode(text: str, frame: bytes | None):
    if frame is None:
        return json.loads(text)
    result = pa.ipc.open_stream(frame).read_all().to_pandas()
    result.attrs.update(json.loads(text)["attrs"])
    return result


def _options(function: Callable, options: dict) -> dict:
    """The options of a call that differ from the function's defaults: `kind="broken"` and no
    `kind` are one call, stored under one key (the keys of databases written before stay valid)."""
    parameters = inspect.signature(function).parameters
    return {k: v for k, v in options.items() if k not in parameters or v != parameters[k].default}


def cached(function: Callable) -> Callable:
    """Read an unfiltered call of a stats function back from the job's summary when it is there."""
    _FUNCTIONS[function.__name__] = function

    @functools.wraps(function)
    def read(store: Store, job_id: str, filters=None, **options):
        if filters is not None and filters.clauses():
            return function(store, job_id, filters, **options)
        cur = store.cursor()  # one statement sees one state of the database: no transaction needed
        try:
            row = cur.execute(
                "SELECT s.payload, s.frame FROM job_summary s JOIN jobs j USING (job_key) "
                "WHERE j.job_id = ? AND s.name = ?",
                [job_id, _key(function.__name__, _options(function, options))],
            ).fetchall()
        finally:
            cur.close()
        if row:
            return _decode(*row[0])
        return function(store, job_id, filters, **options)  # an unknown job raises UnknownJob here

    read.live = function
    return read


def refresh(store: Store, job_id: str) -> None:
    """Compute and store the job's unfiltered KPIs and series (after its import committed).

    Each value is computed in one read snapshot and stored with that snapshot's job key, so a
    concurrent re-import can only leave a summary nobody reads, never a wrong one.
    """
    import crawldash.stats  # noqa: F401 - registers the functions the summary holds

    rows = []
    with store.snapshot() as cur:
        job_key = store.job(job_id, cur).job_key
    for name, options in PRECOMPUTED:
        value = _FUNCTIONS[name](store, job_id, None, **options)
        rows.append((job_key, _key(name, _options(_FUNCTIONS[name], options)), *_encode(value)))
    with store.transaction() as cur:
        if cur.execute("SELECT count(*) FROM jobs WHERE job_key = ?", [job_key]).fetchall()[0][0]:
            cur.execute("DELETE FROM job_summary WHERE job_key = ?", [job_key])
            cur.executemany("INSERT INTO job_summary VALUES (?, ?, ?, ?)", rows)
