"""HAR 1.2 captures: the real chrome-har-capturer file, its README facts, every entry checked
against a plain-Python reading, the cache headers and the browser's own cache."""

from __future__ import annotations

import json
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from imported import cli_import, cli_store, counts, row_id, tasks_by_id

from conftest import job_state
from crawldash.errors import BadData
from crawldash.importers import Detected, detect, import_files
from crawldash.importers.cache_headers import cache_status, rfc9211_status, tier_status
from crawldash.stats import job_stats

CAPTURE = "chrome_capture_cdn-headers.har"


def entries_of(path: Path) -> list[dict]:
    return json.loads(path.read_text(encoding="utf-8"))["log"]["entries"]


def test_real_capture_imports_through_the_cli_with_the_readme_facts(realdata, tmp_path, capsys):
    code, out, err = cli_import(capsys, tmp_path / "cli.duckdb", realdata / CAPTURE)
    assert code == 0, err
    assert out == [{"job_id": out[0]["job_id"], "domain": "github.com", "tasks": 221, "format": "har"}]
    store = cli_store(tmp_path / "cli.duckdb")
    try:
        job_id = out[0]["job_id"]
        assert counts(store, job_id, "(status, status_code)") == {("completed", 200): 213, ("completed", 204): 8}
        assert counts(store, job_id, "from_browser_cache") == {True: 176, False: 45}
        assert counts(store, job_id, "cache_status") == {"HIT": 174, None: 47}
    finally:
        store.close()


def test_real_capture_imports_through_the_library_entry_by_entry(realdata, store):
    path = realdata / CAPTURE
    result = import_files(store, [path])[0]
    assert (result.tasks, result.format, result.domain, result.notes) == (221, "har", "github.com", ())
    stored = tasks_by_id(store, result.job_id)
    entries = entries_of(path)
    assert len(stored) == len(entries) == 221
    for n, entry in enumerate(entries, 1):
        task = stored[row_id(n)]
        headers = {h["name"]: h["value"] for h in entry["response"]["headers"]}
        started = datetime.fromisoformat(entry["startedDateTime"])
        assert task["url"] == entry["request"]["url"]
        assert task["status_code"] == entry["response"]["status"]
        assert task["response_time"] == round(entry["time"])
        assert task["content_type"] == headers.get("content-type", entry["response"]["content"]["mimeType"])
        assert task["started_at"] == started
        assert task["completed_at"] == started + timedelta(milliseconds=entry["time"])
        assert task["from_browser_cache"] is entry["_fromDiskCache"]
        assert task["cache_status"] == ("HIT" if "x-cache" in headers else None), n
        assert (task["status"], task["error"]) == ("completed", None)


def test_real_capture_x_cache_tiers_keep_the_one_nearest_the_client(realdata):
    values = Counter(
        h["value"]
        for entry in entries_of(realdata / CAPTURE)
        for h in entry["response"]["headers"]
        if h["name"] == "x-cache"
    )
    assert values == {"HIT, HIT": 158, "HIT": 10, "HIT, HIT, HIT": 6}  # comma-joined CDN tiers
    assert {tier_status(v) for v in values} == {"HIT"}


def test_browser_cached_entries_are_left_out_of_timing_figures(realdata, store):
    result = import_files(store, [realdata / CAPTURE])[0]
    stats = job_stats(store, result.job_id)
    timing = stats["effective_response_time_ms"]
    assert (stats["tasks"], timing["timed_tasks"]) == (221, 45)
    network = sorted(round(e["time"]) for e in entries_of(realdata / CAPTURE) if not e["_fromDiskCache"])
    assert timing["mean"] == pytest.approx(sum(network) / len(network))


def test_har_is_detected_from_its_content(realdata, tmp_path):
    assert detect(realdata / CAPTURE) == Detected("har", "json")
    renamed = tmp_path / "capture.json"
    renamed.write_bytes((realdata / CAPTURE).read_bytes())
    assert detect(renamed) == Detected("har", "json")
    assert detect(renamed, "har") == Detected("har", "json")
    with pytest.raises(BadData, match="does not look like adapt"):
        detect(renamed, "adapt")


# --- built HAR files ------------------------------------------------------------------------------


def har(entries: list[dict], **log) -> dict:
    return {"log": {"version": "1.2", "creator": {"name": "test", "version": "1"}, **log, "entries": entries}}


