"""Export Task Results: the three types, their labelled columns, the 10,000 cap stated, CSV that a
spreadsheet opens as text, JSON in the original's shape, XLSX."""

from __future__ import annotations

import csv
import io
import json
import re

import openpyxl
import pytest

from conftest import SAMPLE_JOB, load, task
from crawldash import schema
from crawldash.export import export_bytes
from crawldash.importers import import_records
from crawldash.sample import generate_job

JOB_LABELS = [
    "Task ID",
    "Job ID",
    "Page path",
    "Page URL",
    "Content Type",
    "Status",
    "Cache Status",
    "Status Code",
    "Load Time (ms)",
    "Second Cache Status",
    "Load Response Time (ms)",
    "Retry Count",
    "Error",
    "Source",
    "Source page",
    "Created At",
    "Started At",
    "Completed At",
]
VIEWS = ["Views (7d)", "Views (28d)", "Views (180d)"]


def read_csv(body: bytes) -> list[list[str]]:
    assert body.startswith(b"\xef\xbb\xbf")  # a BOM: spreadsheets read the UTF-8 right
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))


def test_csv_columns_and_labels_per_type(sample_store):
    expected = {
        "job": JOB_LABELS + VIEWS,
        "broken-links": ["Found on", "Broken link", "Status", "Date", "Source Type", "HTTP code", "Error"] + VIEWS,
        "slow-pages": ["Page", "Content Type", "Cache Status", "Load Time (ms)", "Load Time 2nd try (ms)", "Date"]
        + VIEWS,
    }
    kpis = {"job": 6000, "broken-links": 180, "slow-pages": 75}
    for export_type, labels in expected.items():
        body, info = export_bytes(sample_store, SAMPLE_JOB, export_type, "csv")
        rows = read_csv(body)
        assert rows[0] == labels, export_type
        assert len(rows) - 1 == info.exported == info.matched == kpis[export_type]
        assert not info.truncated


def test_views_columns_only_when_the_job_has_analytics(store):
    load(store, [task(1), task(2, status="failed")])
    for export_type in schema.EXPORT_TYPES:
        body, _ = export_bytes(store, "job-1", export_type, "csv")
        assert not set(VIEWS) & set(read_csv(body)[0])


def test_formula_like_cells_open_as_text(store):
    dangerous = ['=HYPERLINK("http://evil")', "+1+1", "-2+3", "@SUM(A1)", "\tTAB", "\rCR"]
    load(store, [task(i, status="failed", error=text, path=f"/p{i}") for i, text in enumerate(dangerous)])
    body, _ = export_bytes(store, "job-1", "broken-links", "csv")
    rows = read_csv(body)
    errors = [r[rows[0].index("Error")] for r in rows[1:]]
    assert sorted(errors) == sorted("'" + t for t in dangerous)
    assert all(cell[:1] not in "=+-@\t\r" for row in rows[1:] for cell in row if cell)
    xlsx, _ = export_bytes(store, "job-1", "broken-links", "xlsx")
    sheet = openpyxl.load_workbook(io.BytesIO(xlsx)).worksheets[0]
    # openpyxl leaves XML escapes such as _x000D_ (a carriage return) as they are; Excel reads them.
    column = [re.sub(r"_x([0-9A-F]{4})_", lambda m: chr(int(m[1], 16)), c.value) for c in sheet["G"]][1:]
    assert sorted(column) == sorted(dangerous)  # stored as strings, never as formulas
    assert all(c.data_type == "s" for c in sheet["G"][1:])


def test_json_has_the_original_export_shape(sample_store):
    body, _info = export_bytes(sample_store, SAMPLE_JOB, "broken-links", "json")
    doc = json.loads(body)
    assert doc["status"] == "success" and set(doc) == {"status", "data", "message", "request_id"}
    data = doc["data"]
    assert {
        "job_id",
        "domain",
        "status",
        "created_at",
        "completed_at",
        "export_type",
        "export_time",
        "total_tasks",
        "columns",
        "tasks",
    } <= set(data)
    assert data["export_type"] == "broken-links" and data["total_tasks"] == len(data["tasks"]) == 180
    assert data["columns"][0] == {"key": "source_url", "label": "Found on"}
    assert set(data["tasks"][0]) == set(schema.TASK_FIELDS)
    assert data["export_time"].endswith("Z") and data["tasks"][0]["created_at"].endswith("Z")
    created = [t["created_at"] for t in data["tasks"]]
    assert created == sorted(created, reverse=True)  # newest first


def test_xlsx_holds_the_rows_and_says_what_it_holds(sample_store):
    body, info = export_bytes(sample_store, SAMPLE_JOB, "slow-pages", "xlsx")
    book = openpyxl.load_workbook(io.BytesIO(body))
    rows = list(book.worksheets[0].values)
    assert list(rows[0]) == [
        "Page",
        "Content Type",
        "Cache Status",
        "Load Time (ms)",
        "Load Time 2nd try (ms)",
        "Date",
        *VIEWS,
    ]
    assert len(rows) - 1 == info.exported == 75
    assert all(isinstance(r[3], int) for r in rows[1:])
    about = dict(book["About"].values)
    assert about["Tasks matched"] == 75 and about["Tasks exported"] == 75


