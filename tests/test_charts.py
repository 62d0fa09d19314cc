"""The Plotly figures: the data in their traces and what their titles say, not pixels."""

from __future__ import annotations

import math

import pandas as pd

from conftest import SAMPLE_JOB
from crawldash import charts, stats


def test_distribution_bars_hold_the_histogram_and_mark_the_percentiles(sample_store):
    hist = stats.response_time_histogram(sample_store, SAMPLE_JOB)
    pcts = stats.percentiles(sample_store, SAMPLE_JOB)
    fig = charts.response_time_distribution(hist, pcts, scope="all tasks")
    bar = fig.data[0]
    assert list(bar.y) == hist["tasks"].tolist()
    assert fig.layout.title.text == f"Distribution of the effective response time: {hist['tasks'].sum():,} timed tasks"
    lines = [shape.x0 for shape in fig.layout.shapes]
    assert lines == [pcts["p50"], pcts["p90"], pcts["p95"], pcts["p99"]]
    assert [a.text for a in fig.layout.annotations] == [f"{n} {pcts[n]:,.0f} ms" for n in ("p50", "p90", "p95", "p99")]
    assert len({a.y for a in fig.layout.annotations}) == 4  # staggered, so the labels never overlap


def test_log_scale_puts_bars_and_markers_in_one_coordinate(sample_store):
    hist = stats.response_time_histogram(sample_store, SAMPLE_JOB, log=True)
    pcts = stats.percentiles(sample_store, SAMPLE_JOB)
    fig = charts.response_time_distribution(hist, pcts, log=True)
    centres = list(fig.data[0].x)
    assert all(0 <= c <= 5 for c in centres)  # log10 of milliseconds, not milliseconds
    assert fig.layout.shapes[0].x0 == math.log10(pcts["p50"])
    assert fig.layout.xaxis.ticktext[:4] == ("1 ms", "10 ms", "100 ms", "1,000 ms")
    assert fig.layout.xaxis.type in (None, "linear")


def test_every_chart_says_what_it_counts_and_follows_the_scope(sample_store):
    scope = "status is failed"
    figures = {
        "first vs second": charts.first_vs_second(stats.first_vs_second(sample_store, SAMPLE_JOB), scope),
        "section": charts.by_group(stats.by_section(sample_store, SAMPLE_JOB), "section", "section", scope),
        "over time": charts.over_time(stats.over_time(sample_store, SAMPLE_JOB), scope),
        "cache": charts.cache_breakdown(stats.cache_breakdown(sample_store, SAMPLE_JOB), scope),
        "warming": charts.warming_outcome(stats.warming_outcome(sample_store, SAMPLE_JOB), scope),
        "hit rate": charts.hit_rate(stats.by_section(sample_store, SAMPLE_JOB), "section", "section", scope),
    }
    for name, fig in figures.items():
        assert fig.layout.title.text.endswith("; status is failed"), name
        assert fig.data, name
    cache = figures["cache"].data[0]
    assert "DYNAMIC (not cacheable)" in list(cache.x)
    breakdown = stats.cache_breakdown(sample_store, SAMPLE_JOB)
    assert list(cache.y) == breakdown["tasks"].tolist()
    assert figures["warming"].layout.title.text.startswith(
        f"Cache warming of {stats.warming_outcome(sample_store, SAMPLE_JOB)['tasks'].sum():,} MISS/EXPIRED pages"
    )


def test_charts_without_timing_say_so_instead_of_drawing_empty_axes():
    no_times = pd.DataFrame(
        {
            "section": ["/a"],
            "tasks": [3],
            "p50": [None],
            "p95": [None],
            "mean": [None],
            "slow": [0],
            "hits": [0],
            "misses": [0],
            "dynamic": [0],
            "hit_rate": [None],
        }
    )
    fig = charts.by_group(no_times, "section", "section")
    assert not fig.data and fig.layout.annotations[0].text == "No task with a response time matches."
    over = pd.DataFrame(
        {
            "start": [pd.Timestamp("2026-01-01", tz="UTC")],
            "seconds": [60],
            "tasks": [3],
            "p50": [None],
            "p95": [None],
            "hits": [0],
            "misses": [0],
            "failed": [0],
            "hit_rate": [None],
        }
    )
    assert charts.over_time(over).layout.annotations[0].text == "No task with a response time matches."
    assert charts.hit_rate(no_times, "section", "section").layout.annotations[0].text.startswith("No first request")
