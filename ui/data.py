"""The store and cached library calls. Caches are bounded and keyed by the job's key, which changes
when a job is re-imported, so a new import never shows stale numbers."""

from __future__ import annotations

import streamlit as st

from crawldash import export, query, stats
from crawldash.bundled import ensure_sample
from crawldash.export import ExportInfo
from crawldash.query import Filters, Sort, TaskPage, list_tasks
from crawldash.store import Job, Store

TTL = 600


@st.cache_resource(show_spinner="Opening the database…")
def store() -> Store:
    """The process's one Store; the bundled sample is loaded into an empty database on first start."""
    opened = Store.open()
    ensure_sample(opened)
    return opened


def jobs() -> list[Job]:
    """Every job, newest first (not cached: a cheap query that must see imports at once)."""
    return store().jobs()


@st.cache_data(ttl=TTL, max_entries=500, show_spinner=False)
def tasks_page(job_key: int, job_id: str, filters: Filters, sort: str, limit: int, offset: int) -> TaskPage:
    return list_tasks(store(), job_id, filters, Sort.parse(sort), limit, offset)


@st.cache_data(ttl=TTL, max_entries=200, show_spinner=False)
def kpis(job_key: int, job_id: str, filters: Filters) -> dict:
    return stats.job_stats(store(), job_id, filters)


@st.cache_data(ttl=TTL, max_entries=400, show_spinner=False)
def series(name: str, job_key: int, job_id: str, filters: Filters, **options):
    """One of crawldash.stats' chart series by name (a whitelist: the functions below)."""
    return SERIES[name](store(), job_id, filters, **options)


SERIES = {
    "histogram": stats.response_time_histogram,
    "percentiles": stats.percentiles,
    "first_vs_second": stats.first_vs_second,
    "by_section": stats.by_section,
    "by_content_type": stats.by_content_type,
    "over_time": stats.over_time,
    "cache_breakdown": stats.cache_breakdown,
    "warming_outcome": stats.warming_outcome,
    "pages_to_fix": stats.pages_to_fix,
}


@st.cache_data(ttl=TTL, max_entries=200, show_spinner=False)
def export_info(job_key: int, job_id: str, export_type: str, filters: Filters) -> ExportInfo:
    """How many tasks an export would hold (its counts; the file itself is built when clicked)."""
    return export.export_info(store(), job_id, export_type, "csv", filters)


@st.cache_data(ttl=TTL, max_entries=100, show_spinner=False)
def has_other_hosts(job_key: int, job_id: str) -> bool:
    """Whether the table needs a host column for this job."""
    return query.has_other_hosts(store(), job_id)


def forget() -> None:
    """Drop every cached answer (after an import or a delete)."""
    st.cache_data.clear()
