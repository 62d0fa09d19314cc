"""Every number of SPEC's "one definition" list, checked on small jobs with known answers."""

from __future__ import annotations

import numpy as np
import pytest

from conftest import SAMPLE_JOB, load, task
from crawldash import stats
from crawldash.query import Filters, list_tasks

JOB = [
    # a 5,000 ms page whose second request the original stored as 0: slow, not warmed, no time saved
    task(1, response_time=5000, cache_status="MISS", second_response_time=0, second_cache_status="HIT"),
    # warmed: MISS then HIT; effective time is the second request; saves 1,200 ms
    task(
        2,
        response_time=1500,
        cache_status="MISS",
        second_response_time=300,
        second_cache_status="HIT",
        page_views_7d=10,
        page_views_28d=40,
        page_views_180d=200,
    ),
    # EXPIRED then MISS again: a real second request, not warmed; "saves" -100 ms
    task(3, response_time=3100, cache_status="EXPIRED", second_response_time=3200, second_cache_status="MISS"),
    task(4, response_time=80, cache_status="HIT"),
    task(5, response_time=400, cache_status="DYNAMIC"),
    task(6, response_time=200, cache_status="BYPASS"),
    task(7, status="failed", error="Not Found"),
    task(8, status="skipped"),
]


@pytest.fixture
def job(store):
    load(store, JOB)
    return store


def test_kpis_follow_the_definitions(job):
    s = stats.job_stats(job, "job-1")
    assert s["tasks"] == 8
    assert s["status"] == {"completed": 6, "failed": 1, "skipped": 1}
    assert s["cache_status"] == {"none": 2, "BYPASS": 1, "DYNAMIC": 1, "EXPIRED": 1, "HIT": 1, "MISS": 2}
    assert s["cache_hit_rate"] == pytest.approx(1 / 4)  # HIT / (HIT + MISS + EXPIRED); DYNAMIC apart
    assert s["dynamic_share"] == pytest.approx(1 / 8)
    assert s["slow_pages"] == 2  # t1 (5,000 ms, second request stored as 0) and t3 (3,200 ms)
    assert s["broken"] == 1
    assert s["warmed"] == 1  # t2 only: t1's second request does not exist
    assert s["time_saved_ms"] == (1500 - 300) + (3100 - 3200)  # t2 and t3; never t1
    assert s["pages_with_second_request"] == 2


def test_percentiles_are_linear_interpolation_of_the_effective_time(job):
    effective = [5000, 300, 3200, 80, 400, 200]
    s = stats.job_stats(job, "job-1")["effective_response_time_ms"]
    for name, q in (("p50", 50), ("p90", 90), ("p95", 95), ("p99", 99)):
        assert s[name] == pytest.approx(np.percentile(effective, q, method="linear"))
    assert s["mean"] == pytest.approx(np.mean(effective))
    assert s["timed_tasks"] == 6


def test_slow_pages_include_the_page_whose_second_request_was_stored_as_0(job):
    page = list_tasks(job, "job-1", Filters(), limit=200)
    by_id = {t["id"]: t for t in page.tasks}
    assert by_id["t001"]["second_response_time"] is None
    from crawldash.export import export_bytes

    body, _info = export_bytes(job, "job-1", "slow-pages", "json")
    import json

    assert sorted(t["id"] for t in json.loads(body)["data"]["tasks"]) == ["t001", "t003"]


def test_a_page_without_analytics_shows_null_views_and_zero_stays_zero(store):
    load(store, [task(1), task(2, page_views_7d=0, page_views_28d=0, page_views_180d=0)])
    by_id = {t["id"]: t for t in list_tasks(store, "job-1").tasks}
    assert [by_id["t001"][f] for f in ("page_views_7d", "page_views_28d", "page_views_180d")] == [None] * 3
    assert [by_id["t002"][f] for f in ("page_views_7d", "page_views_28d", "page_views_180d")] == [0] * 3
    assert store.job("job-1").has_analytics is True


def test_hit_rate_is_null_when_no_first_request_was_cached_or_missed(store):
    load(store, [task(1, cache_status="DYNAMIC"), task(2)])
    assert stats.job_stats(store, "job-1")["cache_hit_rate"] is None


def test_stats_follow_the_filters(job):
    s = stats.job_stats(job, "job-1", Filters(cache="miss"))
    assert (s["tasks"], s["warmed"], s["filters"]) == (3, 1, "cache is miss (MISS or EXPIRED)")