def entry(url: str, status: int = 200, headers: dict | None = None, time: float = 120.4, **extra) -> dict:
    return {
        "startedDateTime": "2026-01-05T09:30:00.000+01:00",
        "time": time,
        "request": {"method": "GET", "url": url, "headers": []},
        "response": {
            "status": status,
            "statusText": extra.pop("statusText", ""),
            "headers": [{"name": k, "value": v} for k, v in (headers or {}).items()],
            "content": {"size": 10, "mimeType": extra.pop("mimeType", "text/html")},
            **extra.pop("response", {}),
        },
        **extra,
    }


def write_har(tmp_path: Path, value: dict, name: str = "capture.har", prefix: bytes = b"") -> Path:
    path = tmp_path / name
    path.write_bytes(prefix + json.dumps(value, indent=1).encode())
    return path


def imported(store, tmp_path, entries: list[dict], **kw) -> list[dict]:
    result = import_files(store, [write_har(tmp_path, har(entries), **kw)])[0]
    stored = tasks_by_id(store, result.job_id)
    return [stored[row_id(n)] for n in range(1, len(entries) + 1)]


CACHE_HEADER_CASES = [
    ({"CF-Cache-Status": "hit"}, "HIT"),
    ({"cf-cache-status": "DYNAMIC"}, "DYNAMIC"),
    ({"X-Cache": "MISS, HIT"}, "HIT"),
    ({"x-cache": "HIT, MISS"}, "MISS"),
    ({"X-Cache": "Hit from cloudfront"}, "HIT"),
    ({"X-Cache": "RefreshHit from cloudfront"}, "REVALIDATED"),
    ({"X-Cache": "TCP_MEM_HIT from a23-45-67-89.deploy.akamaitechnologies.com (AkamaiGHost/10.0)"}, "HIT"),
    ({"X-Cache-Status": "EXPIRED"}, "EXPIRED"),
    ({"x-vercel-cache": "PRERENDER"}, "PRERENDER"),
    ({"Cache-Status": '"Fastly"; hit, "CDN"; fwd=miss'}, "MISS"),
    ({"Cache-Status": '"CDN"; fwd=miss, "Fastly"; hit'}, "HIT"),
    ({"cache-status": "ExampleCache; hit; ttl=-412"}, "STALE"),
    ({"Cache-Status": "Origin; fwd=stale; fwd-status=304"}, "REVALIDATED"),
    ({"Cache-Status": "Origin; fwd=stale; fwd-status=200"}, "EXPIRED"),
    ({"Cache-Status": '"Edge; EU, west"; fwd=bypass'}, "BYPASS"),
    ({"Cache-Status": '"Edge"; detail="no stored response"'}, None),
    ({"CF-Cache-Status": "BYPASS", "X-Cache": "HIT"}, "BYPASS"),  # Cloudflare, the outer CDN, first
    ({"X-Cache": "HIT", "Cache-Status": "Edge; fwd=miss"}, "HIT"),
    ({"CF-Cache-Status": " ", "X-Cache-Status": "STALE"}, "STALE"),  # an empty header says nothing
    ({"Server": "nginx"}, None),
]


@pytest.mark.parametrize(("headers", "expected"), CACHE_HEADER_CASES)
def test_cache_status_comes_from_the_cdn_headers(headers, expected):
    assert cache_status({k.lower(): v for k, v in headers.items()}) == expected


def test_cache_headers_are_matched_case_insensitively_in_a_har(tmp_path, store):
    entries = [entry(f"https://example.com/{n}", headers=h) for n, (h, _) in enumerate(CACHE_HEADER_CASES)]
    tasks = imported(store, tmp_path, entries)
    assert [t["cache_status"] for t in tasks] == [expected for _, expected in CACHE_HEADER_CASES]


def test_rfc9211_member_names_may_hold_commas_and_semicolons():
    assert rfc9211_status('"a, b; c"; fwd=uri-miss, "d \\" e, f"; hit') == "HIT"
    assert rfc9211_status("") is None


def test_repeated_cache_headers_are_joined_and_keep_the_last_tier(tmp_path, store):
    value = entry("https://example.com/")
    value["response"]["headers"] = [{"name": "X-Cache", "value": "MISS"}, {"name": "x-cache", "value": "HIT"}]
    assert imported(store, tmp_path, [value])[0]["cache_status"] == "HIT"


