"""The original product's JSON, in every shape it comes in.

- the export response: {"status": "success", "data": {job_id, domain, ..., "tasks": [...]}, ...}
- the bare `data` object of that response
- the web app's download: {"meta": {job_id, ...}, "columns": [labels], "tasks": [...]}
- List Tasks responses: {"status": "success", "data": {"tasks": [...], "pagination": {...}}}, one page,
  or several pages (or several exports) as a JSON array or one JSON value per line

Files are streamed, never held whole. A compact export (what the API writes) is rewritten as JSON
Lines and read by DuckDB's own parallel JSON reader; anything else is read by ijson a task at a time.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path

import duckdb
import ijson

from crawldash import schema
from crawldash.errors import BadData
from crawldash.importers.records import StagingWriter
from crawldash.ingest import JobMeta, Progress, StagedFile, Staging

FORMAT = "adapt"
ROW_LABEL = "task"
_META_KEYS = ("job_id", "domain", "status", "created_at", "completed_at")
_TASK_ARRAY = re.compile(rb'"tasks"\s*:\s*\[')
_CHUNK = 16 << 20
#: Export labels (any type) back to field names, for task rows keyed by label.
_LABELS = {label: name for cols in schema.EXPORT_COLUMNS.values() for name, label in cols}
_LABELS.update({label: name for name, label in schema.ANALYTICS_EXPORT_COLUMNS})
_LABELS.update({c.label: c.name for c in schema.TASK_COLUMNS})
_LABELS.update(
    {
        "Found on": "source_url",
        "Broken link": "url",
        "Page": "url",
        "Date": "created_at",
        "Source Type": "source_type",
        "Load Time 2nd try (ms)": "second_response_time",
    }
)
_LABELS.pop("HTTP code", None)  # derived on import; never read back as the raw status code

EXPECTED = (
    'the original API\'s JSON: an export response {"status", "data": {..., "tasks"}}, its bare data '
    'object, the web app\'s download {"meta", "columns", "tasks"} or List Tasks pages {"tasks", "pagination"}'
)


def sniff(head: bytes) -> bool:
    """Does the file start like the original's JSON (an object or array, not a HAR log)?"""
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if text[:1] not in (b"{", b"["):
        return False
    window = text[:4096]
    if b'"log"' in window and b'"entries"' in window:
        return False
    keys = (b'"tasks"', b'"data"', b'"meta"', b'"pagination"', b'"status"')
    return any(key in window for key in keys) or text[:1] == b"["


# --- shape sniffing ----------------------------------------------------------------------------------


class _Shape:
    """What the first events of a file say: the tasks array's place and the metadata before it."""

    def __init__(self) -> None:
        self.top: str | None = None  # "map" or "array"
        self.tasks_prefix: str | None = None
        self.scalars: dict[str, object] = {}
        self.keys: list[str] = []


def _sniff_shape(path: Path) -> _Shape:
    shape = _Shape()
    with open(path, "rb") as f:
        try:
            for prefix, event, value in ijson.parse(f, use_float=True, multiple_values=True):
                if shape.top is None:
                    shape.top = {"start_map": "map", "start_array": "array"}.get(event, "scalar")
                    if shape.top != "map":
                        return shape
                    continue
                if event == "map_key" and prefix == "":
                    shape.keys.append(value)
                if event in ("string", "number", "boolean", "null") and prefix.count(".") <= 1:
                    shape.scalars[prefix] = value
                if event == "start_array" and prefix.endswith("tasks"):
                    shape.tasks_prefix = prefix if prefix in ("tasks", "data.tasks") else None
                    return shape
                if prefix == "" and event == "end_map":
                    return shape
        except ijson.JSONError as exc:
            raise _json_error(path, exc) from None
    return shape


def _json_error(path: Path, exc: Exception) -> BadData:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else "unexpected end of file"
    if "premature" in text.lower() or "incomplete" in text.lower() or not text:
        return BadData(path.name, "the JSON ends too early (truncated file?): " + text)
    return BadData(path.name, f"not valid JSON ({text}); expected {EXPECTED}")


def _meta_from(obj: dict) -> JobMeta:
    """Job metadata from a page, an export's data object or the web app's meta."""
    fields = {}
    for source in (obj.get("meta"), obj):
        if isinstance(source, dict):
            for key in _META_KEYS:
                if fields.get(key) is None and isinstance(source.get(key), str) and source.get(key):
                    fields[key] = source[key]
    return JobMeta(**fields)