def test_broken_http_code_comes_from_the_error_text(job):
    page = list_tasks(job, "job-1", Filters(status_code=404))
    assert [(t["id"], t["status_code"], t["http_code"], t["error"]) for t in page.tasks] == [
        ("t007", None, 404, "Not Found")
    ]


def test_series_add_up_to_the_kpis(sample_store):
    kpis = stats.job_stats(sample_store, SAMPLE_JOB)
    timed = kpis["effective_response_time_ms"]["timed_tasks"]
    assert stats.response_time_histogram(sample_store, SAMPLE_JOB)["tasks"].sum() == timed
    assert stats.response_time_histogram(sample_store, SAMPLE_JOB, log=True)["tasks"].sum() == timed
    assert stats.by_section(sample_store, SAMPLE_JOB, top=100)["tasks"].sum() == kpis["tasks"]
    assert stats.by_content_type(sample_store, SAMPLE_JOB, top=100)["tasks"].sum() == kpis["tasks"]
    over = stats.over_time(sample_store, SAMPLE_JOB)
    assert over["tasks"].sum() == kpis["tasks"] and len(over) <= 60  # every sample task has a time
    breakdown = stats.cache_breakdown(sample_store, SAMPLE_JOB)
    assert dict(zip(breakdown["cache_status"], breakdown["tasks"], strict=True)) == {
        "HIT": kpis["cache_status"]["HIT"],
        "MISS": kpis["cache_status"]["MISS"],
        "EXPIRED": kpis["cache_status"]["EXPIRED"],
        "DYNAMIC": kpis["cache_status"]["DYNAMIC"],
        "other": kpis["cache_status"]["BYPASS"],
        "none": kpis["cache_status"]["none"],
    }
    outcome = dict(stats.warming_outcome(sample_store, SAMPLE_JOB).values.tolist())
    assert outcome["warmed"] == kpis["warmed"]
    assert sum(outcome.values()) == kpis["cache_status"]["MISS"] + kpis["cache_status"]["EXPIRED"]


def test_histogram_bins_cover_zero_to_p99_with_an_open_last_bin(sample_store):
    hist = stats.response_time_histogram(sample_store, SAMPLE_JOB, bins=40)
    p99 = stats.percentiles(sample_store, SAMPLE_JOB)["p99"]
    assert hist["start_ms"].iloc[0] == 0
    assert hist["end_ms"].iloc[-1] is None or np.isnan(hist["end_ms"].iloc[-1])
    assert hist["start_ms"].iloc[-1] <= p99 + (hist["start_ms"].iloc[1] - hist["start_ms"].iloc[0])
    assert 20 <= len(hist) <= 60


def test_pages_to_fix_rank_by_views_where_analytics_exist(sample_store):
    broken = stats.pages_to_fix(sample_store, SAMPLE_JOB, kind="broken", limit=5)
    views = broken["page_views_28d"].tolist()
    with_views = [v for v in views if v == v and v is not None]
    assert with_views == sorted(with_views, reverse=True) and len(with_views) == 5
    slow = stats.pages_to_fix(sample_store, SAMPLE_JOB, kind="slow", limit=50)
    assert (slow["effective_time"] > 3000).all()


def test_the_pages_unfiltered_calls_read_the_summary_stored_at_import(store):
    """However a page spells a precomputed call (defaults given or not), it reads the job's summary:
    with the tasks gone from under it the stored answer comes back, equal to the live one before."""
    load(store, JOB)
    calls = [
        (stats.job_stats, {}),
        (stats.response_time_histogram, {"log": True}),
        (stats.response_time_histogram, {"log": False, "bins": 40}),
        (stats.by_section, {"top": 20}),
        (stats.pages_to_fix, {"kind": "broken"}),
        (stats.pages_to_fix, {"kind": "broken", "limit": 10}),
        (stats.pages_to_fix, {"kind": "slow", "limit": 10}),
    ]
    live = [function.live(store, "job-1", None, **options) for function, options in calls]
    with store.transaction() as cur:
        cur.execute("DELETE FROM tasks")
    for (function, options), expected in zip(calls, live, strict=True):
        got = function(store, "job-1", **options)
        if isinstance(expected, dict):
            assert got == expected, function.__name__
        else:
            assert not expected.empty and got.equals(expected), (function.__name__, options)
    assert stats.by_section(store, "job-1", top=5).empty  # not precomputed: computed live, from no tasks
