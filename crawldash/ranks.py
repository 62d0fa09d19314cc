"""Order keys, computed once at import: for each sort field, every task's position in that sort.

`o_<field>` is the task's 1-based position within its job when sorted by the field ascending,
nulls last, ties broken by id; `seq` is its position in id order. A descending sort is that order
reversed with the nulls kept last (see `query.Sort.key_sql`), so one key per field serves both.

The keys are computed on narrow copies of the columns, never by sorting whole rows: DuckDB sorts
the ids (and the paths, which are mostly distinct), numpy lexsorts the numbers and the short
vocabularies with `seq` as the tie-break. The result is aligned with the table's rowids, so the
insert attaches it with a POSITIONAL JOIN.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from crawldash import schema

#: Sorted by DuckDB: text with many distinct values, where numpy would compare Python strings.
DUCKDB_SORTED = ("path",)


def _within_jobs(order: np.ndarray, jobs: np.ndarray) -> np.ndarray:
    """Positions (1-based, restarting at each job) of the rows listed in `order`, indexed by row."""
    positions = np.empty(len(order), np.int32)
    if not len(order):
        return positions
    ordered_jobs = jobs[order]
    starts = np.flatnonzero(np.r_[True, ordered_jobs[1:] != ordered_jobs[:-1]])
    run = np.arange(len(order)) - np.repeat(starts, np.diff(np.r_[starts, len(order)]))
    positions[order] = (run + 1).astype(np.int32)
    return positions


def _codes(column: pa.ChunkedArray) -> tuple[np.ndarray, np.ndarray]:
    """(sortable int64 values, missing mask) of a column: numbers as they are, text by its sorted rank."""
    column = column.combine_chunks()
    missing = np.asarray(column.is_null(), dtype=bool)
    if pa.types.is_string(column.type) or pa.types.is_large_string(column.type):
        encoded = column.dictionary_encode()
        words = encoded.dictionary.to_pylist()
        place = np.empty(len(words), np.int64)
        place[np.argsort(np.array(words, dtype=object), kind="stable")] = np.arange(len(words))
        indices = np.asarray(encoded.indices.fill_null(0), dtype=np.int64)
        values = place[indices] if len(words) else np.zeros(len(column), np.int64)
    elif pa.types.is_timestamp(column.type):
        values = np.asarray(column.cast(pa.int64()).fill_null(0), dtype=np.int64)
    else:
        values = np.asarray(column.fill_null(0), dtype=np.int64)
    return values, missing


def rank_table(cur, table: str) -> pa.Table:
    """`seq` and `o_<field>` for every row of a TEMP table holding one or more jobs, in rowid order."""
    numeric = [f for f in schema.SORT_FIELDS if f not in DUCKDB_SORTED]
    columns = ", ".join(f"{schema.SORT_COLUMN[f]} AS {f}" for f in numeric)
    # Rows created inside a transaction have rowids from a large offset: positions are relative to it.
    first, last, count = cur.execute(f"SELECT min(rowid), max(rowid), count(*) FROM {table}").fetchall()[0]
    if count and last - first + 1 != count:
        raise RuntimeError(f"{table} rowids are not contiguous")
    cur.complete()
    data = cur.sql(f"SELECT job_id, {columns} FROM {table} ORDER BY rowid").to_arrow_table()
    jobs, _ = _codes(data.column("job_id"))

    def order_by(sql_order: str) -> np.ndarray:
        rows = cur.execute(f"SELECT rowid - {first or 0} AS p FROM {table} ORDER BY {sql_order}").fetchnumpy()["p"]
        return np.asarray(rows, dtype=np.int64)

    by_id = order_by("job_id, id")
    seq = _within_jobs(by_id, jobs)
    out = {"seq": pa.array(seq)}
    jobs_in_id_order = jobs[by_id]
    for name in schema.SORT_FIELDS:
        if name in DUCKDB_SORTED:
            order = order_by(f"job_id, {schema.SORT_COLUMN[name]} ASC NULLS LAST, id")
        else:
            # A stable sort of the rows taken in id order keeps ties in id order: no tie-break key.
            values, missing = _codes(data.column(name))
            values = np.where(missing, values.max(initial=0) + 1, values)[by_id]
            within = np.argsort(values, kind="stable")
            if jobs.max(initial=0) > 0:  # several jobs: keep each job's rows together, in that order
                within = within[np.argsort(jobs_in_id_order[within], kind="stable")]
            order = by_id[within]
        out[f"o_{name}"] = pa.array(_within_jobs(order, jobs))
    return pa.table(out)
