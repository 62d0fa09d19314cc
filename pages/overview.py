"""Overview: the KPIs, each with its formula, and the pages to fix first."""

import streamlit as st

from ui import data, render
from ui.page import job_in_view

job, view = job_in_view("Overview")
k = data.kpis(job.job_key, job.job_id, view.filters)
timing = k["effective_response_time_ms"]

row1 = st.columns(5)
render.kpi(row1[0], "tasks", render.count(k["tasks"]))
render.kpi(row1[1], "completed", render.count(k["completed"]))
render.kpi(row1[2], "broken", render.count(k["broken"]))
render.kpi(row1[3], "slow_pages", render.count(k["slow_pages"]))
render.kpi(row1[4], "cache_hit_rate", render.percent(k["cache_hit_rate"]))
row2 = st.columns(5)
render.kpi(row2[0], "p50", render.ms_short(timing["p50"]))
render.kpi(row2[1], "p95", render.ms_short(timing["p95"]))
render.kpi(row2[2], "warmed", render.count(k["warmed"]))
render.kpi(row2[3], "time_saved_ms", render.duration(k["time_saved_ms"]))
render.kpi(row2[4], "dynamic_share", render.percent(k["dynamic_share"]))

others = {s: n for s, n in k["status"].items() if s not in ("completed", "failed")}
if others:
    st.caption("Neither completed nor failed: " + ", ".join(f"{n:,} {s}" for s, n in others.items()) + ".")

if k["tasks"] == 0:
    render.empty_state(f"No task matches {view.filters.describe()}.", "Change or clear the filters in the sidebar.")
    st.stop()

ranked = "ranked by page views (28 days)" if job.has_analytics else "slowest first (this job has no analytics)"
left, right = st.columns(2)
for column, kind, heading in ((left, "broken", "Broken pages"), (right, "slow", "Slow pages (> 3,000 ms)")):
    with column:
        st.subheader(heading)
        frame = data.series("pages_to_fix", job.job_key, job.job_id, view.filters, kind=kind, limit=10)
        if frame.empty:
            st.success(f"No {heading.split(' (')[0].lower()} in this view.", icon="✅")
            continue
        st.caption(f"The first {len(frame)} to fix, {ranked}.")
        shown = frame.assign(http=frame["http_code"].astype("Int64"), time=frame["effective_time"].astype("Int64"))
        columns = (
            ["url", "http", "error", "page_views_28d"]
            if kind == "broken"
            else ["url", "time", "cache_status", "page_views_28d"]
        )
        if not job.has_analytics:
            columns.remove("page_views_28d")
        st.dataframe(
            shown[columns],
            hide_index=True,
            placeholder="—",
            column_config={
                **{c: render.COLUMN_CONFIG[c] for c in ("http", "cache_status", "page_views_28d")},
                # half a page wide: the page and the error give room to the numbers
                "url": {**render.COLUMN_CONFIG["url"], "width": "medium"},
                "error": {**render.COLUMN_CONFIG["error"], "width": "small"},
                "time": render.EFFECTIVE_TIME,
            },
        )

with st.expander("About this job"):
    st.markdown(
        f"- Domain: **{job.domain}**, status **{job.status}**\n"
        f"- Crawl created {render.utc(job.created_at)}, completed {render.utc(job.completed_at)}\n"
        f"- Imported {render.utc(job.imported_at, seconds=True)} from {job.source} ({job.source_format})"
    )
    for note in job.notes:
        st.markdown(f"- Import note: {note}")
