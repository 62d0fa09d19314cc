"""Screaming Frog SEO Spider exports: the real files in ../shared/realdata, their README facts, and
every mapping rule checked row by row against a plain-Python reading of the file."""

from __future__ import annotations

import csv
import io
import subprocess
import sys
from collections import Counter
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from imported import cli_import, cli_store, counts, row_id, tasks_by_id

from conftest import PROJECT, job_state
from crawldash.errors import BadData
from crawldash.importers import Detected, detect, import_files
from crawldash.store import Store

HOMEBUILDER = "screaming-frog_internal_all_homebuilder.csv"
LAYOUT_2023 = "screaming-frog_internal_all_2023-layout.csv"
SUBDOMAINS = "screaming-frog_internal_all_subdomains.csv"
NO_TIMES = "screaming-frog_internal_all_no-response-times.csv"
INLINKS = "screaming-frog_all_inlinks_no-response-times.csv"

#: The README's facts per Internal: All file: columns, rows, Status Code counts (0 is stored as no code).
FACTS = {
    HOMEBUILDER: (74, 4175, {200: 2872, 308: 718, None: 582, 404: 3}),
    LAYOUT_2023: (63, 318, {200: 307, 301: 9, 302: 2}),
    SUBDOMAINS: (74, 215, {200: 206, 301: 9}),
    NO_TIMES: (64, 344, {200: 338, 301: 5, 302: 1}),
}


