"""Import crawl files into the store: detect each file's format from its content, stage it, store it.

>>> from crawldash.store import Store
>>> store = Store(":memory:")
>>> import_files(store, ["data/sample-job.json"])[0].format   # doctest: +SKIP
'adapt'
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import duckdb

from crawldash import summary
from crawldash.errors import BadData, CrawldashError, InvalidParameter
from crawldash.importers import adapt_json, columns, har, screaming_frog
from crawldash.importers.csvtext import head_text, sniff_header
from crawldash.importers.records import StagingWriter
from crawldash.ingest import ImportResult, JobMeta, Progress, StagedFile, Staging, store_staging
from crawldash.schema import check_job_id
from crawldash.store import Store

#: Every format we read, as `--format` names it, with what it is.
FORMATS = {
    "adapt": "the original API's JSON (export response, its data object, the web app's download, List Tasks pages)",
    "columns": "our own columns (the task record's field names, or our export labels) as CSV, Parquet or JSON Lines",
    "screaming-frog": "Screaming Frog SEO Spider CSV exports (Internal: All, Response Codes), "
    "optionally with the crawl's All Inlinks export as a second file",
    "har": "HAR 1.2 browser or proxy captures (one task per entry)",
}
FORMAT_CHOICES = ("auto",) + tuple(FORMATS)


@dataclass(frozen=True)
class Detected:
    """What a file is: a format name and, within it, the kind of file (json, csv, parquet, jsonl)."""

    format: str
    kind: str


def formats_we_read() -> str:
    return "; ".join(f"{name}: {what}" for name, what in FORMATS.items())


def _is_binary(text: str) -> bool:
    sample = text[:4096]
    controls = sum(1 for c in sample if ord(c) < 32 and c not in "\t\r\n")
    return bool(sample) and controls > len(sample) // 20


def detect(path: Path, forced: str = "auto") -> Detected:
    """The format of one file, from its content (or `forced`); a clear error when it is none we read."""
    with open(path, "rb") as f:
        head = f.read(1 << 16)
    if not head.strip(b"\xef\xbb\xbf \t\r\n"):
        raise BadData(path.name, "is empty; expected a crawl export. Formats we read: " + formats_we_read())
    if head[:4] == b"PAR1":
        kind = Detected("columns", "parquet")
    elif har.sniff(head):
        kind = Detected("har", "json")
    elif adapt_json.sniff(head):
        kind = Detected("adapt", "json")
    elif columns.sniff_jsonl(head):
        kind = Detected("columns", "jsonl")
    else:
        kind = _detect_text(path)
    if forced != "auto" and forced != kind.format:
        if forced == "adapt" and kind.format != "har" and kind.kind in ("json", "jsonl"):
            return Detected("adapt", "json")
        if forced == "columns" and kind.kind in ("csv", "parquet", "jsonl"):
            return Detected("columns", kind.kind)
        raise BadData(path.name, f"does not look like {forced} ({FORMATS[forced]}); it looks like {kind.format}")
    return kind


def _detect_text(path: Path) -> Detected:
    _encoding, text = head_text(path)
    stripped = text.lstrip("\ufeff \t\r\n")
    if _is_binary(text):
        raise BadData(path.name, "is not a text file we can read (binary data); formats we read: " + formats_we_read())
    if stripped[:1] in ("{", "["):
        raise BadData(path.name, f"is JSON of another shape (or broken JSON); expected {adapt_json.EXPECTED}")
    _delimiter, header = sniff_header(stripped)
    # Screaming Frog first: its "Status Code", "Status" and "Content Type" are also our export labels.
    sf_kind = screaming_frog.sniff(header)
    if sf_kind == screaming_frog.REPORT:
        raise screaming_frog.report_refusal(path.name, header)
    if sf_kind is not None:
        return Detected(screaming_frog.FORMAT, sf_kind)
    if header and columns.matches_header(header):
        return Detected("columns", "csv")
    lack = columns.missing(columns.fields_of(header))
    shown = ", ".join(header[:8]) + (", …" if len(header) > 8 else "")
    raise BadData(
        path.name,
        f"is not a crawl export we can read (columns: {shown or 'none'}). Formats we read: {formats_we_read()}. "
        f"For our own columns it lacks {' and '.join(lack)}; for a Screaming Frog export it lacks "
        f"{' and '.join(screaming_frog.missing(header))}.",
    )


def default_job_id(path: Path) -> str:
    """A job id for a file that names none: its name plus a hash of its start, stable across imports."""
    digest = hashlib.sha1()
    with open(path, "rb") as f:
        digest.update(f.read(1 << 20))
    digest.update(str(path.stat().st_size).encode())
    slug = re.sub(r"[^A-Za-z0-9]+", "-", path.stem).strip("-").lower()[:40] or "import"
    return f"{slug}-{digest.hexdigest()[:8]}"


def import_files(
    store: Store,
    paths: Sequence[str | Path],
    fmt: str = "auto",
    job_id: str | None = None,
    progress: Progress | None = None,
) -> list[ImportResult]:
    """Import files as one transaction; each job they hold replaces a stored job of the same id."""
    if fmt not in FORMAT_CHOICES:
        raise InvalidParameter("--format", fmt, " or ".join(FORMAT_CHOICES))
    if job_id is not None:
        job_id = check_job_id(job_id)
    files = [Path(p) for p in paths]
    if not files:
        raise InvalidParameter("FILE", "", "at least one file to import")
    for path in files:
        if not path.is_file():
            raise InvalidParameter("FILE", str(path), "a file that exists")
    shown = [p.name for p in files]
    plans = _pair_inlinks([(path, detect(path, fmt)) for path in files])
    report = progress or (lambda fraction, message: None)
    try:
        # Staging fills TEMP tables only (a fast path may fail and fall back without harm); the one
        # transaction then stores every job, or nothing.
        with store.writer() as cur:
            staging = Staging(cur)
            for index, (path, kind, inlinks) in enumerate(plans):

                def step(fraction: float, message: str, i: int = index, name: str = path.name) -> None:
                    report(0.8 * (i + fraction) / len(plans), f"{name}: {message}")

                step(0.0, "reading")
                _stage(staging, path, kind, step, inlinks)
            with store.transaction(cur):
                results = store_staging(staging, job_id, lambda f, m: report(0.8 + 0.2 * f, m))
    except CrawldashError:
        raise
    except duckdb.Error as exc:
        raise BadData(", ".join(shown), f"could not be imported: {str(exc).splitlines()[0]}") from None
    except (UnicodeDecodeError, OSError) as exc:
        raise BadData(", ".join(shown), f"could not be read: {exc}") from None
    _summarise(store, results, report)
    return results


def _summarise(store: Store, results: list[ImportResult], report: Progress) -> None:
    """The imported jobs' unfiltered KPIs and series, computed once now so every page opens fast."""
    for result in results:
        report(1.0, f"summarising job {result.job_id}")
        summary.refresh(store, result.job_id)