def _page_of(value: object, where: str, path: Path) -> tuple[JobMeta, list]:
    """(metadata, tasks) of one top-level object in any of the original's shapes."""
    if not isinstance(value, dict):
        raise BadData(path.name, f"{where} is a JSON {type(value).__name__}; expected {EXPECTED}")
    if value.get("status") == "error" or ("error" in value and "data" not in value and "tasks" not in value):
        message = value.get("message") or value.get("error") or "no message"
        raise BadData(path.name, f"{where} is an API error response ({message}), not crawl data")
    data = value.get("data") if isinstance(value.get("data"), dict) else value
    if "tasks" not in data:
        keys = ", ".join(sorted(map(str, value)))[:200] or "none"
        raise BadData(path.name, f"{where} has no tasks (its keys: {keys}); expected {EXPECTED}")
    tasks = data.get("tasks") or []
    if not isinstance(tasks, list):
        raise BadData(path.name, f"{where}: tasks is a JSON {type(tasks).__name__}, expected a list of tasks")
    meta = _meta_from(data)
    if meta.job_id is None and isinstance(value.get("meta"), dict):
        meta = _meta_from(value)
    return meta, tasks


def _as_record(task: object, where: str, path: Path, job_id: str | None) -> dict:
    if not isinstance(task, dict):
        raise BadData(path.name, f"{where} is a JSON {type(task).__name__}, expected a task object")
    if "id" not in task and "url" not in task and any(k in _LABELS for k in task):
        task = {_LABELS.get(k, k): v for k, v in task.items()}
    if job_id and not task.get("job_id"):
        task = {**task, "job_id": job_id}
    return task


# --- reading --------------------------------------------------------------------------------------------


def stage(staging: Staging, path: Path, default_job_id: str, progress: Progress | None = None) -> StagedFile:
    """Stream one JSON file of the original's into a staging table."""
    shape = _sniff_shape(path)
    staged = staging.add_file(StagedFile(path.name, FORMAT, default_job_id, row_label=ROW_LABEL))
    size = max(path.stat().st_size, 1)
    if shape.top == "map" and shape.tasks_prefix and not _is_json_lines(path):
        base = "data." if shape.tasks_prefix == "data.tasks" else ""
        if shape.scalars.get("status") == "error":
            raise BadData(
                path.name, f"the file is an API error response ({shape.scalars.get('message')}), not crawl data"
            )
        found = {k: shape.scalars.get(base + k, shape.scalars.get("meta." + k)) for k in _META_KEYS}
        meta = JobMeta(**{k: v for k, v in found.items() if isinstance(v, str) and v})
        if meta.job_id:
            staged.default_job_id = meta.job_id
        staging.meta(staged.default_job_id, meta)
        if not _stage_compact(staging, staged, path, progress, size):
            writer = StagingWriter(staging.cur, staged)
            _stage_streamed(path, shape.tasks_prefix, writer, progress, size)
            writer.close()
    elif shape.top in ("map", "array"):
        writer = StagingWriter(staging.cur, staged)
        _stage_values(path, writer, staging, staged, progress, size)
        writer.close()
    else:
        raise BadData(path.name, f"not a JSON object or array; expected {EXPECTED}")
    return staged


def _is_json_lines(path: Path) -> bool:
    """Several JSON values, one per line: the first line is a whole value and more follows."""
    with open(path, "rb") as f:
        head = f.read(_CHUNK)
    end = head.find(b"\n")
    if end < 0 or not head[end:].strip():
        return False
    try:
        json.loads(head[:end])
    except ValueError:
        return False
    return True


def _stage_values(path: Path, writer: StagingWriter, staging: Staging, staged: StagedFile, progress, size: int) -> None:
    """Top-level arrays and JSON Lines: each value is a page or an export, small enough to build."""
    seen: list[str] = []
    with open(path, "rb") as f:
        try:
            for number, value in enumerate(ijson.items(f, "", multiple_values=True, use_float=True), 1):
                pages = value if isinstance(value, list) else [value]
                for index, page in enumerate(pages, 1):
                    where = f"value {number}" + (f", item {index}" if isinstance(value, list) else "")
                    meta, tasks = _page_of(page, where, path)
                    if meta.job_id:
                        staging.meta(meta.job_id, meta)
                        seen.append(meta.job_id)
                    for task in tasks:
                        writer.add(_as_record(task, f"task {writer.next_row}", path, meta.job_id))
                if progress:
                    progress(min(f.tell() / size, 1.0), f"read {writer.next_row - 1:,} tasks")
        except ijson.JSONError as exc:
            raise _json_error(path, exc) from None
    if len(set(seen)) == 1:
        staged.default_job_id = seen[0]


