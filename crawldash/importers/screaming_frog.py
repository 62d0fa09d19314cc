"""Screaming Frog SEO Spider exports: Internal: All and Response Codes, with All Inlinks as a second file.

Detected from the header, names matched case-insensitively (they vary between versions and
locales). Every layout holds one row per URL; we read these columns and ignore the rest:

| Screaming Frog  | task field     | how                                                           |
|-----------------|----------------|---------------------------------------------------------------|
| Address         | url            | host and path are derived from it on import                   |
| Status Code     | status_code    | 0 (no response) is stored as no code                          |
| Status          | status, error  | code 0 + "Blocked by robots.txt": skipped; other 0 and >= 400: |
|                 |                | failed, with the Status text as error; the rest completed     |
| Content Type    | content_type   | as sent                                                       |
| Response Time   | response_time  | seconds to milliseconds; empty stays null, never 0            |
| Crawl Timestamp | completed_at   | no time zone: taken as UTC (the import says so)               |

The All Inlinks export ("Bulk Export > Links > All Inlinks": Type, Source, Destination, ...) joins
on Destination = Address: each page gets the first page linking to it in file order (a page
linking to itself does not count) as source_url, source_type `link` (`sitemap` when that first
link is an XML Sitemap entry), and the number of links to it (every row, any type) as inlinks.
Aggregate reports (a response-time histogram, the crawl overview) hold no per-URL rows: refused.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import duckdb

from crawldash.errors import BadData
from crawldash.importers.csvtext import CsvText, open_csv
from crawldash.ingest import StagedFile, Staging

FORMAT = "screaming-frog"
PAGES, INLINKS, REPORT = "pages", "inlinks", "report"
EXPECTED = (
    "a Screaming Frog SEO Spider export with one row per URL: Internal: All or Response Codes "
    "(Address, Status Code, ...), optionally with its All Inlinks export (Type, Source, Destination)"
)
PAGE_REQUIRED = ("Address", "Status Code")
LINK_REQUIRED = ("Source", "Destination")
#: Header names (lower case) of the columns we read from a page export.
_PAGE_COLUMNS = {
    "address": "address",
    "status code": "code",
    "status": "status_text",
    "content type": "content_type",
    "response time": "seconds",
    "crawl timestamp": "crawl_timestamp",
}
_LINK_COLUMNS = {"source": "source", "destination": "destination", "type": "link_type"}
#: Columns a per-URL export has one of; a Screaming Frog table with none of them is an aggregate.
_URL_COLUMNS = {"address", "url", "page url", "source", "destination", "page", "path", "redirect url"}
#: Column names of Screaming Frog's aggregate tables (overview, histograms).
_REPORT_COLUMNS = {"urls", "number of urls", "no. of urls", "% of total", "% of urls", "total urls"}
_BLOCKED = "blocked by robots.txt"


def sniff(header: Sequence[str]) -> str | None:
    """Which Screaming Frog export a CSV header is: PAGES, INLINKS, REPORT or None (not one).

    >>> sniff(["Address", "Content Type", "Status Code", "Status", "Indexability"])
    'pages'
    >>> sniff(["Type", "Source", "Destination", "Anchor", "Status Code"])
    'inlinks'
    >>> sniff(["Response Time", "URLs", "% of Total"])
    'report'
    >>> sniff(["url", "status", "status_code"]) is None
    True
    """
    names = {h.strip().lower() for h in header}
    if {"address", "status code"} <= names:
        return PAGES
    if {"source", "destination"} <= names:
        return INLINKS
    if names & _REPORT_COLUMNS and not names & _URL_COLUMNS:
        return REPORT
    return None


def missing(header: Sequence[str]) -> list[str]:
    """The columns a page export needs that a header lacks."""
    names = {h.strip().lower() for h in header}
    return [name for name in PAGE_REQUIRED if name.lower() not in names]


def report_refusal(name: str, header: Sequence[str]) -> BadData:
    """The message for an aggregate report: it has no per-URL rows, so no tasks."""
    shown = ", ".join(header[:6]) + (", …" if len(header) > 6 else "")
    return BadData(
        name,
        f"is a Screaming Frog aggregate report (columns: {shown}): it holds counts, no per-URL rows, "
        "so there are no tasks in it. Export Internal: All (or Response Codes) instead.",
    )


def inlinks_alone(name: str) -> BadData:
    """The message for an All Inlinks file given without the page export it belongs to."""
    return BadData(
        name,
        "is a Screaming Frog All Inlinks export: it lists links, not crawled pages. Import it together "
        "with the Internal: All export of the same crawl (both files in one import), which makes one job",
    )


def _positions(header: Sequence[str], wanted: dict[str, str]) -> dict[str, int]:
    """Our name -> position of the first header cell naming it (case-insensitive)."""
    found: dict[str, int] = {}
    for index, cell in enumerate(header):
        ours = wanted.get(cell.strip().lower())
        if ours and ours not in found:
            found[ours] = index
    return found


def _select(text: CsvText, found: dict[str, int], wanted: dict[str, str]) -> str:
    cols = ", ".join(
        f'"c{found[ours]}" AS {ours}' if ours in found else f"NULL::VARCHAR AS {ours}" for ours in wanted.values()
    )
    return f"SELECT row_number() OVER () AS file_row, {cols} FROM {text.read_csv_sql()}"


_CODE = "TRY_CAST(trim(code) AS INTEGER)"
_MS = "TRY_CAST(replace(trim(seconds), ',', '.') AS DECIMAL(18, 6)) * 1000"


def stage(staging: Staging, path: Path, default_job_id: str, inlinks: Sequence[Path] = ()) -> StagedFile:
    """Stage an Internal: All or Response Codes export, joined with its All Inlinks files if given."""
    cur = staging.cur
    staged = staging.add_file(StagedFile(path.name, FORMAT, default_job_id))
    raw = f"{staged.table}_sf"
    required = {"Address": "address", "Status Code": "code"}
    found, notes = _load(cur, path, _PAGE_COLUMNS, required, raw, f"; expected {EXPECTED}")
    staged.notes.extend(f"{path.name}: {note}" for note in notes)
    _check(cur, path.name, raw)
    links = _stage_links(cur, inlinks) if inlinks else None
    failed = f"(coalesce({_CODE}, 0) = 0 OR {_CODE} >= 400)"
    blocked = f"(coalesce({_CODE}, 0) = 0 AND coalesce(lower(trim(status_text)) = '{_BLOCKED}', FALSE))"
    join = f"LEFT JOIN {links} l ON l.destination = trim(r.address)" if links else ""
    link_fields = (
        "l.source_url, CASE WHEN l.source_url IS NULL THEN NULL "
        "WHEN contains(lower(l.link_type), 'sitemap') THEN 'sitemap' ELSE 'link' END AS source_type, "
        "coalesce(l.inlinks, 0) AS inlinks"
        if links
        else "NULL::VARCHAR AS source_url, NULL::VARCHAR AS source_type, NULL::BIGINT AS inlinks"
    )
    cur.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE {staged.table} AS
        SELECT r.file_row,
            trim(r.address) AS url,
            CASE WHEN {blocked} THEN 'skipped' WHEN {failed} THEN 'failed' ELSE 'completed' END AS status,
            {_CODE}::BIGINT AS status_code,
            {_MS} AS response_time,
            trim(r.content_type) AS content_type,
            CASE WHEN {blocked} THEN NULLIF(trim(r.status_text), '')
                WHEN {failed} THEN coalesce(
                NULLIF(trim(r.status_text), ''),
                CASE WHEN {_CODE} > 0 THEN 'HTTP ' || {_CODE} ELSE 'no response' END) END AS error,
            trim(r.crawl_timestamp) AS completed_at,
            {link_fields}
        FROM {raw} r {join}
        """
    )
    staged.rows = cur.execute(f"SELECT count(*) FROM {staged.table}").fetchone()[0]
    staged.notes.extend(_notes(cur, staged, found, links, inlinks))
    cur.execute(f"DROP TABLE {raw}")
    if links:
        cur.execute(f"DROP TABLE {links}")
    return staged


