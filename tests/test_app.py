"""Every page on the sample job through streamlit's AppTest: no exception, and the numbers shown are
crawldash's own (URL changes and Plotly charts are checked in the browser tests)."""

from __future__ import annotations

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from conftest import PROJECT, SAMPLE_JOB
from crawldash import export, stats
from crawldash.query import Filters
from crawldash.store import Store
from ui import render

PAGES = (
    "pages/tasks.py",
    "pages/overview.py",
    "pages/performance.py",
    "pages/cache.py",
    "pages/reports.py",
    "pages/data.py",
)


@pytest.fixture
def app(tmp_path, monkeypatch):
    """An app on a fresh database, which loads the bundled sample on first start."""
    monkeypatch.setenv("CRAWLDASH_DB", str(tmp_path / "app.duckdb"))
    st.cache_resource.clear()
    st.cache_data.clear()
    at = AppTest.from_file(str(PROJECT / "app.py"), default_timeout=120)
    yield at
    st.cache_resource.clear()
    Store.open(tmp_path / "app.duckdb").close()


def markdown(at) -> list[str]:
    return [m.value for m in at.markdown]


def test_every_page_runs_on_the_sample_job(app):
    app.run()
    assert not app.exception
    for page in PAGES[1:]:
        app.switch_page(page)
        app.run()
        assert not app.exception, page


def test_tasks_page_shows_the_count_and_a_page_of_rows(app):
    app.run()
    assert "**1–50 of 6,000 tasks**" in markdown(app)
    table = app.dataframe[0].value
    assert len(table) == 50
    assert "Page 1 of 120" in markdown(app)


def test_a_url_sets_the_view_and_the_widgets(app):
    app.query_params.update({"job": SAMPLE_JOB, "status": "failed", "sort": "-response_time"})
    app.run()
    assert "**1–50 of 180 tasks**" in markdown(app)
    assert app.selectbox(key="w_status").value == "failed"
    assert app.selectbox(key="w_sort_field").value == "response_time"
    assert app.radio(key="w_sort_dir").value == "descending"
    times = app.dataframe[0].value["response_time"].dropna().tolist()
    assert times == sorted(times, reverse=True)


def test_changing_a_filter_goes_back_to_the_first_page(app):
    app.query_params.update({"job": SAMPLE_JOB, "offset": "100"})
    app.run()
    assert "**101–150 of 6,000 tasks**" in markdown(app)
    app.radio(key="w_cache").set_value("miss").run()
    assert not app.exception
    misses = stats.job_stats(Store.open(), SAMPLE_JOB, Filters(cache="miss"))["tasks"]
    assert f"**1–50 of {misses:,} tasks**" in markdown(app)


def test_invalid_url_values_are_dropped_with_a_note(app):
    app.query_params.update({"job": "nope", "status": "done", "sort": "bogus", "limit": "5000", "colour": "red"})
    app.run()
    assert not app.exception
    warnings = [w.value for w in app.warning]
    assert any("job 'nope' is not in the database" in w for w in warnings)
    assert any("status 'done' is not valid" in w for w in warnings)
    assert any("sort 'bogus' is not valid" in w for w in warnings)
    assert any("limit 5000 is above the maximum: showing 200 per page" in w for w in warnings)
    assert any("unknown URL parameters ignored: colour" in w for w in warnings)
    assert "**1–200 of 6,000 tasks**" in markdown(app)


def test_overview_kpis_equal_crawldash_stats(app):
    app.switch_page("pages/overview.py")
    app.run()
    k = stats.job_stats(Store.open(), SAMPLE_JOB)
    shown = {m.label: m.value for m in app.metric}
    assert shown["Tasks"] == f"{k['tasks']:,}"
    assert shown["Completed"] == f"{k['completed']:,}"
    assert shown["Failed (broken)"] == f"{k['broken']:,}"
    assert shown["Slow pages"] == f"{k['slow_pages']:,}"
    assert shown["Cache hit rate"] == f"{k['cache_hit_rate']:.1%}"
    assert shown["Median response"] == render.ms_short(k["effective_response_time_ms"]["p50"])
    assert shown["p95 response"] == render.ms_short(k["effective_response_time_ms"]["p95"])
    assert shown["Pages warmed"] == f"{k['warmed']:,}"
    assert shown["Time saved"] == render.duration(k["time_saved_ms"])
    helps = {m.label: m.help for m in app.metric}
    assert "HIT / (HIT + MISS + EXPIRED)" in helps["Cache hit rate"]
    assert "> 3,000 ms" in helps["Slow pages"]
    assert shown["DYNAMIC share"] == f"{k['dynamic_share']:.1%}"
    others = ", ".join(f"{n:,} {s}" for s, n in k["status"].items() if s not in ("completed", "failed"))
    assert k["status"].get("skipped") and f"Neither completed nor failed: {others}." in [c.value for c in app.caption]


def test_a_file_that_is_not_a_database_gives_a_message_not_a_traceback(tmp_path, monkeypatch, app):
    crawl = tmp_path / "crawl.csv"
    crawl.write_text("url,status\nhttps://example.com/,completed\n")
    monkeypatch.setenv("CRAWLDASH_DB", str(crawl))
    st.cache_resource.clear()
    app.run()
    assert not app.exception
    assert "is not a DuckDB database" in app.error[0].value
    assert crawl.read_text() == "url,status\nhttps://example.com/,completed\n"


def test_overview_follows_the_filters(app):
    app.query_params.update({"job": SAMPLE_JOB, "path": "blog"})
    app.switch_page("pages/overview.py")
    app.run()
    k = stats.job_stats(Store.open(), SAMPLE_JOB, Filters(path="blog"))
    assert {m.label: m.value for m in app.metric}["Tasks"] == f"{k['tasks']:,}"


def test_reports_page_offers_nine_downloads_with_their_counts(app):
    app.switch_page("pages/reports.py")
    app.run()
    assert len(app.get("download_button")) == 9
    store = Store.open()
    for export_type, title in (
        ("job", "All tasks"),
        ("broken-links", "Broken links"),
        ("slow-pages", "Slow pages (> 3,000 ms)"),
    ):
        matched = export.export_info(store, SAMPLE_JOB, export_type).matched
        assert f"**{title}** · {matched:,} tasks" in markdown(app)


def test_empty_database_pages_say_where_to_import(tmp_path, monkeypatch, app):
    store = Store.open()
    app.run()  # loads the sample once
    store.delete_job(SAMPLE_JOB)
    st.cache_data.clear()
    for page in PAGES[:5]:
        app.switch_page(page)
        app.run()
        assert not app.exception, page
        assert any("No crawl in the database yet" in i.value for i in app.info), page
