"""The original API's JSON in every shape SPEC lists; our exports read back; bad input refused
with the database left exactly as it was."""

from __future__ import annotations

import io
import json

import pytest

from conftest import SAMPLE, SAMPLE_JOB, job_state, task, write_json
from crawldash import export as export_mod
from crawldash import schema
from crawldash.errors import BadData, InvalidParameter
from crawldash.importers import import_files
from crawldash.query import Sort, list_tasks

TASKS = [
    task(
        1,
        path="/",
        url="https://example.com/",
        status_code=200,
        response_time=120,
        cache_status="HIT",
        second_response_time=0,
        retry_count=0,
        source_type="sitemap",
    ),
    task(
        2,
        path="/blog/x",
        url="https://example.com/blog/x",
        status="failed",
        error="Not Found",
        response_time=5000,
        cache_status="",
        second_response_time=0,
        source_type="link_crawl",
        source_url="https://example.com/",
        created_at="2026-01-05T09:30:01.5Z",
    ),
    task(
        3,
        path="/shop",
        url="https://shop.example.com/shop",
        status_code=200,
        response_time=4000,
        cache_status="miss, hit",
        second_response_time=300,
        second_cache_status="HIT",
        created_at="2026-01-05T09:30:02",
        page_views_7d=0,
        page_views_28d=4,
        page_views_180d=9,
    ),
]


def stored(store, job_id="job-1") -> dict[str, dict]:
    with store.snapshot() as cur:
        job_key = cur.execute("SELECT job_key FROM jobs WHERE job_id = ?", [job_id]).fetchall()[0][0]
        cols = ", ".join(schema.TASK_FIELDS)
        rows = cur.execute(f"SELECT {cols} FROM tasks WHERE job_key = ? ORDER BY id", [job_key]).fetchall()
    return {r[0]: dict(zip(schema.TASK_FIELDS, r, strict=True)) for r in rows}


def envelope(tasks, **data) -> dict:
    body = {
        "job_id": "job-1",
        "domain": "example.com",
        "status": "completed",
        "export_type": "job",
        "export_time": "2026-01-06T00:00:00Z",
        "total_tasks": len(tasks or []),
        "tasks": tasks,
        **data,
    }
    return {"status": "success", "data": body, "message": "ok", "request_id": "r-1"}


def test_export_envelope_imports_with_spec_normalisation(store, tmp_path):
    [result] = import_files(store, [write_json(tmp_path / "export.json", envelope(TASKS))])
    assert (result.job_id, result.domain, result.tasks, result.format) == ("job-1", "example.com", 3, "adapt")
    rows = stored(store)
    assert rows["t001"]["second_response_time"] is None  # 0 means no second request
    assert rows["t002"]["cache_status"] is None  # "" is no value
    assert rows["t002"]["source_type"] == "link"  # the seed's link_crawl
    assert rows["t002"]["status_code"] is None  # kept missing, never 0
    assert rows["t003"]["cache_status"] == "HIT"  # the tier nearest the client
    assert rows["t003"]["host"] == "shop.example.com"
    assert rows["t003"]["page_views_7d"] == 0 and rows["t001"]["page_views_7d"] is None
    assert rows["t002"]["created_at"].isoformat() == "2026-01-05T09:30:01.500000+00:00"
    assert rows["t003"]["created_at"].isoformat() == "2026-01-05T09:30:02+00:00"  # no zone: UTC
    assert "1 timestamp had no time zone and were taken as UTC" in result.notes


def test_bare_data_object_imports(store, tmp_path):
    [result] = import_files(store, [write_json(tmp_path / "data.json", envelope(TASKS)["data"])])
    assert (result.job_id, result.tasks) == ("job-1", 3)


def test_web_app_download_imports_with_empty_strings_as_no_value(store, tmp_path):
    columns = schema.export_columns("job", True)
    rows = [{key: ("" if t.get(key) is None else t[key]) for key, _ in columns} for t in TASKS]
    download = {
        "meta": {"job_id": "job-web", "export_time": "2026-01-06T00:00:00Z", "export_type": "job"},
        "columns": [label for _, label in columns],
        "tasks": rows,
    }
    path = tmp_path / "download.json"
    path.write_text(json.dumps(download, indent=2))
    [result] = import_files(store, [path])
    assert (result.job_id, result.tasks) == ("job-web", 3)
    got = stored(store, "job-web")
    assert got["t001"]["status_code"] == 200 and got["t002"]["status_code"] is None
    assert got["t002"]["error"] == "Not Found" and got["t001"]["error"] is None


