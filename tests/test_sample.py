"""The sample generator: deterministic by seed, realistic mixes, and the bundled job is its output."""

from __future__ import annotations

import pytest

from conftest import SAMPLE
from crawldash.sample import generate_job, write_sample


def test_the_bundled_sample_is_the_generator_output(tmp_path):
    out = tmp_path / "again.json"
    write_sample(out, tasks=6000, seed=1)
    assert out.read_bytes() == SAMPLE.read_bytes()


def test_same_seed_same_job_other_seed_other_job():
    a, b, c = generate_job(seed=4, tasks=500), generate_job(seed=4, tasks=500), generate_job(seed=5, tasks=500)
    assert a.table.equals(b.table) and not a.table.equals(c.table)


@pytest.fixture(scope="module")
def rows():
    return generate_job(seed=1, tasks=40_000).table.to_pylist()


def share(rows, predicate) -> float:
    return sum(1 for r in rows if predicate(r)) / len(rows)


def test_cache_mix_is_near_the_target(rows):
    done = [r for r in rows if r["status"] == "completed"]
    for status, target in (
        ("HIT", 0.55),
        ("MISS", 0.20),
        ("DYNAMIC", 0.12),
        ("EXPIRED", 0.05),
        ("BYPASS", 0.03),
        (None, 0.05),
    ):
        assert share(done, lambda r, s=status: r["cache_status"] == s) == pytest.approx(target, abs=0.02), status


def test_failed_tasks_mostly_have_no_status_code_and_an_error(rows):
    failed = [r for r in rows if r["status"] == "failed"]
    assert 0.02 < len(failed) / len(rows) < 0.05
    assert share(failed, lambda r: r["status_code"] is None) > 0.6
    assert all(r["error"] for r in failed)
    assert {"Not Found", "Too Many Requests"} <= {r["error"] for r in failed}
    assert any("timeout" in (r["error"] or "").lower() or "deadline" in (r["error"] or "") for r in failed)
    assert 0 < share(rows, lambda r: r["status"] == "skipped") < 0.03


def test_response_times_hit_fast_miss_slow_with_a_tail(rows):
    def median(values):
        values = sorted(values)
        return values[len(values) // 2]

    hits = [r["response_time"] for r in rows if r["cache_status"] == "HIT" and r["response_time"]]
    misses = [r["response_time"] for r in rows if r["cache_status"] == "MISS" and r["response_time"]]
    assert median(hits) < 150 < 600 < median(misses)
    assert max(misses) == 30000 or max(misses) > 15000


def test_second_requests_on_most_misses_and_some_stored_as_zero(rows):
    misses = [r for r in rows if r["cache_status"] in ("MISS", "EXPIRED")]
    assert share(misses, lambda r: (r["second_response_time"] or 0) > 0) > 0.75
    assert any(r["second_response_time"] == 0 for r in rows)


def test_sources_views_hosts_and_batches(rows):
    links = [r for r in rows if r["source_type"] == "link"]
    assert 0.2 < len(links) / len(rows) < 0.4 and all(r["source_url"] for r in links)
    assert all(r["source_url"] is None for r in rows if r["source_type"] == "sitemap")
    with_views = [r for r in rows if r["page_views_28d"] is not None]
    assert 0.5 < len(with_views) / len(rows) < 0.7
    assert all(r["page_views_7d"] <= r["page_views_28d"] <= r["page_views_180d"] for r in with_views)
    assert (
        max(r["page_views_180d"] for r in with_views)
        > 100 * sorted(r["page_views_180d"] for r in with_views)[len(with_views) // 2]
    )  # heavy-tailed
    hosts = {r["url"].split("/")[2] for r in rows}
    assert len(hosts) == 3
    batches = {r["created_at"] for r in rows}
    assert len(batches) < len(rows) / 15
