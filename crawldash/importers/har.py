"""HAR 1.2 files (browser or proxy captures): one task per entry, streamed with ijson.

| HAR entry                           | task field          | how                                            |
|-------------------------------------|---------------------|------------------------------------------------|
| request.url                         | url                 | host and path derived from it on import        |
| response.status                     | status_code, status | 0 (no response) and >= 400: failed, else       |
|                                     |                     | completed                                      |
| response._error / statusText        | error               | failed entries only (reason phrase if none)    |
| time                                | response_time       | milliseconds, rounded                          |
| Content-Type header (or mimeType)   | content_type        | as sent                                        |
| startedDateTime                     | started_at          | completed_at = startedDateTime + time          |
| cache headers                       | cache_status        | see `cache_headers` (tier nearest the client)  |
| _fromDiskCache, _fromMemoryCache,   | from_browser_cache  | the browser answered from its own cache: left  |
| _fromCache ("disk"/"memory")        |                     | out of timing charts                           |

The job's domain is the host of the first entry: the page the capture started on.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Mapping
from datetime import datetime, timedelta
from http import HTTPStatus
from pathlib import Path

import ijson

from crawldash.errors import BadData
from crawldash.importers.cache_headers import cache_status
from crawldash.importers.records import StagingWriter
from crawldash.ingest import JobMeta, Progress, StagedFile, Staging, clean_domain

FORMAT = "har"
ROW_LABEL = "entry"
EXPECTED = 'a HAR 1.2 file: {"log": {"version", "creator", "entries": [...]}}'
_HAR_START = re.compile(rb'\A\s*\{\s*"log"\s*:\s*\{')
#: Entry fields browsers and capture tools use for "served from the browser's own cache".
_BROWSER_CACHE_FLAGS = ("_fromDiskCache", "_fromMemoryCache", "_fromCache")


def sniff(head: bytes) -> bool:
    """Does the file start like a HAR log?

    >>> sniff(b'{"log": {"version": "1.2", "entries": []}}'), sniff(b'{"data": {"tasks": []}}')
    (True, False)
    """
    return bool(_HAR_START.match(head.removeprefix(codecs.BOM_UTF8)))


def _headers(response: Mapping) -> dict[str, str]:
    """Response headers by lower-case name; a repeated header's values joined with ", "."""
    out: dict[str, str] = {}
    for header in response.get("headers") or ():
        if not isinstance(header, Mapping) or not isinstance(header.get("name"), str):
            continue
        name, value = header["name"].strip().lower(), str(header.get("value") or "")
        out[name] = f"{out[name]}, {value}" if name in out else value
    return out


def _int(value: object) -> int | None:
    if isinstance(value, bool) or value is None:
        return None
    try:
        return round(float(value))  # type: ignore[arg-type]
    except (TypeError, ValueError, OverflowError):
        return None


def _from_browser_cache(entry: Mapping) -> bool | None:
    """True when a capture flag says the browser served the entry itself; None when none is there."""
    flags = [entry[k] for k in _BROWSER_CACHE_FLAGS if k in entry]
    if not flags:
        return None
    return any(v is True or (isinstance(v, str) and v.strip().lower() in ("disk", "memory", "true")) for v in flags)


def _completed(started: object, ms: float | None) -> str | None:
    if not isinstance(started, str) or ms is None:
        return None
    try:
        begun = datetime.fromisoformat(started.strip())
    except ValueError:
        return None  # the started_at check names the entry
    if begun.tzinfo is None:
        return None
    return (begun + timedelta(milliseconds=ms)).isoformat()


def entry_record(entry: object, number: int, source: str) -> dict:
    """The task record of one HAR entry (`number` counts from 1, for messages)."""
    if not isinstance(entry, Mapping):
        raise BadData(source, f"entry {number} is a JSON {type(entry).__name__}, expected an entry object")
    request = entry.get("request") if isinstance(entry.get("request"), Mapping) else {}
    response = entry.get("response") if isinstance(entry.get("response"), Mapping) else {}
    url = request.get("url")
    if not isinstance(url, str) or not url.strip():
        raise BadData(source, f"entry {number}: no request.url")
    code = response.get("status")
    number_code = _int(code)
    headers = _headers(response)
    elapsed = entry.get("time")  # -1 or absent: not measured
    timed = isinstance(elapsed, (int, float)) and not isinstance(elapsed, bool) and elapsed >= 0
    ms = float(elapsed) if timed else None  # type: ignore[arg-type]
    error = None
    if not number_code or number_code >= 400:
        text = response.get("_error") or entry.get("_error") or response.get("statusText")
        if not text and number_code:
            text = _phrase(number_code)
        error = str(text) if text else "no response"
    content = response.get("content") if isinstance(response.get("content"), Mapping) else {}
    return {
        "url": url.strip(),
        "status": "failed" if error else "completed",
        "status_code": number_code if number_code is not None else code,
        "response_time": round(ms) if ms is not None else None,
        "cache_status": cache_status(headers),
        "content_type": headers.get("content-type") or content.get("mimeType") or None,
        "error": error,
        "started_at": entry.get("startedDateTime"),
        "completed_at": _completed(entry.get("startedDateTime"), ms),
        "from_browser_cache": _from_browser_cache(entry),
    }


def _phrase(code: int) -> str:
    try:
        return HTTPStatus(code).phrase
    except ValueError:
        return f"HTTP {code}"


def stage(staging: Staging, path: Path, default_job_id: str, progress: Progress | None = None) -> StagedFile:
    """Stream a HAR file's entries into a staging table, one task per entry."""
    staged = staging.add_file(StagedFile(path.name, FORMAT, default_job_id, row_label=ROW_LABEL))
    writer = StagingWriter(staging.cur, staged)
    size = max(path.stat().st_size, 1)
    first_url = None
    with open(path, "rb") as f:
        if f.read(3) != codecs.BOM_UTF8:
            f.seek(0)
        try:
            for number, entry in enumerate(ijson.items(f, "log.entries.item", use_float=True), 1):
                record = entry_record(entry, number, path.name)
                first_url = first_url or record["url"]
                writer.add(record)
                if progress and number % 5000 == 0:
                    progress(min(f.tell() / size, 1.0), f"read {number:,} entries")
        except ijson.JSONError as exc:
            detail = str(exc).strip().splitlines()[0] if str(exc).strip() else "unexpected end of file"
            raise BadData(path.name, f"is not valid JSON ({detail}); expected {EXPECTED}") from None
    if writer.close() == 0:
        raise BadData(
            path.name, f"is a HAR file without entries (log.entries is empty or missing); expected {EXPECTED}"
        )
    staging.meta(default_job_id, JobMeta(domain=clean_domain(first_url)))
    return staged