def test_broken_links_download_without_ids_gets_stable_ids(store, tmp_path):
    columns = schema.export_columns("broken-links", False)
    rows = [{key: ("" if t.get(key) is None else t[key]) for key, _ in columns} for t in TASKS[1:2]]
    download = {"meta": {"job_id": "job-b"}, "columns": [label for _, label in columns], "tasks": rows}
    path = write_json(tmp_path / "broken.json", download)
    import_files(store, [path])
    first = list(stored(store, "job-b"))
    import_files(store, [path])
    assert list(stored(store, "job-b")) == first == ["row-0000001"]


def test_list_tasks_pages_as_array_and_as_lines_make_one_job(store, tmp_path):
    pages = [
        {
            "status": "success",
            "data": {
                "tasks": [dict(t, job_id="job-p") for t in TASKS[:2]],
                "pagination": {"limit": 2, "offset": 0, "total": 3, "has_next": True},
            },
        },
        {
            "status": "success",
            "data": {
                "tasks": [dict(t, job_id="job-p") for t in TASKS[2:]],
                "pagination": {"limit": 2, "offset": 2, "total": 3, "has_next": False},
            },
        },
    ]
    [as_array] = import_files(store, [write_json(tmp_path / "pages.json", pages)])
    lines = tmp_path / "pages.jsonl"
    lines.write_text("\n".join(json.dumps(p) for p in pages))
    [as_lines] = import_files(store, [lines])
    assert as_array.tasks == as_lines.tasks == 3
    assert len(store.jobs()) == 1


def test_pages_in_separate_files_of_one_command_make_one_job(store, tmp_path):
    one = write_json(tmp_path / "p1.json", {"data": {"tasks": [dict(TASKS[0], job_id="j")]}})
    two = write_json(tmp_path / "p2.json", {"data": {"tasks": [dict(TASKS[1], job_id="j")]}})
    [result] = import_files(store, [one, two])
    assert result.tasks == 2


def test_null_tasks_and_absent_keys(store, tmp_path):
    with pytest.raises(BadData, match="holds no tasks"):
        import_files(store, [write_json(tmp_path / "empty.json", envelope(None))])
    minimal = write_json(tmp_path / "minimal.json", {"tasks": [{"url": "https://example.com/a", "status": "pending"}]})
    [result] = import_files(store, [minimal])
    assert result.tasks == 1 and result.domain == "example.com"


def test_repeated_ids_keep_the_last_and_say_so(store, tmp_path):
    pages = [
        {"data": {"tasks": [dict(TASKS[0], job_id="j", response_time=1)]}},
        {"data": {"tasks": [dict(TASKS[0], job_id="j", response_time=2)]}},
    ]
    [result] = import_files(store, [write_json(tmp_path / "dup.json", pages)])
    assert result.tasks == 1
    assert stored(store, "j")["t001"]["response_time"] == 2
    assert "1 row repeated a task id; the last of each was kept" in result.notes


def test_compact_and_pretty_files_give_the_same_tasks(store, tmp_path):
    tricky = dict(TASKS[1], id="t009", error='},{"id":"evil"} and a "quote"')  # "},{" inside a text
    body = envelope([*TASKS, tricky])
    compact = tmp_path / "compact.json"
    compact.write_text(json.dumps(body, separators=(",", ":")))
    import_files(store, [compact])
    fast = stored(store)
    pretty = tmp_path / "pretty.json"
    pretty.write_text(json.dumps(body, indent=2))
    import_files(store, [pretty])
    assert stored(store) == fast
    assert fast["t009"]["error"] == '},{"id":"evil"} and a "quote"'


def test_compact_file_with_text_numbers_takes_the_careful_path(store, tmp_path):
    body = envelope([dict(TASKS[0], status_code="301", response_time="")])
    path = tmp_path / "strings.json"
    path.write_text(json.dumps(body, separators=(",", ":")))
    import_files(store, [path])
    row = stored(store)["t001"]
    assert (row["status_code"], row["response_time"]) == (301, None)


