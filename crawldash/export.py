"""Export Task Results: all tasks, broken links, slow pages, as CSV, JSON or XLSX.

At most 10,000 tasks, newest first (ties by id); every export states how many tasks matched and
whether it was cut. DuckDB writes the rows itself: the CSV file, each task's JSON object, each
XLSX row's XML (`crawldash.xlsx`). CSV text cells that a spreadsheet would run as a formula are
neutralised; XLSX cells are typed, text never a formula. The JSON has the original API's shape.

>>> from crawldash.store import Store
>>> info = ExportInfo("job", "csv", exported=3, matched=3, export_time="2026-01-05T09:30:00Z", filename="x.csv")
>>> info.note()
'3 tasks exported.'
"""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO

from crawldash import schema, xlsx
from crawldash.errors import InvalidParameter
from crawldash.query import Filters, Selection, Sort, host_shown_sql, select
from crawldash.store import Job, Store
from crawldash.timefmt import iso, iso_sql

#: Characters that make a spreadsheet treat a cell as a formula (OWASP's list).
FORMULA_START = "=+-@\t\r"
EXPORT_ORDER = Sort("created_at", descending=True)
CONTENT_TYPES = {
    "csv": "text/csv",
    "json": "application/json",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


@dataclass(frozen=True)
class ExportInfo:
    """What an export holds: its type and format, how many tasks matched and how many it has."""

    export_type: str
    format: str
    exported: int
    matched: int
    export_time: str
    filename: str

    @property
    def truncated(self) -> bool:
        return self.matched > self.exported

    def note(self) -> str:
        if self.truncated:
            return (
                f"{self.matched:,} tasks matched; the export holds the newest {self.exported:,} "
                f"(cut at {schema.EXPORT_CAP:,})."
            )
        return f"{self.exported:,} task{'s' if self.exported != 1 else ''} exported."


def check_type(export_type: str) -> str:
    if export_type not in schema.EXPORT_TYPES:
        raise InvalidParameter("--type", export_type, " or ".join(schema.EXPORT_TYPES))
    return export_type


def check_format(fmt: str) -> str:
    if fmt not in schema.EXPORT_FORMATS:
        raise InvalidParameter("--format", fmt, " or ".join(schema.EXPORT_FORMATS))
    return fmt


def filename(job: Job, export_type: str, fmt: str, when: datetime | None = None, filters: Filters | None = None) -> str:
    """`example.com-broken-links-20260105-093000.csv`; `-filtered` before the time for a filtered view."""
    stamp = (when or datetime.now(UTC)).strftime("%Y%m%d-%H%M%S")
    domain = re.sub(r"[^A-Za-z0-9.-]+", "-", job.domain) or "job"
    filtered = "-filtered" if filters is not None and filters.clauses() else ""
    return f"{domain}-{export_type}{filtered}-{stamp}.{fmt}"


def _condition(export_type: str) -> tuple[str, list]:
    """The SQL an export type adds to the filters (none for all tasks)."""
    return ("", []) if export_type == "job" else (schema.EXPORT_WHERE[export_type], [])


def _sql_char(c: str) -> str:
    return f"'{c}'" if c.isprintable() else f"chr({ord(c)})"


def _neutral(sql: str) -> str:
    """A text cell a spreadsheet would read as a formula gets a leading apostrophe."""
    starts = ", ".join(_sql_char(c) for c in FORMULA_START)
    return f"CASE WHEN left({sql}, 1) IN ({starts}) THEN '''' || {sql} ELSE {sql} END"


def _value_sql(name: str, *, csv: bool) -> str:
    if name == "http_code":
        return name
    kind = schema.COLUMNS[name].kind
    if kind == schema.TIMESTAMP:
        return iso_sql(name)
    if kind == schema.TEXT and csv:
        return _neutral(name)
    return name


def _quote_ident(label: str) -> str:
    return '"' + label.replace('"', '""') + '"'


@dataclass
class _Plan:
    job: Job
    selection: Selection | None  # None: only counted (export_info)
    matched: int
    columns: tuple[tuple[str, str], ...]

    @property
    def exported(self) -> int:
        return min(self.matched, schema.EXPORT_CAP)

    def rows_sql(self, columns: str) -> tuple[str, list]:
        """The exported rows, newest first: the first EXPORT_CAP matches, found by their order keys."""
        if self.selection is None or self.selection.empty:
            return f"SELECT {columns} FROM tasks WHERE FALSE", []
        where = self.selection.where
        return f"SELECT {columns} FROM tasks WHERE {where} ORDER BY {EXPORT_ORDER.key_sql()}", self.selection.params


def _plan(cur, store: Store, job_id: str, export_type: str, filters: Filters, *, rows: bool = True) -> _Plan:
    job = store.job(job_id, cur)
    columns = schema.export_columns(export_type, job.has_analytics)
    condition = _condition(export_type)
    if rows:
        chosen = select(cur, job, filters, EXPORT_ORDER, schema.EXPORT_CAP, 0, condition)
        return _Plan(job, chosen, chosen.total, columns)
    where, params = filters.where()
    extra = f" AND {condition[0]}" if condition[0] else ""
    matched = cur.execute(f"SELECT count(*) FROM tasks WHERE job_key = ?{where}{extra}", [job.job_key, *params])
    return _Plan(job, None, int(matched.fetchall()[0][0]), columns)


def export_info(
    store: Store, job_id: str, export_type: str = "job", fmt: str = "csv", filters: Filters | None = None
) -> ExportInfo:
    """What an export would hold (how many tasks match, how many it keeps), without writing it."""
    check_type(export_type)
    check_format(fmt)
    filters = filters or Filters()
    with store.snapshot() as cur:
        return _info(_plan(cur, store, job_id, export_type, filters, rows=False), export_type, fmt, filters)


def _info(plan: _Plan, export_type: str, fmt: str, filters: Filters) -> ExportInfo:
    now = datetime.now(UTC).replace(microsecond=0)
    name = filename(plan.job, export_type, fmt, now, filters)
    return ExportInfo(export_type, fmt, plan.exported, plan.matched, iso(now), name)


def write_export(
    store: Store, job_id: str, out: BinaryIO, export_type: str = "job", fmt: str = "csv", filters: Filters | None = None
) -> ExportInfo:
    """Write one export to a binary stream; return what it holds."""
    check_type(export_type)
    check_format(fmt)
    filters = filters or Filters()
    with store.snapshot() as cur:
        plan = _plan(cur, store, job_id, export_type, filters)
        info = _info(plan, export_type, fmt, filters)
        {"csv": _write_csv, "json": _write_json, "xlsx": _write_xlsx}[fmt](cur, plan, info, out)
    return info


def export_bytes(
    store: Store, job_id: str, export_type: str = "job", fmt: str = "csv", filters: Filters | None = None
) -> tuple[bytes, ExportInfo]:
    """One export in memory (a download button's data) and what it holds."""
    buffer = io.BytesIO()
    info = write_export(store, job_id, buffer, export_type, fmt, filters)
    return buffer.getvalue(), info


@contextmanager
def _temp_path(suffix: str) -> Iterator[Path]:
    fd, name = tempfile.mkstemp(prefix="crawldash-export-", suffix=suffix)
    os.close(fd)
    try:
        yield Path(name)
    finally:
        Path(name).unlink(missing_ok=True)


def _copy_file(path: Path, out: BinaryIO) -> None:
    with open(path, "rb") as f:
        shutil.copyfileobj(f, out, 1 << 20)


def _write_csv(cur, plan: _Plan, info: ExportInfo, out: BinaryIO) -> None:
    select = ", ".join(f"{_value_sql(name, csv=True)} AS {_quote_ident(label)}" for name, label in plan.columns)
    sql, params = plan.rows_sql(select)
    with _temp_path(".csv") as path:
        quoted = str(path).replace("'", "''")
        cur.execute(f"COPY ({sql}) TO '{quoted}' (FORMAT csv, HEADER true, QUOTE '\"', DELIMITER ',')", params)
        out.write(b"\xef\xbb\xbf")  # a BOM, so spreadsheets read UTF-8 URLs and errors correctly
        _copy_file(path, out)


def _task_object_sql(job: Job) -> tuple[str, list]:
    """A JSON object per task with the seed's field names, as the original's export has them."""
    host_sql, host_params = host_shown_sql(job.domain)
    parts = []
    for name in schema.TASK_FIELDS:
        value = host_sql if name == "host" else _value_sql(name, csv=False)
        parts.append(f"{name} := {value}")
    return f"to_json(struct_pack({', '.join(parts)}))", host_params


def _write_json(cur, plan: _Plan, info: ExportInfo, out: BinaryIO) -> None:
    obj_sql, obj_params = _task_object_sql(plan.job)
    sql, params = plan.rows_sql(obj_sql)
    rows = cur.execute(sql, [*obj_params, *params]).fetchall()
    job = plan.job
    data = {
        "job_id": job.job_id,
        "domain": job.domain,
        "status": job.status,
        "created_at": iso(job.created_at),
        "completed_at": iso(job.completed_at),
        "export_type": info.export_type,
        "export_time": info.export_time,
        "total_tasks": info.exported,
        "matched_tasks": info.matched,
        "truncated": info.truncated,
        "columns": [{"key": k, "label": label} for k, label in plan.columns],
    }
    head = json.dumps({"status": "success", "data": data}, ensure_ascii=False)[:-2]  # strip "}}"
    out.write(head.encode() + b', "tasks": [')
    for index, (text,) in enumerate(rows):
        out.write((b",\n" if index else b"\n") + text.encode())
    message = f"Exported {info.exported} tasks for job {job.job_id}"
    tail = {"message": message, "request_id": f"crawldash-{uuid.uuid4()}"}
    out.write(b"\n]}, " + json.dumps(tail, ensure_ascii=False)[1:].encode())


#: XLSX column widths (characters): long text wide, timestamps to fit "2026-01-05 09:30:00".
_WIDE = ("url", "source_url", "error")


def _xlsx_kind(name: str) -> str:
    if name == "http_code":
        return xlsx.NUMBER
    return {schema.TIMESTAMP: xlsx.DATE, schema.INT: xlsx.NUMBER, schema.BOOL: xlsx.BOOL}.get(
        schema.COLUMNS[name].kind, xlsx.TEXT
    )


def _write_xlsx(cur, plan: _Plan, info: ExportInfo, out: BinaryIO) -> None:
    """The tasks sheet, its rows written as XML by DuckDB, and an About sheet saying what it holds."""
    names = [name for name, _ in plan.columns]
    inner, params = plan.rows_sql(", ".join(names) + f", row_number() OVER (ORDER BY {EXPORT_ORDER.key_sql()}) AS _n")
    row = xlsx.row_sql([(name, _xlsx_kind(name)) for name in names], "_r")
    rows = cur.execute(f"SELECT {row} FROM (SELECT *, (_n + 1)::VARCHAR AS _r FROM ({inner})) ORDER BY _n", params)
    rows = rows.fetchall()
    widths = [48 if n in _WIDE else 20 if _xlsx_kind(n) == xlsx.DATE else 16 for n in names]
    tasks = xlsx.Sheet(info.export_type, widths)
    tasks.rows = [xlsx.row_xml(1, [label for _, label in plan.columns], xlsx.STYLE_BOLD), *(r for (r,) in rows)]
    job = plan.job
    about = xlsx.Sheet("About", [20, 60], header=False)
    facts = (
        ("Job ID", job.job_id),
        ("Domain", job.domain),
        ("Export type", info.export_type),
        ("Export time (UTC)", info.export_time),
        ("Tasks exported", info.exported),
        ("Tasks matched", info.matched),
        ("Note", info.note()),
        ("Times", "UTC"),
    )
    about.rows = [xlsx.row_xml(i, [key, value]) for i, (key, value) in enumerate(facts, 1)]
    with _temp_path(".xlsx") as path:
        with open(path, "wb") as book:
            xlsx.write_book(book, [tasks, about])
        _copy_file(path, out)