def _stage_streamed(path: Path, prefix: str, writer, progress, size: int) -> None:
    """One task at a time with ijson: any layout, bounded memory."""
    with open(path, "rb") as f:
        try:
            for count, task in enumerate(ijson.items(f, prefix + ".item", use_float=True), 1):
                writer.add(_as_record(task, f"task {count}", path, None))
                if progress and count % 20_000 == 0:
                    progress(min(f.tell() / size, 1.0), f"read {count:,} tasks")
        except ijson.JSONError as exc:
            raise _json_error(path, exc) from None


def _stage_compact(staging: Staging, staged: StagedFile, path: Path, progress, size: int) -> bool:
    """A compact tasks array ("},{" between tasks, as the API writes it), read by DuckDB's JSON reader.

    The array is rewritten a block at a time as JSON Lines in a temporary file, which DuckDB reads
    in parallel straight into the staging table. Returns False, having staged nothing, when the
    file is not laid out that way or DuckDB refuses a line (a value of another type, "},{" inside a
    text): the careful path then reads it task by task.
    """
    with open(path, "rb") as f:
        head = f.read(_CHUNK)
        match = _TASK_ARRAY.search(head)
        if match is None:
            return False
        rest = head[match.end() :].lstrip()
        if rest[:1] != b"{" or not _compact_after_first(rest):
            return False
        fd, name = tempfile.mkstemp(prefix="crawldash-", suffix=".jsonl")
        lines = Path(name)
        try:
            with os.fdopen(fd, "wb") as out:
                pending = rest
                while more := f.read(_CHUNK):
                    pending += more
                    cut = pending.rfind(b"},{")
                    if cut >= 0:
                        out.write(pending[: cut + 1].replace(b"},{", b"}\n{") + b"\n")
                        pending = pending[cut + 2 :]
                    if progress:
                        progress(min(f.tell() / size, 1.0) * 0.7, "reading tasks")
                try:
                    last, _end = json.JSONDecoder().raw_decode("[" + pending.decode("utf-8"))
                except (ValueError, UnicodeDecodeError) as exc:
                    raise BadData(path.name, f"the JSON ends too early or is broken near the end ({exc})") from None
                for task in last:
                    out.write(json.dumps(task, separators=(",", ":"), ensure_ascii=False).encode() + b"\n")
            if progress:
                progress(0.8, "loading tasks")
            return _load_lines(staging, staged, lines)
        finally:
            lines.unlink(missing_ok=True)


_LINE_SQL_TYPES = {schema.TEXT: "VARCHAR", schema.TIMESTAMP: "VARCHAR", schema.INT: "BIGINT", schema.BOOL: "BOOLEAN"}
_LINE_TYPES = "{" + ", ".join(f"'{c.name}': '{_LINE_SQL_TYPES[c.kind]}'" for c in schema.INPUT_COLUMNS) + "}"


def _load_lines(staging: Staging, staged: StagedFile, lines: Path) -> bool:
    """Read the JSON Lines into the staging table; False when DuckDB refuses any line."""
    quoted = str(lines).replace("'", "''")
    try:
        staging.cur.execute(
            f"CREATE OR REPLACE TEMP TABLE {staged.table} AS SELECT row_number() OVER () AS file_row, * "
            f"FROM read_json('{quoted}', format = 'newline_delimited', columns = {_LINE_TYPES}, "
            "maximum_object_size = 67108864)"
        )
    except duckdb.Error:
        return False
    staged.rows = staging.cur.execute(f"SELECT count(*) FROM {staged.table}").fetchall()[0][0]
    return True


def _compact_after_first(rest: bytes) -> bool:
    """Is the first task keyed by our field names and followed directly by ',{' or ']'?"""
    try:
        text = rest[: 1 << 20].decode("utf-8")
        first, end = json.JSONDecoder().raw_decode(text)
    except (ValueError, UnicodeDecodeError):
        return False
    after = text[end : end + 2]
    keyed = isinstance(first, dict) and any(k in first for k in ("id", "url", "path"))
    return keyed and (after == ",{" or after[:1] == "]")


def iter_tasks(path: Path) -> Iterator[dict]:
    """Every task object of a file of the original's, whatever its shape (for tests and tools)."""
    with open(path, "rb") as f:
        for value in ijson.items(f, "", multiple_values=True, use_float=True):
            for page in value if isinstance(value, list) else [value]:
                yield from _page_of(page, "value", path)[1]
