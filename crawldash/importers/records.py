"""Task records held as Python dicts or Arrow tables, appended in batches to a staging table.

The fast path hands Arrow columns straight to DuckDB. A value of the wrong type (a status code
sent as "404", a "" meaning "no value") takes the careful path for its column: each value is
coerced, and one that cannot be is a named error with its row number.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from datetime import datetime

import duckdb
import pyarrow as pa

from crawldash import schema
from crawldash.errors import BadData
from crawldash.ingest import StagedFile

_ARROW_TYPES = {
    schema.TEXT: pa.string(),
    schema.INT: pa.int64(),
    schema.TIMESTAMP: pa.string(),
    schema.BOOL: pa.bool_(),
}
#: The staging table's columns: the row's number in its file, then every input field (timestamps as text).
ARROW_SCHEMA = pa.schema([("file_row", pa.int64())] + [(c.name, _ARROW_TYPES[c.kind]) for c in schema.INPUT_COLUMNS])
_SQL_TYPES = {pa.string(): "VARCHAR", pa.int64(): "BIGINT", pa.bool_(): "BOOLEAN"}
_KINDS = {c.name: c.kind for c in schema.INPUT_COLUMNS}
_FIELDS = schema.INPUT_FIELDS


def _bad(source: str, label: str, row_no: int, name: str, value: object, expected: str) -> BadData:
    return BadData(source, f"{label} {row_no}: {name} {value!r} is not {expected}")


def _coerce_text(value):
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    return json.dumps(value, separators=(",", ":"))


def _coerce_int(value):
    if value is None or isinstance(value, bool):
        return None if value is None else int(value)
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        if math.isfinite(value):
            return round(value)
        raise ValueError
    if isinstance(value, str):
        text = value.strip()
        if not text:
            return None
        number = float(text)
        if not math.isfinite(number):
            raise ValueError
        return round(number)
    raise ValueError


def _coerce_timestamp(value):
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, datetime):
        return value.isoformat()
    if value == 0:
        return None  # the "0" sentinel
    raise ValueError


_TRUE, _FALSE = {"true", "1", "yes", "y", "t"}, {"false", "0", "no", "n", "f", ""}


def _coerce_bool(value):
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, (int, float)):
        return bool(value)
    if isinstance(value, str):
        text = value.strip().lower()
        if text in _TRUE:
            return True
        if text in _FALSE:
            return None if text == "" else False
    raise ValueError


_COERCE = {
    schema.TEXT: (_coerce_text, "text"),
    schema.INT: (_coerce_int, "a number"),
    schema.TIMESTAMP: (_coerce_timestamp, "an ISO 8601 timestamp"),
    schema.BOOL: (_coerce_bool, "true/false"),
}


class StagingWriter:
    """Appends one file's task records to its TEMP staging table, `batch_size` rows at a time.

    >>> cur = duckdb.connect()
    >>> staged = StagedFile("example.json", "adapt", "job-1", table="_stage_0", row_label="task")
    >>> w = StagingWriter(cur, staged)
    >>> w.add({"url": "https://example.com/", "status": "completed", "status_code": "200"})
    >>> w.close()
    1
    >>> cur.execute("SELECT file_row, status_code FROM _stage_0").fetchall()
    [(1, 200)]
    """

    def __init__(self, cur: duckdb.DuckDBPyConnection, staged: StagedFile, batch_size: int = 50_000):
        self.cur, self.staged = cur, staged
        self.table, self.source, self.row_label = staged.table, staged.name, staged.row_label
        self.batch_size = batch_size
        self.rows = 0
        self._pending: list[Mapping] = []
        cols = ", ".join(f"{f.name} {_SQL_TYPES[f.type]}" for f in ARROW_SCHEMA)
        cur.execute(f"CREATE OR REPLACE TEMP TABLE {self.table} ({cols})")

    @property
    def next_row(self) -> int:
        """The number the next record will get."""
        return self.rows + len(self._pending) + 1

    def add(self, record: Mapping) -> None:
        """Queue one record (a dict keyed by our field names; other keys are ignored)."""
        self._pending.append(record)
        if len(self._pending) >= self.batch_size:
            self.flush()

    def add_all(self, records: Iterable[Mapping]) -> None:
        for record in records:
            self.add(record)

    def flush(self) -> None:
        if not self._pending:
            return
        records, self._pending = self._pending, []
        start = self.rows + 1
        columns = [pa.array(range(start, start + len(records)), pa.int64())]
        for name in _FIELDS:
            values = [r.get(name) for r in records]
            columns.append(self._column(name, values, start))
        self._append(pa.Table.from_arrays(columns, schema=ARROW_SCHEMA))

    def _column(self, name: str, values: list, start: int) -> pa.Array:
        arrow_type = ARROW_SCHEMA.field(name).type
        try:
            return pa.array(values, type=arrow_type)
        except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, ValueError, OverflowError):
            pass
        coerce, expected = _COERCE[_KINDS[name]]
        out = []
        for offset, value in enumerate(values):
            try:
                out.append(coerce(value))
            except (ValueError, TypeError, OverflowError):
                raise _bad(self.source, self.row_label, start + offset, name, value, expected) from None
        try:
            return pa.array(out, type=arrow_type)
        except (pa.ArrowInvalid, OverflowError):
            bad = next(i for i, v in enumerate(out) if isinstance(v, int) and abs(v) >= 2**63)
            raise _bad(self.source, self.row_label, start + bad, name, values[bad], "a number in range") from None

    def add_arrow(self, table: pa.Table) -> None:
        """Append an Arrow table whose columns are (a subset of) ARROW_SCHEMA without row_no."""
        self.flush()
        n = table.num_rows
        columns = [pa.array(range(self.rows + 1, self.rows + 1 + n), pa.int64())]
        for field in ARROW_SCHEMA:
            if field.name == "file_row":
                continue
            if field.name in table.column_names:
                columns.append(table.column(field.name).cast(field.type))
            else:
                columns.append(pa.nulls(n, field.type))
        self._append(pa.Table.from_arrays(columns, schema=ARROW_SCHEMA))

    def _append(self, batch: pa.Table) -> None:
        self.cur.register("_batch", batch)
        try:
            self.cur.execute(f"INSERT INTO {self.table} SELECT * FROM _batch")
        finally:
            self.cur.unregister("_batch")
        self.rows += batch.num_rows

    def close(self) -> int:
        """Flush what is queued; return the number of rows staged."""
        self.flush()
        self.staged.rows = self.rows
        return self.rows