def import_records(
    store: Store,
    records: Sequence[dict],
    *,
    job_id: str,
    source: str = "records",
    fmt: str = "records",
    meta: JobMeta | None = None,
) -> ImportResult:
    """Import task records held in memory (dicts with the seed's field names) as one job.

    >>> store = Store(":memory:")
    >>> import_records(store, [{"id": "t1", "url": "https://example.com/", "status": "completed"}], job_id="j1").tasks
    1
    """
    with store.writer() as cur:
        staging = Staging(cur)
        staged = staging.add_file(StagedFile(source, fmt, job_id, row_label="record"))
        writer = StagingWriter(cur, staged)
        writer.add_all(records)
        writer.close()
        if meta is not None:
            staging.meta(job_id, meta)
        with store.transaction(cur):
            result = store_staging(staging, job_id)[0]
    summary.refresh(store, result.job_id)
    return result


Plan = tuple[Path, Detected, list[Path]]


def _pair_inlinks(detected: list[tuple[Path, Detected]]) -> list[Plan]:
    """One plan per file to stage; Screaming Frog All Inlinks files ride along with the one page
    export (Internal: All or Response Codes) of the same command, making one job with it."""
    links = [path for path, kind in detected if kind == Detected(screaming_frog.FORMAT, screaming_frog.INLINKS)]
    plans: list[Plan] = [(path, kind, []) for path, kind in detected if path not in links]
    if not links:
        return plans
    pages = [plan for plan in plans if plan[1] == Detected(screaming_frog.FORMAT, screaming_frog.PAGES)]
    if not pages:
        raise screaming_frog.inlinks_alone(links[0].name)
    if len(pages) > 1:
        raise BadData(
            ", ".join(p.name for p in links),
            "is an All Inlinks export, and the command has several Screaming Frog page exports "
            f"({', '.join(plan[0].name for plan in pages)}): import each Internal: All file together with "
            "its own All Inlinks file, one pair at a time",
        )
    pages[0][2].extend(links)
    return plans


def _stage(staging: Staging, path: Path, kind: Detected, progress: Progress, inlinks: Sequence[Path] = ()):
    job = default_job_id(path)
    if kind.format == "adapt":
        return adapt_json.stage(staging, path, job, progress)
    if kind.format == "har":
        return har.stage(staging, path, job, progress)
    if kind.format == screaming_frog.FORMAT:
        return screaming_frog.stage(staging, path, job, inlinks)
    return columns.stage(staging, path, job, kind.kind)