def _load(
    cur, path: Path, columns: dict[str, str], required: dict[str, str], table: str, lacking: str
) -> tuple[dict[str, int], list[str]]:
    """Read an export's columns into a TEMP table: (the columns found, what reading the text noted).
    A `required` header (label: our name) that is missing is named, followed by `lacking`."""
    text = open_csv(path)
    try:
        found = _positions(text.header, columns)
        lack = [label for label, ours in required.items() if ours not in found]
        if lack:
            raise BadData(path.name, f"lacks the column {' and '.join(lack)}{lacking}")
        cur.execute(f"CREATE OR REPLACE TEMP TABLE {table} AS {_select(text, found, columns)}")
        return found, text.notes
    except duckdb.Error as exc:
        raise BadData(path.name, f"cannot be read as CSV: {str(exc).splitlines()[0]}") from None
    finally:
        text.close()


def _check(cur, name: str, raw: str) -> None:
    """Refuse a Status Code or Response Time that is not a number, naming the first such row."""
    for column, label, value in (
        ("code", "Status Code", _CODE),
        ("seconds", "Response Time", _MS),
    ):
        row = cur.execute(
            f"SELECT file_row, {column} FROM {raw} WHERE trim({column}) <> '' AND {value} IS NULL "
            "ORDER BY file_row LIMIT 1"
        ).fetchone()
        if row is not None:
            unit = "an HTTP status code" if column == "code" else "a number of seconds"
            raise BadData(name, f"row {row[0]}: {label} {row[1]!r} is not {unit}")