def test_export_json_round_trip_gives_the_same_tasks(sample_store, store):
    out = io.BytesIO()
    export_mod.write_export(sample_store, SAMPLE_JOB, out, "job", "json")
    path = SAMPLE.parent / "round-trip.json"  # not kept: removed below
    try:
        path.write_bytes(out.getvalue())
        import_files(store, [path])
    finally:
        path.unlink()
    assert stored(store, SAMPLE_JOB) == stored(sample_store, SAMPLE_JOB)


def test_csv_export_reads_back_as_our_columns(sample_store, store, tmp_path):
    path = tmp_path / "job.csv"
    with open(path, "wb") as out:
        export_mod.write_export(sample_store, SAMPLE_JOB, out, "job", "csv")
    [result] = import_files(store, [path])
    assert result.format == "columns" and result.tasks == 6000
    assert stored(store, SAMPLE_JOB) == stored(sample_store, SAMPLE_JOB)


def test_importing_an_existing_job_replaces_it(store, tmp_path):
    import_files(store, [write_json(tmp_path / "a.json", envelope(TASKS))])
    import_files(store, [write_json(tmp_path / "b.json", envelope(TASKS[:1]))])
    assert [(j.job_id, j.task_count) for j in store.jobs()] == [("job-1", 1)]
    assert list_tasks(store, "job-1", sort=Sort.parse("path")).total == 1


def test_job_id_option_renames_and_needs_one_job(store, tmp_path):
    [result] = import_files(store, [write_json(tmp_path / "a.json", envelope(TASKS))], job_id="renamed")
    assert result.job_id == "renamed" and store.job("renamed").task_count == 3
    two = [envelope(TASKS[:1]), envelope([dict(TASKS[1], job_id="other")], job_id="other")]
    with pytest.raises(InvalidParameter, match="a single job, but the files hold 2 jobs"):
        import_files(store, [write_json(tmp_path / "two.json", two)], job_id="x")


BAD_INPUTS = {
    "empty.json": (b"", "is empty; expected a crawl export"),
    "truncated.json": (json.dumps(envelope(TASKS)).encode()[:300], "the JSON ends too early"),
    "other.json": (b'{"name": "not a crawl", "items": [1, 2]}', "JSON of another shape"),
    "random.bin": (bytes(range(256)) * 40, "not a text file we can read"),
    "nocols.csv": (b"url,title\nhttps://example.com/,Home\n", "lacks status"),
    "nourl.csv": (b"status,title\ncompleted,Home\n", "lacks url (or path)"),
    "error.json": (b'{"status": "error", "message": "Job not found"}', "API error response (Job not found)"),
    "badtime.json": (
        json.dumps({"tasks": [dict(TASKS[0], created_at="yesterday")]}).encode(),
        "task 1: created_at 'yesterday' is not an ISO 8601 timestamp",
    ),
    "badnumber.csv": (
        b"url,status,response_time\nhttps://e.com/,completed,12\nhttps://e.com/b,completed,fast\n",
        "row 2: response_time 'fast' is not a number",
    ),
    "nostatus.json": (json.dumps({"tasks": [dict(TASKS[0], status="")]}).encode(), "task 1: no status"),
    "badstatus.csv": (
        b"url,status\nhttps://e.com/,Completed\nhttps://e.com/b,DONE\n",
        "row 2: status 'DONE' is not one of pending, running, completed, failed, waiting, skipped",
    ),
}


@pytest.mark.parametrize("name", sorted(BAD_INPUTS))
def test_bad_input_is_refused_clearly_and_changes_nothing(store, tmp_path, name):
    import_files(store, [write_json(tmp_path / "good.json", envelope(TASKS))])
    before = job_state(store)
    content, message = BAD_INPUTS[name]
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(BadData) as caught:
        import_files(store, [path])
    assert message in str(caught.value)
    assert str(caught.value).startswith(name)
    assert "\n" not in str(caught.value)
    assert job_state(store) == before


def test_a_bad_file_among_good_ones_imports_none_of_them(store, tmp_path):
    good = write_json(tmp_path / "new.json", envelope(TASKS, job_id="new"))
    bad = tmp_path / "bad.json"
    bad.write_bytes(b'{"tasks": [{"url": "https://e.com/", "status": "completed"}')
    before = job_state(store)
    with pytest.raises(BadData):
        import_files(store, [good, bad])
    assert job_state(store) == before
