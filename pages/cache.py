"""Cache: status breakdown, hit rate by section and over time, what warming achieved."""

import streamlit as st

from crawldash import charts
from ui import data, render
from ui.page import job_in_view

job, view = job_in_view("Cache")
scope = view.filters.describe()


def series(name: str, **options):
    return data.series(name, job.job_key, job.job_id, view.filters, **options)


k = data.kpis(job.job_key, job.job_id, view.filters)
if k["browser_cached"]:
    st.caption(
        f"{k['browser_cached']:,} entries the browser served from its own cache are left out: they never "
        "reached the CDN."
    )
cols = st.columns(3)
render.kpi(cols[0], "cache_hit_rate", render.percent(k["cache_hit_rate"]))
render.kpi(cols[1], "dynamic_share", render.percent(k["dynamic_share"]))
render.kpi(cols[2], "warmed", render.count(k["warmed"]))

breakdown = series("cache_breakdown")
st.plotly_chart(charts.cache_breakdown(breakdown, scope=scope))
others = breakdown.attrs.get("other_statuses") or {}
if others:
    st.caption("“other” holds: " + ", ".join(f"{name} ({n:,})" for name, n in others.items()))
left, right = st.columns(2)
left.plotly_chart(charts.hit_rate(series("by_section"), "section", "section", scope=scope))
right.plotly_chart(charts.warming_outcome(series("warming_outcome"), scope=scope))
st.plotly_chart(charts.hit_rate(series("over_time"), "start", "crawl time", scope=scope))