def read_rows(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    """(header, rows keyed by lower-case header) with Python's csv module: the oracle's reading."""
    with open(path, encoding="utf-8-sig", newline="") as f:
        rows = list(csv.reader(f))
    header = rows[0]
    keys = [h.lower() for h in header]
    return header, [dict(zip(keys, row, strict=False)) for row in rows[1:]]


def expected_task(row: dict[str, str]) -> dict:
    """What SPEC and the issue say one Internal: All / Response Codes row becomes."""
    code = int(row["status code"] or 0)
    status_text = row.get("status", "").strip()
    seconds = row.get("response time", "").strip().replace(",", ".")
    if code == 0 and status_text.lower() == "blocked by robots.txt":
        status, error = "skipped", status_text  # why it was skipped
    elif code == 0 or code >= 400:
        status, error = "failed", status_text or "no response"
    else:
        status, error = "completed", None
    stamp = row.get("crawl timestamp", "").strip()
    ms = int(Decimal(seconds) * 1000) if seconds else None
    return {
        "url": row["address"].strip(),
        "status": status,
        "status_code": code or None,
        "response_time": ms or None,
        "content_type": row.get("content type", "").strip() or None,
        "error": error,
        "completed_at": datetime.fromisoformat(stamp).replace(tzinfo=UTC) if stamp else None,
    }


def assert_matches_file(store: Store, job_id: str, path: Path) -> None:
    _header, rows = read_rows(path)
    stored = tasks_by_id(store, job_id)
    assert len(stored) == len(rows)
    for n, row in enumerate(rows, 1):
        task = stored[row_id(n)]
        got = {k: task[k] for k in ("url", "status", "status_code", "response_time", "content_type", "error")}
        got["completed_at"] = task["completed_at"]
        assert got == expected_task(row), f"row {n}"


def sf_csv(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    """A CSV written as Screaming Frog writes it: UTF-8 BOM, every field quoted."""
    text = io.StringIO()
    writer = csv.writer(text, quoting=csv.QUOTE_ALL, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    path.write_text(text.getvalue(), encoding="utf-8-sig")
    return path


SMALL_HEADER = ["Address", "Content Type", "Status Code", "Status", "Indexability", "Response Time", "Crawl Timestamp"]


def small_export(tmp_path: Path, rows: list[list[str]], name: str = "internal_all.csv") -> Path:
    return sf_csv(tmp_path / name, SMALL_HEADER, rows)


# --- the real files ----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", list(FACTS))
def test_real_internal_all_imports_through_the_cli_with_the_readme_status_codes(realdata, tmp_path, capsys, name):
    columns, rows, codes = FACTS[name]
    path = realdata / name
    assert len(read_rows(path)[0]) == columns  # the layout the README describes
    code, out, err = cli_import(capsys, tmp_path / "cli.duckdb", path)
    assert code == 0, err
    assert [(o["tasks"], o["format"]) for o in out] == [(rows, "screaming-frog")]
    store = cli_store(tmp_path / "cli.duckdb")
    try:
        assert counts(store, out[0]["job_id"], "status_code") == codes
        assert f"{out[0]['job_id']}: {rows:,} timestamps had no time zone and were taken as UTC" in " ".join(err)
        assert_matches_file(store, out[0]["job_id"], path)
    finally:
        store.close()


@pytest.mark.parametrize("name", list(FACTS))
def test_real_internal_all_imports_through_the_library_row_by_row(realdata, store, name):
    path = realdata / name
    result = import_files(store, [path])[0]
    assert (result.tasks, result.format) == (FACTS[name][1], "screaming-frog")
    assert_matches_file(store, result.job_id, path)


def test_blocked_by_robots_rows_are_skipped_without_a_response_time(realdata, store):
    result = import_files(store, [realdata / HOMEBUILDER])[0]
    expression = "(status, status_code, http_code, response_time IS NULL, error)"
    assert counts(store, result.job_id, expression) == {
        ("completed", 200, 200, False, None): 2872,
        ("completed", 308, 308, False, None): 718,
        ("skipped", None, None, True, "Blocked by robots.txt"): 582,
        ("failed", 404, 404, False, "Not Found"): 3,
    }
    assert "582 URLs blocked by robots.txt were stored as skipped tasks" in result.notes


def test_empty_response_times_stay_null_never_zero(realdata, store):
    result = import_files(store, [realdata / NO_TIMES])[0]
    assert counts(store, result.job_id, "response_time") == {None: 344}
    assert counts(store, result.job_id, "effective_time") == {None: 344}
    assert "Response Time is empty on every row: response times stay unknown (null), not 0" in result.notes


def test_response_time_seconds_become_milliseconds(realdata, store):
    result = import_files(store, [realdata / SUBDOMAINS])[0]
    job = store.job(result.job_id)
    with store.snapshot() as cur:
        low, high, timed = cur.execute(
            "SELECT min(response_time), max(response_time), count(response_time) FROM tasks WHERE job_key = ?",
            [job.job_key],
        ).fetchone()
    assert (low, high, timed) == (73, 1949, 215)  # README: 0.073 to 1.949 s


def test_subdomain_crawl_keeps_each_host_and_the_apex_is_the_domain(realdata, store):
    result = import_files(store, [realdata / SUBDOMAINS])[0]
    assert result.domain == "cilium.io"
    assert counts(store, result.job_id, "host") == {
        "cilium.io": 205,
        "docs.cilium.io": 7,
        "tetragon.cilium.io": 1,
        "slack.cilium.io": 1,
        "editor.cilium.io": 1,
    }


def test_2023_layout_with_crlf_keeps_its_content_types(realdata, store):
    path = realdata / LAYOUT_2023
    assert path.read_bytes().count(b"\r\n") == 319  # the README's quirk: CRLF line endings
    result = import_files(store, [path])[0]
    assert counts(store, result.job_id, "content_type") == {
        "text/html; charset=UTF-8": 269,
        "image/svg+xml": 28,
        "image/png": 8,
        "text/css": 4,
        "text/html; charset=utf-8": 4,
        "application/javascript": 3,
        "application/pdf": 1,
        "application/vnd.ms-excel": 1,
    }


def test_crawl_timestamp_is_the_completion_time_in_utc(realdata, store):
    result = import_files(store, [realdata / HOMEBUILDER])[0]
    first = tasks_by_id(store, result.job_id)[row_id(1)]
    assert (first["url"], first["completed_at"]) == (
        "https://www.davidsonhomes.com/",
        datetime(2025, 12, 9, 22, 28, 23, tzinfo=UTC),
    )
    assert "4,175 timestamps had no time zone and were taken as UTC" in result.notes
    job = store.job(result.job_id)
    assert (job.domain, job.created_at, job.completed_at) == (
        "www.davidsonhomes.com",
        datetime(2025, 12, 9, 22, 28, 23, tzinfo=UTC),
        datetime(2025, 12, 10, 0, 47, 50, tzinfo=UTC),
    )


# --- Internal: All + All Inlinks ----------------------------------------------------------------------


def first_inlinks(path: Path) -> tuple[dict[str, tuple[str, str]], Counter]:
    """Per Destination: (Source, Type) of its first link from another page, in file order; links per Destination."""
    _header, rows = read_rows(path)
    first: dict[str, tuple[str, str]] = {}
    links: Counter = Counter()
    for row in rows:
        links[row["destination"]] += 1
        if row["source"] != row["destination"]:
            first.setdefault(row["destination"], (row["source"], row["type"]))
    return first, links


def assert_inlinks_joined(store: Store, job_id: str, realdata: Path) -> None:
    first, links = first_inlinks(realdata / INLINKS)
    stored = tasks_by_id(store, job_id)
    assert len(stored) == 344
    for task in stored.values():
        source, kind = first.get(task["url"], (None, None))
        expected_type = None if source is None else ("sitemap" if kind == "XML Sitemap" else "link")
        assert (task["source_url"], task["source_type"], task["inlinks"]) == (
            source,
            expected_type,
            links[task["url"]],
        ), task["url"]
    assert counts(store, job_id, "source_type") == {"link": 321, "sitemap": 22, None: 1}
    assert counts(store, job_id, "source_url IS NULL") == {False: 343, True: 1}
    unlinked = [t["url"] for t in stored.values() if t["source_url"] is None]
    assert unlinked == ["https://www.lightchiropractic.sg/sitemap_index.xml"]


def test_inlinks_pair_is_one_job_on_the_command_line(realdata, tmp_path):
    db = tmp_path / "pair.duckdb"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "crawldash",
            "import",
            "--db",
            str(db),
            str(realdata / NO_TIMES),
            str(realdata / INLINKS),
        ],
        cwd=PROJECT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert len(lines) == 1 and '"tasks": 344' in lines[0] and '"format": "screaming-frog"' in lines[0]
    assert "5,518 links; 343 of 344 pages got the page linking to them as source_url" in done.stderr
    store = Store(db)
    try:
        (job,) = store.jobs()
        assert job.task_count == 344
        assert_inlinks_joined(store, job.job_id, realdata)
    finally:
        store.close()


@pytest.mark.parametrize("order", ["internal first", "inlinks first"])
def test_inlinks_pair_through_the_library_fills_source_url_and_inlinks(realdata, store, order):
    paths = [realdata / NO_TIMES, realdata / INLINKS]
    results = import_files(store, paths if order == "internal first" else paths[::-1])
    assert [(r.tasks, r.format) for r in results] == [(344, "screaming-frog")]
    assert_inlinks_joined(store, results[0].job_id, realdata)
    assert counts(store, results[0].job_id, "response_time") == {None: 344}


def test_internal_all_alone_has_no_source_and_no_inlinks(realdata, store):
    result = import_files(store, [realdata / NO_TIMES])[0]
    assert counts(store, result.job_id, "(source_url, source_type, inlinks)") == {(None, None, None): 344}


def test_all_inlinks_alone_is_refused_with_what_to_do(realdata, tmp_path, capsys):
    db = tmp_path / "alone.duckdb"
    assert cli_import(capsys, db, realdata / SUBDOMAINS)[0] == 0
    store = cli_store(db)
    before = job_state(store)
    code, out, err = cli_import(capsys, db, realdata / INLINKS)
    assert (code, out) == (1, [])
    assert err == [
        f"crawldash: error: {INLINKS}: is a Screaming Frog All Inlinks export: it lists links, not crawled pages. "
        "Import it together with the Internal: All export of the same crawl (both files in one import), "
        "which makes one job"
    ]
    assert job_state(store) == before
    store.close()


def test_inlinks_of_another_crawl_are_refused_and_nothing_is_stored(realdata, store):
    with pytest.raises(BadData, match=r"none of its links point at a page of .*same crawl"):
        import_files(store, [realdata / SUBDOMAINS, realdata / INLINKS])
    assert job_state(store) == [("tasks stored", 0)]


def test_inlinks_with_two_page_exports_is_ambiguous(realdata, store):
    with pytest.raises(BadData, match="several Screaming Frog page exports"):
        import_files(store, [realdata / SUBDOMAINS, realdata / NO_TIMES, realdata / INLINKS])
    assert job_state(store) == [("tasks stored", 0)]


# --- layouts, detection and mapping rules ----------------------------------------------------------------

#: The columns of a "Response Codes" export (Response Codes tab > Export), a subset of Internal: All.
RESPONSE_CODES = [
    "Address",
    "Content Type",
    "Status Code",
    "Status",
    "Indexability",
    "Indexability Status",
    "Inlinks",
    "Response Time",
    "Redirect URL",
    "Redirect Type",
]


def test_response_codes_export_gives_the_same_tasks_without_completion_times(realdata, tmp_path, store):
    header, _rows = read_rows(realdata / HOMEBUILDER)
    keep = [header.index(name) for name in RESPONSE_CODES]
    with open(realdata / HOMEBUILDER, encoding="utf-8-sig", newline="") as f:
        raw = list(csv.reader(f))[1:]
    path = sf_csv(tmp_path / "response_codes_all.csv", RESPONSE_CODES, [[r[i] for i in keep] for r in raw])
    assert detect(path) == Detected("screaming-frog", "pages")
    original = import_files(store, [realdata / HOMEBUILDER], job_id="internal")[0]
    codes = import_files(store, [path], job_id="codes")[0]
    assert codes.tasks == original.tasks == 4175
    fields = ("id", "url", "status", "status_code", "response_time", "content_type", "error")
    assert tasks_by_id(store, "codes", fields) == tasks_by_id(store, "internal", fields)
    assert counts(store, "codes", "completed_at") == {None: 4175}


@pytest.mark.parametrize("case", [str.lower, str.upper, lambda h: f"  {h.title()} "])
def test_header_names_match_case_insensitively(realdata, tmp_path, store, case):
    with open(realdata / SUBDOMAINS, encoding="utf-8-sig", newline="") as f:
        raw = list(csv.reader(f))
    path = sf_csv(tmp_path / "renamed.csv", [case(h) for h in raw[0]], raw[1:])
    assert detect(path) == Detected("screaming-frog", "pages")
    renamed = import_files(store, [path], job_id="renamed")[0]
    original = import_files(store, [realdata / SUBDOMAINS], job_id="original")[0]
    assert renamed.tasks == original.tasks == 215
    assert tasks_by_id(store, "renamed") == tasks_by_id(store, "original")


def test_screaming_frog_is_detected_before_our_own_columns(tmp_path):
    # "Status Code", "Status" and "Content Type" are also our export labels; "Address" makes it Screaming Frog.
    path = small_export(tmp_path, [["https://example.com/", "text/html", "200", "OK", "Indexable", "0.1", ""]])
    assert detect(path) == Detected("screaming-frog", "pages")
    assert detect(path, "screaming-frog") == Detected("screaming-frog", "pages")
    with pytest.raises(BadData, match="does not look like columns"):
        detect(path, "columns")


def test_status_rules_for_no_response_and_errors(tmp_path, store):
    path = small_export(
        tmp_path,
        [
            ["https://example.com/", "text/html", "200", "OK", "Indexable", "0.250", "2025-01-02 03:04:05"],
            [
                "https://example.com/private/",
                "",
                "0",
                "Blocked by Robots.txt",
                "Non-Indexable",
                "",
                "2025-01-02 03:04:06",
            ],
            ["https://example.com/slow/", "", "0", "Connection Timeout", "Non-Indexable", "", ""],
            ["https://example.com/none/", "", "0", "", "Non-Indexable", "", ""],
            ["https://example.com/gone/", "text/html", "410", "Gone", "Non-Indexable", "0.031", ""],
            ["https://example.com/boom/", "text/html", "500", "", "Non-Indexable", "1.5", ""],
            ["https://example.com/moved/", "", "301", "Moved Permanently", "Non-Indexable", "0.000", ""],
        ],
    )
    result = import_files(store, [path])[0]
    fields = ("id", "status", "status_code", "http_code", "response_time", "error")
    assert [
        tuple(t.values())[1:] for t in sorted(tasks_by_id(store, result.job_id, fields).values(), key=lambda t: t["id"])
    ] == [
        ("completed", 200, 200, 250, None),
        ("skipped", None, None, None, "Blocked by Robots.txt"),
        ("failed", None, None, None, "Connection Timeout"),
        ("failed", None, None, None, "no response"),
        ("failed", 410, 410, 31, "Gone"),
        ("failed", 500, 500, 1500, "HTTP 500"),
        ("completed", 301, 301, None, None),  # 0.000 s is no measurement: null, never 0
    ]
    assert result.domain == "example.com"


def test_a_response_time_that_is_not_a_number_is_refused_with_its_row(tmp_path, store):
    path = small_export(
        tmp_path,
        [
            ["https://example.com/", "text/html", "200", "OK", "Indexable", "0.25", ""],
            ["https://example.com/a", "text/html", "200", "OK", "Indexable", "fast", ""],
        ],
    )
    with pytest.raises(BadData) as info:
        import_files(store, [path])
    assert str(info.value) == "internal_all.csv: row 2: Response Time 'fast' is not a number of seconds"
    assert job_state(store) == [("tasks stored", 0)]


def test_a_status_code_that_is_not_a_number_is_refused_with_its_row(tmp_path, store):
    path = small_export(tmp_path, [["https://example.com/", "text/html", "OK", "OK", "Indexable", "0.25", ""]])
    with pytest.raises(BadData) as info:
        import_files(store, [path])
    assert str(info.value) == "internal_all.csv: row 1: Status Code 'OK' is not an HTTP status code"


#: A Screaming Frog aggregate: the Overview's Response Times histogram exported as CSV.
HISTOGRAM = """\ufeff"Response Times","URLs","% of Total"
"0s to 1s","3979","95.31%"
"1s to 2s","173","4.14%"
"2s to 3s","23","0.55%"
"3s to 4s","0","0%"
"4s to 5s","0","0%"
"5s or more","0","0%"
"""


def test_an_aggregate_report_is_refused_as_holding_no_per_url_rows(tmp_path, capsys):
    path = tmp_path / "response_times.csv"
    path.write_text(HISTOGRAM, encoding="utf-8")
    code, out, err = cli_import(capsys, tmp_path / "db.duckdb", path)
    assert (code, out) == (1, [])
    assert err == [
        "crawldash: error: response_times.csv: is a Screaming Frog aggregate report (columns: Response Times, "
        "URLs, % of Total): it holds counts, no per-URL rows, so there are no tasks in it. Export Internal: All "
        "(or Response Codes) instead."
    ]
    cli_store(tmp_path / "db.duckdb").close()


def test_an_unknown_csv_names_the_formats_and_the_missing_columns(tmp_path, store):
    path = tmp_path / "other.csv"
    path.write_text("Keyword,Visits\ncrawl dashboard,3\n", encoding="utf-8")
    with pytest.raises(BadData) as info:
        import_files(store, [path])
    message = str(info.value)
    assert message.startswith(
        "other.csv: is not a crawl export we can read (columns: Keyword, Visits). Formats we read: "
    )
    for fmt in ("adapt:", "columns:", "screaming-frog:", "har:"):
        assert fmt in message
    assert message.endswith(
        "For our own columns it lacks url (or path) and status; "
        "for a Screaming Frog export it lacks Address and Status Code."
    )