def test_browser_cache_flags_of_each_capture_tool(tmp_path, store):
    entries = [
        entry("https://example.com/a", _fromDiskCache=True),
        entry("https://example.com/b", _fromDiskCache=False),
        entry("https://example.com/c", _fromCache="memory"),  # Chrome DevTools export
        entry("https://example.com/d", _fromCache="disk"),
        entry("https://example.com/e", _fromMemoryCache=True),
        entry("https://example.com/f"),  # a capture that does not say: unknown, not False
    ]
    assert [t["from_browser_cache"] for t in imported(store, tmp_path, entries)] == [
        True,
        False,
        True,
        True,
        True,
        None,
    ]


def test_failed_entries_carry_an_error(tmp_path, store):
    entries = [
        entry("https://example.com/blocked", status=0, time=3.2, response={"_error": "net::ERR_BLOCKED_BY_CLIENT"}),
        entry("https://example.com/none", status=0, time=-1),
        entry("https://example.com/missing", status=404),
        entry("https://example.com/limit", status=429, statusText="Slow Down"),
        entry("https://example.com/ok", status=304, time=0.4),
    ]
    tasks = imported(store, tmp_path, entries)
    assert [(t["status"], t["status_code"], t["http_code"], t["error"], t["response_time"]) for t in tasks] == [
        ("failed", None, None, "net::ERR_BLOCKED_BY_CLIENT", 3),
        ("failed", None, None, "no response", None),
        ("failed", 404, 404, "Not Found", 120),
        ("failed", 429, 429, "Slow Down", 120),
        ("completed", 304, 304, None, None),  # 0 ms rounds to no measurement, never 0
    ]


def test_times_keep_their_offset_as_utc_and_the_domain_is_the_first_entry(tmp_path, store):
    entries = [entry("https://www.example.com/page"), entry("https://cdn.example.net/a.js")] + [
        entry(f"https://cdn.example.net/{n}.js") for n in range(3)
    ]
    result = import_files(store, [write_har(tmp_path, har(entries))])[0]
    assert result.domain == "www.example.com"
    first = tasks_by_id(store, result.job_id)[row_id(1)]
    assert first["started_at"].isoformat() == "2026-01-05T08:30:00+00:00"
    assert first["completed_at"].isoformat() == "2026-01-05T08:30:00.120400+00:00"
    assert first["content_type"] == "text/html"


def test_entries_after_other_log_keys_and_a_bom_are_read(tmp_path, store):
    pages = [{"id": f"page_{n}", "title": "x" * 200, "startedDateTime": "2026-01-05T09:30:00Z"} for n in range(100)]
    value = {"log": {"pages": pages, "entries": [entry("https://example.com/")], "version": "1.2"}}
    path = write_har(tmp_path, value, prefix=b"\xef\xbb\xbf")
    assert detect(path) == Detected("har", "json")
    assert import_files(store, [path])[0].tasks == 1


def test_many_entries_stream_through(tmp_path, store):
    entries = [
        entry(f"https://example.com/p{n}", headers={"CF-Cache-Status": "MISS" if n % 3 else "HIT"})
        for n in range(60_000)
    ]
    result = import_files(store, [write_har(tmp_path, har(entries))])[0]
    assert result.tasks == 60_000
    assert counts(store, result.job_id, "cache_status") == {"HIT": 20_000, "MISS": 40_000}


def test_a_truncated_har_is_refused_and_nothing_is_stored(realdata, tmp_path, store):
    path = tmp_path / "cut.har"
    path.write_bytes((realdata / CAPTURE).read_bytes()[:700_000])
    with pytest.raises(BadData, match=r"^cut\.har: is not valid JSON \(.+\); expected a HAR 1\.2 file"):
        import_files(store, [path])
    assert job_state(store) == [("tasks stored", 0)]


def test_a_har_without_entries_says_so(tmp_path, store):
    with pytest.raises(BadData) as info:
        import_files(store, [write_har(tmp_path, har([]))])
    assert str(info.value) == (
        "capture.har: is a HAR file without entries (log.entries is empty or missing); "
        'expected a HAR 1.2 file: {"log": {"version", "creator", "entries": [...]}}'
    )


def test_an_entry_without_a_url_is_named(tmp_path, store):
    bad = entry("https://example.com/")
    del bad["request"]["url"]
    with pytest.raises(BadData) as info:
        import_files(store, [write_har(tmp_path, har([entry("https://example.com/"), bad]))])
    assert str(info.value) == "capture.har: entry 2: no request.url"
