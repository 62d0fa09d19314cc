"""The live API pull against a local server that speaks the API's contract: every page, retries
with the waits asked for, clear refusals, the database unchanged by a failed pull, the token kept secret."""

from __future__ import annotations

import email.utils
import json
import logging
import os
import re
import socket
import subprocess
import sys
import tempfile
import threading
import urllib.parse
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from conftest import PROJECT, job_state, load, task
from crawldash import cli
from crawldash.errors import (
    ApiUnavailable,
    BadData,
    BadToken,
    FetchError,
    InvalidParameter,
    NotTheApi,
    RemoteJobNotFound,
    TokenRefused,
)
from crawldash.fetch import api_base, fetch_job, retry_after_seconds, sent_in_clear
from crawldash.store import Store

TOKEN = "tok-7Qm2-SECRET-x91f4e0b"
JOB = "job-1"
PROXY_VARIABLES = ("http_proxy", "https_proxy", "all_proxy", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY")


def api_task(n: int) -> dict:
    """Task n as the API's TaskResponse sends it (omitempty: absent pointers are left out)."""
    return {
        "id": f"t{n:04d}",
        "job_id": JOB,
        "path": f"/p{n}",
        "url": f"https://example.com/p{n}",
        "status": "completed",
        "status_code": 200,
        "response_time": 100 + n,
        "cache_status": "HIT" if n % 2 else "MISS",
        "created_at": "2026-01-05T09:30:00Z",
        "retry_count": 0,
    }


# --- the fake API ---------------------------------------------------------------------------------------


class Api:
    """The API's List Tasks on loopback, with a plan of misbehaviour per offset (consumed in order)."""

    def __init__(self, tasks: int = 450):
        self.jobs: dict[str, list[dict]] = {JOB: [api_task(n) for n in range(tasks)]}
        self.plan: dict[int, list] = {}
        self.requests: list[dict] = []
        self.release = threading.Event()  # ends any deliberately slow answer at teardown
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.server.api = self
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def offsets(self) -> list[int]:
        return [r["offset"] for r in self.requests]

    def close(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


def _send(handler, status: int, body: bytes, content_type: str = "application/json", headers=None) -> None:
    handler.send_response(status)
    handler.send_header("Content-Type", content_type)
    handler.send_header("Content-Length", str(len(body)))
    for key, value in (headers or {}).items():
        handler.send_header(key, value)
    handler.end_headers()
    handler.wfile.write(body)


def error_body(status: int, message: str, code: str) -> bytes:
    """The API's ErrorResponse."""
    return json.dumps({"status": status, "message": message, "code": code, "request_id": "req-1"}).encode()


def answer(status: int, body: bytes | str | dict, content_type: str = "application/json", headers=None):
    if isinstance(body, dict):
        body = json.dumps(body)
    data = body.encode() if isinstance(body, str) else body
    return lambda handler: _send(handler, status, data, content_type, headers)


def drop_before_answer(handler) -> None:
    handler.close_connection = True
    handler.connection.shutdown(socket.SHUT_RDWR)


def drop_mid_answer(handler) -> None:
    body = handler.page_body()
    handler.send_response(200)
    handler.send_header("Content-Type", "application/json")
    handler.send_header("Content-Length", str(len(body)))
    handler.end_headers()
    handler.wfile.write(body[: len(body) // 2])
    handler.wfile.flush()
    handler.close_connection = True
    handler.connection.shutdown(socket.SHUT_RDWR)


def slow(seconds: float):
    def act(handler) -> None:
        handler.server.api.release.wait(seconds)
        handler.serve_default()

    return act


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, format, *args) -> None:  # quiet
        pass

    def do_GET(self) -> None:
        api = self.server.api
        url = urllib.parse.urlsplit(self.path)
        query = urllib.parse.parse_qs(url.query)
        offset = int(query.get("offset", ["0"])[0])
        api.requests.append(
            {"path": url.path, "query": url.query, "offset": offset, "auth": self.headers.get("Authorization")}
        )
        plan = api.plan.get(offset)
        if plan:
            plan.pop(0)(self)
        else:
            self.serve_default()

    def serve_default(self) -> None:
        """What the real API does: its router, its auth check, its job lookup, its page."""
        match = re.fullmatch(r"/v1/jobs/([^/]+)/tasks", urllib.parse.urlsplit(self.path).path)
        if match is None:
            _send(self, 404, b"404 page not found\n", "text/plain; charset=utf-8")  # Go's mux
        elif self.headers.get("Authorization") != f"Bearer {TOKEN}":
            _send(self, 401, error_body(401, "Authentication required", "UNAUTHORISED"))
        elif urllib.parse.unquote(match.group(1)).lower() not in self.server.api.jobs:
            _send(self, 404, error_body(404, "Job not found", "NOT_FOUND"))
        else:
            _send(self, 200, self.page_body())

    def page_body(self) -> bytes:
        url = urllib.parse.urlsplit(self.path)
        query = urllib.parse.parse_qs(url.query)
        limit = int(query.get("limit", ["50"])[0])
        limit = limit if 0 < limit <= 200 else 50
        offset = int(query.get("offset", ["0"])[0])
        job = urllib.parse.unquote(url.path.split("/")[3]).lower()
        tasks = self.server.api.jobs.get(job, [])
        data = {
            "tasks": tasks[offset : offset + limit],
            "pagination": {
                "limit": limit,
                "offset": offset,
                "total": len(tasks),
                "has_next": offset + limit < len(tasks),
                "has_prev": offset > 0,
            },
        }
        envelope = {"status": "success", "data": data, "message": "Tasks retrieved successfully", "request_id": "r1"}
        return json.dumps(envelope).encode()


@pytest.fixture(autouse=True)
def no_proxies(monkeypatch):
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def pull_tmp(tmp_path, monkeypatch) -> Path:
    """The temporary directory pulls download into (checked for leftovers and for the token)."""
    where = tmp_path / "tmp"
    where.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(where))
    return where


@pytest.fixture
def api():
    server = Api()
    yield server
    server.close()


@pytest.fixture
def loaded(store):
    """A store holding job-1 (2 tasks, to be replaced) and another job (1 task, never touched)."""
    load(store, [task(1), task(2)], job_id=JOB)
    load(store, [task(9)], job_id="other")
    return store


class Waits(list):
    """A `sleep` that records the waits asked for instead of waiting."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def pull(store, base, job=JOB, **kw):
    kw.setdefault("sleep", Waits())
    return fetch_job(store, base, job, TOKEN, **kw)


def failing(store, base, error, job=JOB, **kw):
    """Run a pull that must fail with `error`; the message, with the database unchanged and no token shown."""
    before = job_state(store)
    with pytest.raises(error) as caught:
        pull(store, base, job, **kw)
    assert job_state(store) == before
    assert TOKEN not in str(caught.value) and TOKEN not in repr(caught.value)
    return str(caught.value)


# --- the pull --------------------------------------------------------------------------------------------


def test_pull_reads_every_page_and_stores_the_job(store, api, pull_tmp):
    progress = []
    result = pull(store, api.base, progress=lambda f, m: progress.append((round(f, 4), m)))
    assert result.as_dict() == {"job_id": JOB, "domain": "example.com", "tasks": 450, "format": "adapt"}
    assert result.notes == ()
    assert [(r["path"], r["query"], r["auth"]) for r in api.requests] == [
        ("/v1/jobs/job-1/tasks", f"limit=200&offset={n}", f"Bearer {TOKEN}") for n in (0, 200, 400)
    ]
    job = store.job(JOB)
    assert (job.task_count, job.source, job.source_format) == (450, f"{api.base}/v1/jobs/job-1/tasks", "adapt")
    with store.snapshot() as cur:
        ids = [r[0] for r in cur.execute("SELECT id FROM tasks ORDER BY id").fetchall()]
        assert cur.execute("SELECT response_time FROM tasks WHERE id = 't0449'").fetchall() == [(549,)]
    assert ids == [f"t{n:04d}" for n in range(450)]
    pages = [p for p in progress if p[1].startswith("page")]
    assert pages == [
        (0.4, "page 1 of 3: 200 of 450 tasks"),
        (0.8, "page 2 of 3: 400 of 450 tasks"),
        (0.9, "page 3 of 3: 450 of 450 tasks"),
    ]
    assert progress[-1] == (1.0, "stored 450 tasks of job job-1")
    fractions = [f for f, _ in progress]
    assert fractions == sorted(fractions)
    assert list(pull_tmp.iterdir()) == []  # the download is gone


def test_pull_of_an_existing_job_replaces_it_and_leaves_other_jobs(loaded, api):
    assert job_state(loaded) == [(JOB, 2), ("other", 1), ("tasks stored", 3)]
    pull(loaded, api.base)
    assert job_state(loaded) == [(JOB, 450), ("other", 1), ("tasks stored", 451)]
    pull(loaded, api.base)  # again: still one job-1
    assert job_state(loaded) == [(JOB, 450), ("other", 1), ("tasks stored", 451)]


def test_job_id_is_url_quoted_and_stored_as_the_api_spells_it(store, api):
    api.jobs["a+b:c"] = [{**api_task(n), "job_id": "a+b:c"} for n in range(3)]
    api.jobs["job-2"] = [{**api_task(n), "job_id": "job-2"} for n in range(5)]
    assert pull(store, api.base, job="a+b:c").tasks == 3
    assert api.requests[-1]["path"] == "/v1/jobs/a%2Bb%3Ac/tasks"
    assert pull(store, api.base, job="JOB-2").job_id == "job-2"  # the server's ids are case-insensitive
    assert sorted(j.job_id for j in store.jobs()) == ["a+b:c", "job-2"]


def test_base_url_with_a_trailing_v1_or_slash_is_the_same_api(store, api):
    assert pull(store, api.base + "/v1/").tasks == 450
    assert api.requests[0]["path"] == "/v1/jobs/job-1/tasks"
    assert store.job(JOB).source == f"{api.base}/v1/jobs/job-1/tasks"


# --- retries ---------------------------------------------------------------------------------------------


def test_429_waits_as_long_as_retry_after_says(store, api):
    api.plan[200] = [
        answer(429, error_body(429, "Too many requests", "RATE_LIMIT_EXCEEDED"), headers={"Retry-After": "3"})
    ]
    waits, progress = Waits(), []
    assert pull(store, api.base, sleep=waits, progress=lambda f, m: progress.append((round(f, 4), m))).tasks == 450
    assert waits == [3.0]
    assert api.offsets() == [0, 200, 200, 400]
    assert (0.4, "page 2: 429 Too Many Requests; retrying in 3 s (attempt 2 of 5)") in progress


def test_429_retry_after_as_an_http_date(store, api):
    when = email.utils.format_datetime(datetime.now(UTC) + timedelta(seconds=20), usegmt=True)
    api.plan[0] = [answer(429, "slow down", "text/plain", {"Retry-After": when})]
    waits = Waits()
    pull(store, api.base, sleep=waits)
    assert len(waits) == 1 and 17 < waits[0] <= 20


def test_500_then_success_backs_off_once(store, api):
    api.plan[0] = [answer(500, error_body(500, "Internal server error", "INTERNAL_ERROR"))]
    waits = Waits()
    assert pull(store, api.base, sleep=waits).tasks == 450
    assert waits == [1.0]
    assert api.offsets() == [0, 0, 200, 400]


def test_retries_are_bounded_and_back_off_exponentially(loaded, api):
    api.plan[200] = [answer(503, "busy", "text/plain")] * 5
    waits = Waits()
    message = failing(loaded, api.base, ApiUnavailable, sleep=waits)
    assert message == (
        f"{api.base}/v1/jobs/job-1/tasks?limit=200&offset=200 still answered 503 Service Unavailable "
        "after 5 attempts; try later"
    )
    assert waits == [1.0, 2.0, 4.0, 8.0]
    assert api.offsets() == [0] + [200] * 5


def test_max_retries_sets_the_number_of_attempts(store, api):
    api.plan[0] = [answer(502, "bad gateway", "text/plain")] * 2
    waits = Waits()
    with pytest.raises(ApiUnavailable, match="after 2 attempts"):
        pull(store, api.base, sleep=waits, max_retries=1)
    assert waits == [1.0]


def test_a_retry_after_too_long_fails_without_waiting(loaded, api):
    api.plan[0] = [answer(429, "later", "text/plain", {"Retry-After": "3600"})]
    waits = Waits()
    message = failing(loaded, api.base, ApiUnavailable, sleep=waits)
    assert message.endswith("answered 429 Too Many Requests and asks to wait 3600 s; try later")
    assert waits == []


@pytest.mark.parametrize("drop", [drop_before_answer, drop_mid_answer], ids=["before-answer", "mid-answer"])
def test_connection_dropped_on_page_2_leaves_the_database_as_it_was(loaded, api, pull_tmp, drop):
    api.plan[200] = [drop] * 5
    waits = Waits()
    message = failing(loaded, api.base, ApiUnavailable, sleep=waits)
    assert message == (
        f"{api.base}/v1/jobs/job-1/tasks?limit=200&offset=200: the connection was dropped before the answer "
        "was complete (5 attempts)"
    )
    assert waits == [1.0, 2.0, 4.0, 8.0]
    assert list(pull_tmp.iterdir()) == []


def test_a_connection_dropped_once_is_retried(store, api):
    api.plan[200] = [drop_mid_answer]
    waits = Waits()
    assert pull(store, api.base, sleep=waits).tasks == 450
    assert waits == [1.0]


def test_connection_refused_fails_at_once(loaded):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    waits = Waits()
    message = failing(loaded, f"http://127.0.0.1:{port}", ApiUnavailable, sleep=waits)
    assert message == (
        f"http://127.0.0.1:{port}/v1/jobs/job-1/tasks?limit=200&offset=0: cannot connect to 127.0.0.1:{port}: "
        "connection refused (is the API running there, and is the base URL right?)"
    )
    assert waits == []


def test_no_answer_on_the_first_request_fails_at_once(loaded, api):
    api.plan[0] = [slow(5)]
    waits = Waits()
    message = failing(loaded, api.base, ApiUnavailable, sleep=waits, timeout=0.3)
    assert message == f"{api.base}/v1/jobs/job-1/tasks?limit=200&offset=0: no answer within 0.3 s"
    assert waits == []


def test_a_timeout_after_the_api_has_answered_is_retried(store, api):
    api.plan[200] = [slow(5)]
    waits = Waits()
    assert pull(store, api.base, sleep=waits, timeout=0.3).tasks == 450
    assert waits == [1.0]


# --- refusals and servers that are not the API ---------------------------------------------------------


def test_wrong_token_is_refused_without_retries(loaded, api):
    before = job_state(loaded)
    with pytest.raises(TokenRefused) as caught:
        fetch_job(loaded, api.base, JOB, "wrong-token-123", sleep=Waits())
    assert str(caught.value) == (
        f"{api.base} refused the request for job 'job-1' (401 Unauthorized: Authentication required): "
        "the token is wrong, expired or has no access to this job"
    )
    assert api.offsets() == [0]
    assert job_state(loaded) == before


def test_403_is_a_refused_token_too(loaded, api):
    api.plan[0] = [answer(403, error_body(403, "Job access denied", "FORBIDDEN"))]
    assert "(403 Forbidden: Job access denied)" in failing(loaded, api.base, TokenRefused)


def test_404_in_the_api_shape_is_no_such_job(loaded, api):
    message = failing(loaded, api.base, RemoteJobNotFound, job="nope")
    assert message == f"no job 'nope' at {api.base} (404 Not Found: Job not found)"


def test_404_from_another_server_is_not_the_api(loaded, api):
    message = failing(loaded, api.base + "/wrong", NotTheApi)
    assert message == (
        f"{api.base}/wrong/v1/jobs/job-1/tasks?limit=200&offset=0 does not exist (404, text/plain; "
        f"charset=utf-8): is {api.base}/wrong the API's address (the part before /v1)?"
    )


def test_an_html_page_is_not_the_api(loaded, api):
    page = "<!doctype html><html><head><title>Welcome to\n nginx!</title></head><body>hi</body></html>"
    api.plan[0] = [answer(200, page, "text/html")]
    message = failing(loaded, api.base, NotTheApi)
    assert message == (
        f"{api.base}/v1/jobs/job-1/tasks?limit=200&offset=0 answered text/html, a page titled 'Welcome to nginx!', "
        f"not the API's JSON: is {api.base} the API's address?"
    )


def test_json_of_another_shape_is_not_the_api(loaded, api):
    api.plan[0] = [answer(200, {"status": "healthy", "service": "other"})]
    message = failing(loaded, api.base, NotTheApi)
    assert "answered JSON that is not a List Tasks page (its keys: service, status); expected" in message


def test_a_redirect_is_refused_and_the_token_not_sent_on(loaded, api):
    elsewhere = Api(tasks=1)
    try:
        api.plan[0] = [answer(302, "", "text/plain", {"Location": elsewhere.base + "/v1/jobs/job-1/tasks"})]
        message = failing(loaded, api.base, NotTheApi)
        assert elsewhere.requests == []
    finally:
        elsewhere.close()
    assert message == (
        f"{api.base}/v1/jobs/job-1/tasks?limit=200&offset=0 redirects (302) to {elsewhere.base}/v1/jobs/job-1/tasks: "
        "give the address it redirects to as the base URL (the token is never sent on to a redirect)"
    )


def test_tasks_of_another_job_are_refused(loaded, api):
    api.jobs[JOB][250]["job_id"] = "job-9"
    message = failing(loaded, api.base, NotTheApi)
    assert message.endswith("offset=200 answered tasks of job 'job-9', not of job 'job-1'")


def test_has_next_without_more_tasks_is_refused(loaded, api):
    bad = {
        "status": "success",
        "data": {
            "tasks": [],
            "pagination": {"limit": 200, "offset": 0, "total": 5, "has_next": True, "has_prev": False},
        },
    }
    api.plan[0] = [answer(200, bad)]
    assert failing(loaded, api.base, NotTheApi).endswith("has_next is true but no more tasks follow")


def test_a_job_without_tasks_imports_nothing(loaded, api):
    api.jobs["empty"] = []
    message = failing(loaded, api.base, BadData, job="empty")
    assert message == f"{api.base}/v1/jobs/empty/tasks: the job has no tasks (yet); nothing was imported"


def test_a_bad_task_is_named_with_the_api_address(loaded, api):
    api.jobs[JOB][7]["status"] = ""
    message = failing(loaded, api.base, BadData)
    assert message.startswith(f"{api.base}/v1/jobs/job-1/tasks: task 8: no status")


def test_a_total_that_disagrees_with_the_pages_is_noted(store, api):
    api.plan[400] = [
        answer(
            200,
            {
                "status": "success",
                "data": {
                    "tasks": [api_task(400)],
                    "pagination": {"limit": 200, "offset": 400, "total": 451, "has_next": False, "has_prev": True},
                },
            },
        )
    ]
    result = pull(store, api.base)
    assert result.tasks == 401
    note = "the API reported 451 tasks but its pages held 401 (did the job change?)"
    assert note in result.notes
    assert note in store.job(JOB).notes


# --- arguments ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("base", "shown"),
    [
        ("ftp://example.com", "'ftp://example.com'"),
        ("example.com", "'example.com'"),
        ("https://user:pw-secret@example.com", "'https://example.com'"),
        ("https://example.com/?key=abc", "'https://example.com/'"),
        ("https://example.com:99999", "'https://example.com:99999'"),
        ("https://exa mple.com", "'https://exa mple.com'"),
    ],
)
def test_bad_base_urls_are_refused_without_showing_secrets(store, base, shown):
    with pytest.raises(InvalidParameter) as caught:
        pull(store, base)
    assert str(caught.value).startswith(f"base URL {shown} is not valid: expected the API's address")
    assert "pw-secret" not in str(caught.value) and "abc" not in str(caught.value)


@pytest.mark.parametrize("job", ["", "a/b", "..", "a b", "a?b", "a#b", "50%", "a\\b"])
def test_bad_job_ids_are_refused(store, job):
    with pytest.raises(InvalidParameter, match=r"^job id .* is not valid: expected a job id"):
        pull(store, "https://example.com", job=job)


@pytest.mark.parametrize("token", ["", "   ", "has space", "line\nbreak", "non-ascii-é"])
def test_unusable_tokens_are_refused_without_showing_them(store, token):
    with pytest.raises(BadToken) as caught:
        fetch_job(store, "https://example.com", JOB, token)
    assert caught.value.exit_code == 2
    assert token.strip() == "" or token not in str(caught.value)


def test_only_http_beyond_this_machine_counts_as_unencrypted():
    assert [sent_in_clear(b) for b in ("http://api.example.com", "http://10.0.0.5:80", "https://api.example.com")] == [
        True,
        True,
        False,
    ]
    assert [sent_in_clear(b) for b in ("http://localhost:8080", "http://127.0.0.2", "http://[::1]:9")] == [False] * 3


def test_api_base_normalises():
    assert api_base(" HTTPS://API.Example.com/v1/ ") == "https://api.example.com"
    assert api_base("http://127.0.0.1:8080/prefix/") == "http://127.0.0.1:8080/prefix"


def test_retry_after_in_seconds_or_as_an_http_date():
    now = datetime(2026, 10, 21, 7, 28, tzinfo=UTC)
    assert retry_after_seconds("120", now) == 120.0
    assert retry_after_seconds("Wed, 21 Oct 2026 07:28:30 GMT", now) == 30.0
    assert retry_after_seconds("Wed, 21 Oct 2026 07:00:00 GMT", now) == 0.0  # in the past: now
    assert retry_after_seconds("soon", now) is None
    assert retry_after_seconds(None, now) is None


# --- the token stays secret ---------------------------------------------------------------------------


def test_the_token_is_in_no_message_log_record_or_file(tmp_path, pull_tmp, caplog):
    """Even a server that echoes the Authorization header back gets it blanked out of every message."""
    caplog.set_level(logging.DEBUG)
    api = Api()
    try:
        db = tmp_path / "db" / "crawl.duckdb"
        store = Store(db)
        seen: list[str] = []
        progress = lambda f, m: seen.append(m)  # noqa: E731
        api.plan[0] = [answer(500, "x")]  # a retry, so the retry path logs too
        pull(store, api.base, progress=progress)
        echo = f"token was Bearer {TOKEN}"
        for plan, error in (
            ([answer(401, error_body(401, echo, "UNAUTHORISED"))], TokenRefused),
            ([answer(200, f"<html><title>{echo}</title></html>", "text/html")], NotTheApi),
            ([answer(302, "", "text/plain", {"Location": f"https://x.example/?t={TOKEN}"})], NotTheApi),
            ([answer(200, {TOKEN: 1})], NotTheApi),
            ([answer(418, error_body(418, echo, "TEAPOT"))], FetchError),
        ):
            api.plan[0] = list(plan)
            with pytest.raises(error) as caught:
                pull(store, api.base, progress=progress)
            seen += [str(caught.value), repr(caught.value)]
            assert "[token]" in str(caught.value)
        store.close()
    finally:
        api.close()
    assert seen and caplog.records
    assert not [text for text in seen if TOKEN in text]
    assert not [r for r in caplog.records if TOKEN in r.getMessage()] and TOKEN not in caplog.text
    files = [p for p in (tmp_path / "db").rglob("*") if p.is_file()] + list(pull_tmp.rglob("*"))
    assert files and not [p for p in files if TOKEN.encode() in p.read_bytes()]


# --- the command line ----------------------------------------------------------------------------------


def run_cli(*args: str, token: str | None = TOKEN) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in PROXY_VARIABLES and k != "CRAWLDASH_TOKEN"}
    if token is not None:
        env["CRAWLDASH_TOKEN"] = token
    return subprocess.run(
        [sys.executable, "-m", "crawldash", "fetch", *args], cwd=PROJECT, capture_output=True, env=env, timeout=120
    )


def test_cli_fetch_prints_the_job_and_keeps_the_token_out(api, tmp_path):
    db = tmp_path / "db" / "cli.duckdb"
    done = run_cli("--base", api.base, "--job", JOB, "--db", str(db), "--progress")
    assert done.returncode == 0, done.stderr
    assert [json.loads(line) for line in done.stdout.decode().splitlines()] == [
        {"job_id": JOB, "domain": "example.com", "tasks": 450, "format": "adapt"}
    ]
    assert b"page 3 of 3: 450 of 450 tasks" in done.stderr
    api.plan[0] = [answer(401, error_body(401, "Authentication required", "UNAUTHORISED"))]
    refused = run_cli("--base", api.base, "--job", JOB, "--db", str(db))
    assert refused.returncode == 1
    assert refused.stdout == b""
    assert refused.stderr.decode() == (
        f"crawldash: error: {api.base} refused the request for job 'job-1' (401 Unauthorized: Authentication "
        "required): the token is wrong, expired or has no access to this job\n"
    )
    for out in (done.stdout, done.stderr, refused.stderr):
        assert TOKEN.encode() not in out
    assert not [p for p in db.parent.rglob("*") if p.is_file() and TOKEN.encode() in p.read_bytes()]
    store = Store(db)
    assert job_state(store) == [(JOB, 450), ("tasks stored", 450)]
    assert store.job(JOB).source == f"{api.base}/v1/jobs/job-1/tasks"
    store.close()


def test_cli_fetch_without_a_token_exits_2(tmp_path):
    done = run_cli("--base", "https://example.com", "--job", JOB, "--db", str(tmp_path / "x.duckdb"), token=None)
    assert done.returncode == 2
    assert done.stderr.decode() == (
        "crawldash: error: set CRAWLDASH_TOKEN to the API token (it is read from the environment only)\n"
    )
    assert not (tmp_path / "x.duckdb").exists()  # refused before the database was opened


@pytest.mark.parametrize(
    ("args", "code", "stderr"),
    [
        (["--base", "ftp://x", "--job", JOB], 2, "crawldash: error: base URL 'ftp://x' is not valid: expected"),
        (["--base", "https://x", "--job", "a/b"], 2, "crawldash: error: job id 'a/b' is not valid: expected"),
        (["--job", JOB], 2, "crawldash fetch: error: the following arguments are required: --base"),
    ],
)
def test_cli_fetch_bad_arguments_exit_2_with_one_line(monkeypatch, capsys, tmp_path, args, code, stderr):
    monkeypatch.setenv("CRAWLDASH_TOKEN", TOKEN)
    try:
        status = cli.main(["fetch", *args, "--db", str(tmp_path / "x.duckdb")])
    except SystemExit as exit_:
        status = exit_.code
    out, err = capsys.readouterr()
    assert (status, out) == (code, "")
    assert err.startswith(stderr) and err.count("\n") == 1
    assert TOKEN not in err


def test_cli_fetch_a_server_that_is_not_the_api_exits_1(monkeypatch, capsys, api, tmp_path):
    monkeypatch.setenv("CRAWLDASH_TOKEN", TOKEN)
    api.plan[0] = [answer(200, "<html><title>Home</title></html>", "text/html; charset=utf-8")]
    status = cli.main(["fetch", "--base", api.base, "--job", JOB, "--db", str(tmp_path / "x.duckdb")])
    out, err = capsys.readouterr()
    assert (status, out) == (1, "")
    assert err == (
        f"crawldash: error: {api.base}/v1/jobs/job-1/tasks?limit=200&offset=0 answered text/html; charset=utf-8, "
        f"a page titled 'Home', not the API's JSON: is {api.base} the API's address?\n"
    )