@pytest.fixture(scope="module")
def big_store():
    from crawldash.store import Store

    store = Store(":memory:")
    job = generate_job(seed=3, tasks=10_050)
    import_records(store, job.table.to_pylist(), job_id="big")
    return store


def test_the_cap_cuts_at_10000_newest_and_says_so(big_store):
    body, info = export_bytes(big_store, "big", "job", "csv")
    assert (info.matched, info.exported, info.truncated) == (10_050, 10_000, True)
    assert len(read_csv(body)) == 10_001
    assert "10,050 tasks matched" in info.note() and "cut at 10,000" in info.note()
    doc = json.loads(export_bytes(big_store, "big", "job", "json")[0])["data"]
    assert (doc["total_tasks"], doc["matched_tasks"], doc["truncated"]) == (10_000, 10_050, True)
    with big_store.snapshot() as cur:
        oldest_kept = cur.execute(
            "SELECT min(created_at) FROM (SELECT created_at FROM tasks ORDER BY created_at DESC LIMIT 10000)"
        ).fetchall()[0][0]
    assert min(t["created_at"] for t in doc["tasks"]) == oldest_kept.strftime("%Y-%m-%dT%H:%M:%S.%fZ").replace(
        ".000000Z", "Z"
    )
    xlsx = openpyxl.load_workbook(io.BytesIO(export_bytes(big_store, "big", "job", "xlsx")[0]))
    assert xlsx.worksheets[0].max_row == 10_001
    assert dict(xlsx["About"].values)["Tasks matched"] == 10_050


def test_filters_apply_on_top_of_the_type(sample_store):
    from crawldash.query import Filters

    _, info = export_bytes(sample_store, SAMPLE_JOB, "job", "csv", Filters(status="failed", path="blog"))
    from crawldash.query import list_tasks

    assert info.exported == list_tasks(sample_store, SAMPLE_JOB, Filters(status="failed", path="blog")).total > 0


def test_xlsx_cells_equal_the_json_export_value_for_value(sample_store):
    """Every cell of the XLSX is the task's value: text as text, numbers as numbers, times as UTC
    datetimes, missing values as empty cells; its XML parts are well-formed."""
    from datetime import UTC, datetime
    from xml.etree import ElementTree
    from zipfile import ZipFile

    body, info = export_bytes(sample_store, SAMPLE_JOB, "job", "xlsx")
    with ZipFile(io.BytesIO(body)) as package:
        for name in package.namelist():
            ElementTree.fromstring(package.read(name))  # raises on malformed XML
    doc = json.loads(export_bytes(sample_store, SAMPLE_JOB, "job", "json")[0])["data"]
    sheet = openpyxl.load_workbook(io.BytesIO(body)).worksheets[0]
    rows = list(sheet.values)
    assert list(rows[0]) == [c["label"] for c in doc["columns"]]
    assert len(rows) - 1 == len(doc["tasks"]) == info.exported
    keys = [c["key"] for c in doc["columns"]]
    for got, exported in zip(rows[1:], doc["tasks"], strict=True):
        for key, value in zip(keys, got, strict=True):
            expected = exported.get(key)
            if key in schema.COLUMNS and schema.COLUMNS[key].kind == schema.TIMESTAMP and expected:
                stamp = datetime.fromisoformat(expected.replace("Z", "+00:00")).astimezone(UTC)
                assert value is not None and abs(value - stamp.replace(tzinfo=None)).total_seconds() < 0.001
            else:
                assert value == expected, (key, value, expected)
    last = sheet.cell(1, len(keys)).column_letter
    assert sheet.freeze_panes == "A2" and sheet.auto_filter.ref == f"A1:{last}{len(rows)}"


def test_xlsx_keeps_markup_and_escape_like_text_as_it_is(store):
    texts = ["a < b & c > d", "_x0041_ stays", "tab\tand\nnewline", "bell\x07", "ünïcødé ✓"]
    load(store, [task(i, status="failed", error=text, path=f"/p{i}") for i, text in enumerate(texts)])
    body, _ = export_bytes(store, "job-1", "broken-links", "xlsx")
    sheet = openpyxl.load_workbook(io.BytesIO(body)).worksheets[0]
    column = [c.value for c in sheet["G"]][1:]
    # Excel decodes _xHHHH_ escapes on reading; openpyxl leaves them, so decode them here as Excel does.
    decoded = [re.sub(r"_x([0-9A-F]{4})_", lambda m: chr(int(m[1], 16)), c) for c in column]
    assert sorted(decoded) == sorted(texts)
