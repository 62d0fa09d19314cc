"""`python -m crawldash`: the contract users' cron jobs rely on. Exit codes, one-line messages,
JSON outputs, and the database state read back through the library."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys

import pytest

from conftest import PROJECT, SAMPLE, SAMPLE_JOB
from crawldash import schema
from crawldash.store import Store


def run(*args: str, db=None, env=None) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "crawldash", *args] + (["--db", str(db)] if db else [])
    return subprocess.run(command, cwd=PROJECT, capture_output=True, env=env, timeout=300)


@pytest.fixture(scope="module")
def db(tmp_path_factory):
    path = tmp_path_factory.mktemp("cli") / "cli.duckdb"
    done = run("import", str(SAMPLE), db=path)
    assert done.returncode == 0, done.stderr
    return path


def test_import_prints_one_object_per_job(tmp_path):
    done = run("import", str(SAMPLE), db=tmp_path / "x.duckdb")
    assert done.returncode == 0
    assert [json.loads(line) for line in done.stdout.decode().splitlines()] == [
        {"job_id": SAMPLE_JOB, "domain": "www.example-shop.com", "tasks": 6000, "format": "adapt"}
    ]
    assert b"note:" in done.stderr  # what the import noticed, e.g. second requests stored as 0


def test_jobs_lists_jobs_with_task_counts(db):
    done = run("jobs", db=db)
    jobs = json.loads(done.stdout)
    assert [(j["job_id"], j["tasks"], j["domain"]) for j in jobs] == [(SAMPLE_JOB, 6000, "www.example-shop.com")]


def test_tasks_prints_the_seed_fields_and_pagination(db):
    done = run("tasks", SAMPLE_JOB, "--status", "failed", "--sort", "-response_time", "--limit", "3", db=db)
    assert done.returncode == 0, done.stderr
    body = json.loads(done.stdout)
    assert body["pagination"] == {"limit": 3, "offset": 0, "total": 180, "has_next": True, "has_prev": False}
    assert [list(t) for t in body["tasks"]] == [[*schema.TASK_FIELDS, "http_code"]] * 3
    times = [t["response_time"] for t in body["tasks"]]
    assert times == sorted(times, reverse=True) and all(t["status"] == "failed" for t in body["tasks"])


def test_limit_out_of_range_is_clamped_and_said(db):
    done = run("tasks", SAMPLE_JOB, "--limit", "5000", db=db)
    assert done.returncode == 0
    assert json.loads(done.stdout)["pagination"]["limit"] == 200
    assert done.stderr.decode() == "crawldash: note: limit 5000 is above the maximum: showing 200 per page\n"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("tasks", SAMPLE_JOB, "--sort", "bogus"), "sort 'bogus' is not valid: expected one of path,"),
        (("tasks", SAMPLE_JOB, "--status", "done"), "status 'done' is not valid"),
        (("tasks", SAMPLE_JOB, "--cache", "warm"), "cache 'warm' is not valid: expected hit or miss"),
        (("tasks", SAMPLE_JOB, "--status-code", "abc"), "status_code 'abc' is not valid"),
        (("tasks", SAMPLE_JOB, "--limit", "many"), "limit 'many' is not valid"),
        (("tasks", "no-such-job"), "no job 'no-such-job' in the database"),
        (("export", SAMPLE_JOB, "--type", "everything"), "--type 'everything' is not valid"),
        (("export", SAMPLE_JOB, "--format", "pdf"), "--format 'pdf' is not valid"),
        (("import", "missing-file.json"), "FILE 'missing-file.json' is not valid: expected a file that exists"),
        (("frobnicate",), "invalid choice: 'frobnicate'"),
        (("tasks",), "the following arguments are required: JOB_ID"),
        (("export", SAMPLE_JOB, "-o", "report.parquet"), "-o 'report.parquet' is not valid: expected a .csv, .json"),
        (("export", SAMPLE_JOB, "-o", "/no/such/folder/x.csv"), "a file in a folder that exists"),
        (("import", str(SAMPLE), "--job-id", "bad id/x"), "job id 'bad id/x' is not valid"),
    ],
)
def test_bad_arguments_exit_2_with_one_line(db, args, message):
    done = run(*args, db=db)
    assert done.returncode == 2
    err = done.stderr.decode()
    assert message in err and err.count("\n") == 1 and "Traceback" not in err
    assert done.stdout == b""


def test_bad_data_exits_1_with_one_line_and_changes_nothing(db, tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text('{"status": "success", "data": {"tasks": [{"url": "https://x/"')
    done = run("import", str(bad), db=db)
    assert done.returncode == 1
    assert done.stderr.decode().startswith("crawldash: error: bad.json: the JSON ends too early")
    assert done.stderr.count(b"\n") == 1
    assert [(j["job_id"], j["tasks"]) for j in json.loads(run("jobs", db=db).stdout)] == [(SAMPLE_JOB, 6000)]


def test_export_to_stdout_and_to_a_file(db, tmp_path):
    done = run("export", SAMPLE_JOB, "--type", "broken-links", db=db)
    rows = list(csv.reader(io.StringIO(done.stdout.decode("utf-8-sig"))))
    assert rows[0][:2] == ["Found on", "Broken link"] and len(rows) == 181
    target = tmp_path / "slow.xlsx"
    done = run("export", SAMPLE_JOB, "--type", "slow-pages", "-o", str(target), db=db)
    assert done.returncode == 0 and target.read_bytes()[:2] == b"PK"  # the format follows the extension
    assert b"75 tasks exported" in done.stderr
    assert not (tmp_path / "slow.xlsx.part").exists()


def test_stats_prints_the_kpis(db):
    body = json.loads(run("stats", SAMPLE_JOB, db=db).stdout)
    assert {
        "tasks",
        "status",
        "cache_status",
        "cache_hit_rate",
        "effective_response_time_ms",
        "slow_pages",
        "broken",
        "warmed",
        "time_saved_ms",
    } <= set(body)
    assert body["tasks"] == 6000 and body["cache_status"]["none"] > 0
    assert set(body["effective_response_time_ms"]) >= {"p50", "p90", "p95", "p99", "mean"}


def test_sample_writes_each_format(tmp_path):
    for fmt in ("adapt", "parquet", "csv"):
        out = tmp_path / f"s.{fmt}"
        done = run("sample", "-o", str(out), "--tasks", "300", "--jobs", "2", "--seed", "5", "--format", fmt)
        assert done.returncode == 0, done.stderr
        assert [json.loads(line)["tasks"] for line in done.stdout.splitlines()] == [300, 300]
        store = Store(":memory:")
        from crawldash.importers import import_files

        assert [r.tasks for r in import_files(store, [out])] == [300, 300]


def test_a_database_in_use_by_another_process_gives_a_clear_message(db, tmp_path):
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            f"import duckdb, time; c = duckdb.connect({str(db)!r}); print('ok', flush=True); time.sleep(30)",
        ],
        stdout=subprocess.PIPE,
    )
    try:
        assert holder.stdout.readline() == b"ok\n"
        done = run("jobs", db=db)
        assert done.returncode == 1
        assert b"is in use by another process" in done.stderr and done.stderr.count(b"\n") == 1
    finally:
        holder.kill()
        holder.wait()


def test_reading_commands_never_create_a_database(tmp_path):
    missing = tmp_path / "typo" / "x.duckdb"
    for args in (("jobs",), ("tasks", SAMPLE_JOB), ("stats", SAMPLE_JOB), ("export", SAMPLE_JOB)):
        done = run(*args, db=missing)
        assert done.returncode == 2 and b"expected an existing database" in done.stderr
    assert not missing.parent.exists()


def test_sample_refuses_a_folder_that_does_not_exist(tmp_path):
    done = run("sample", "-o", str(tmp_path / "none" / "s.json"))
    assert done.returncode == 2 and done.stderr.count(b"\n") == 1 and b"a file in a folder that exists" in done.stderr


def test_a_db_that_is_a_folder_or_not_a_database_is_refused_and_left_alone(tmp_path):
    crawl = tmp_path / "crawl.csv"
    crawl.write_bytes(REALISH_CSV)
    for target, message in ((tmp_path, b"a database file, not a folder"), (crawl, b"is not a DuckDB database")):
        for args in (("import", str(SAMPLE)), ("jobs",)):
            done = run(*args, db=target)
            assert done.returncode == 2 and message in done.stderr and done.stderr.count(b"\n") == 1, done.stderr
            assert done.stdout == b""
    assert crawl.read_bytes() == REALISH_CSV
    env = {**os.environ, "CRAWLDASH_DB": str(crawl)}
    done = run("jobs", env=env)
    assert done.returncode == 2 and b"CRAWLDASH_DB" in done.stderr


REALISH_CSV = b"url,status\nhttps://example.com/,completed\n"


def test_sample_takes_its_format_from_the_file_name(tmp_path):
    out = tmp_path / "s.parquet"
    assert run("sample", "-o", str(out), "--tasks", "20").returncode == 0
    assert out.read_bytes()[:4] == b"PAR1"
    done = run("sample", "-o", str(tmp_path / "t.parquet"), "--format", "csv")
    assert done.returncode == 2 and b"fits --format csv (this one says parquet)" in done.stderr
    assert not (tmp_path / "t.parquet").exists()