def _stage_links(cur, paths: Sequence[Path]) -> str:
    """TEMP table `_sf_links`: per Destination, the first other page linking to it, its link type and
    the number of links (every row of every All Inlinks file, in the order given)."""
    selects = []
    for number, path in enumerate(paths):
        table = f"_sf_links_{number}"
        required = {"Source": "source", "Destination": "destination"}
        _load(cur, path, _LINK_COLUMNS, required, table, " of an All Inlinks export")
        selects.append(
            f"SELECT {number}::BIGINT * 1099511627776 + file_row AS k, trim(destination) AS destination, "
            f"NULLIF(trim(source), '') AS source, trim(link_type) AS link_type FROM {table}"
        )
    other = "source IS NOT NULL AND source <> destination"
    cur.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE _sf_links AS
        SELECT destination,
            arg_min(source, k) FILTER (WHERE {other}) AS source_url,
            arg_min(link_type, k) FILTER (WHERE {other}) AS link_type,
            count(*) AS inlinks
        FROM ({" UNION ALL ".join(selects)})
        WHERE destination <> ''
        GROUP BY destination
        """
    )
    for number in range(len(paths)):
        cur.execute(f"DROP TABLE _sf_links_{number}")
    return "_sf_links"


def _notes(cur, staged: StagedFile, found: dict[str, int], links: str | None, inlinks: Sequence[Path]) -> list[str]:
    """What the import noticed: robots.txt blocks, an empty Response Time column, the inlinks join."""
    notes = []
    skipped, timed = cur.execute(
        f"SELECT count(*) FILTER (WHERE status = 'skipped'), count(response_time) FROM {staged.table}"
    ).fetchone()
    if skipped:
        notes.append(f"{skipped:,} URLs blocked by robots.txt were stored as skipped tasks")
    if "seconds" in found and not timed:
        notes.append("Response Time is empty on every row: response times stay unknown (null), not 0")
    if links:
        total, linked, sourced = cur.execute(
            f"SELECT (SELECT sum(inlinks) FROM {links}), count(*) FILTER (WHERE inlinks > 0), "
            f"count(source_url) FROM {staged.table}"
        ).fetchone()
        names = ", ".join(p.name for p in inlinks)
        if total and not linked:
            raise BadData(
                names,
                f"none of its links point at a page of {staged.name}: are both files from the same crawl?",
            )
        notes.append(
            f"{names}: {int(total or 0):,} links; {sourced:,} of {staged.rows:,} pages got the page "
            f"linking to them as source_url ({linked:,} have inlinks)"
        )
    return notes
