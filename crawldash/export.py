"""Export Task Results: all tasks, broken links, slow pages, as CSV, JSON or XLSX.

At most 10,000 tasks, newest first (ties by id); every export states how many tasks matched and
whether it was cut. CSV and JSON are written by DuckDB itself; CSV text cells that a spreadsheet
would run as a formula are neutralised. The JSON has the original API's export shape.

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

from crawldash import schema
from crawldash.errors import InvalidParameter
from crawldash.query import Filters, Selection, Sort, host_shown_sql, select
from crawldash.store import Job, Store, arrow_table
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


def _write_xlsx(cur, plan: _Plan, info: ExportInfo, out: BinaryIO) -> None:
    import pyarrow as pa
    import pyarrow.compute as pc
    import xlsxwriter

    select = ", ".join(name for name, _ in plan.columns)
    sql, params = plan.rows_sql(select)
    table = arrow_table(cur, sql, params)
    with _temp_path(".xlsx") as path:
        book = xlsxwriter.Workbook(
            str(path),
            {"constant_memory": True, "strings_to_formulas": False, "strings_to_urls": False, "remove_timezone": True},
        )
        bold = book.add_format({"bold": True})
        stamp = book.add_format({"num_format": "yyyy-mm-dd hh:mm:ss"})
        sheet = book.add_worksheet(info.export_type)
        columns = []
        for col, (name, label) in enumerate(plan.columns):
            sheet.write_string(0, col, label, bold)
            values = table.column(name)
            if name in schema.COLUMNS and schema.COLUMNS[name].kind == schema.TIMESTAMP:
                # Excel dates are days since 1899-12-30: one number each, shown through the column format.
                days = pc.add(
                    pc.divide(pc.cast(values.cast(pa.timestamp("us", tz="UTC")), pa.int64()), 86_400e6), 25569.0
                )
                columns.append(days.to_pylist())
                sheet.set_column(col, col, 20, stamp)
            else:
                columns.append(values.to_pylist())
                sheet.set_column(col, col, 48 if name in ("url", "source_url", "error") else 16)
        sheet.freeze_panes(1, 0)
        # write_row picks write_number or write_string per value (strings are never formulas or links here).
        for row, values in enumerate(zip(*columns, strict=True), 1):
            sheet.write_row(row, 0, values)
        if table.num_rows:
            sheet.autofilter(0, 0, table.num_rows, len(plan.columns) - 1)
        about = book.add_worksheet("About")
        job = plan.job
        for row, (key, value) in enumerate(
            (
                ("Job ID", job.job_id),
                ("Domain", job.domain),
                ("Export type", info.export_type),
                ("Export time (UTC)", info.export_time),
                ("Tasks exported", info.exported),
                ("Tasks matched", info.matched),
                ("Note", info.note()),
                ("Times", "UTC"),
            )
        ):
            about.write_string(row, 0, key, bold)
            if isinstance(value, int):
                about.write_number(row, 1, value)
            else:
                about.write_string(row, 1, str(value))
        about.set_column(0, 0, 20)
        about.set_column(1, 1, 60)
        book.close()
        _copy_file(path, out)
