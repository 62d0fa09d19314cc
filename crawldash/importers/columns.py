"""Our own columns (the field names of SPEC's task record, or our export labels) as CSV, Parquet
or JSON Lines, read by DuckDB's own readers: nothing passes through Python row by row.
"""

from __future__ import annotations

import json
from pathlib import Path

import duckdb

from crawldash import schema
from crawldash.errors import BadData
from crawldash.importers.csvtext import open_csv
from crawldash.ingest import StagedFile, Staging

FORMAT = "columns"
REQUIRED = ("url or path", "status")
EXPECTED = "our own columns (CSV, Parquet or JSON Lines with url or path, and status)"


def fields_of(headers: list[str]) -> dict[str, int]:
    """Field name -> position of the first header naming it (case-insensitive)."""
    found: dict[str, int] = {}
    for index, header in enumerate(headers):
        name = schema.FIELD_BY_HEADER.get(header.strip().lower())
        if name and name not in found:
            found[name] = index
    return found


def missing(found: dict[str, int]) -> list[str]:
    """The required columns a header lacks."""
    lack = []
    if "url" not in found and "path" not in found:
        lack.append("url (or path)")
    if "status" not in found:
        lack.append("status")
    return lack


def matches_header(headers: list[str]) -> bool:
    return not missing(fields_of(headers))


def sniff_jsonl(head: bytes) -> bool:
    """JSON Lines of task records: the first line is an object with a url or path (not a page)."""
    line = head.lstrip(b"\xef\xbb\xbf \t\r\n").split(b"\n", 1)[0]
    try:
        first = json.loads(line)
    except ValueError:
        return False
    return isinstance(first, dict) and ("url" in first or "path" in first) and "tasks" not in first


def _quote(path: Path) -> str:
    return str(path).replace("'", "''")


def stage(staging: Staging, path: Path, default_job_id: str, kind: str) -> StagedFile:
    """Stage a CSV, Parquet or JSON Lines file of our columns (`kind`: csv, parquet, jsonl)."""
    cur = staging.cur
    staged = staging.add_file(StagedFile(path.name, FORMAT, default_job_id))
    text = None
    try:
        if kind == "csv":
            text = open_csv(path)
            source, headers = text.read_csv_sql(), text.header
            names = [f"c{i}" for i in range(len(headers))]
            staged.decimal_comma = text.decimal_comma
            staged.notes.extend(f"{path.name}: {note}" for note in text.notes)
        else:
            reader = "read_parquet" if kind == "parquet" else "read_json"
            options = "" if kind == "parquet" else ", format = 'newline_delimited'"
            source = f"{reader}('{_quote(path)}'{options})"
            names = headers = [r[0] for r in cur.execute(f"DESCRIBE SELECT * FROM {source}").fetchall()]
        found = fields_of(headers)
        lack = missing(found)
        if lack:
            raise BadData(
                path.name,
                f"is missing the required column{'s' if len(lack) > 1 else ''} "
                f"{', '.join(lack)} for {EXPECTED}; its columns: {', '.join(headers[:12]) or 'none'}",
            )
        picks = ", ".join(f'"{names[i]}" AS {name}' for name, i in found.items())
        cur.execute(
            f"CREATE OR REPLACE TEMP TABLE {staged.table} AS "
            f"SELECT row_number() OVER () AS file_row, {picks} FROM {source}"
        )
    except duckdb.Error as exc:
        raise BadData(path.name, f"cannot be read as {kind.upper()}: {str(exc).splitlines()[0]}") from None
    finally:
        if text is not None:
            text.close()
    staged.rows = cur.execute(f"SELECT count(*) FROM {staged.table}").fetchone()[0]
    return staged
