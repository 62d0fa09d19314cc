"""Performance: response-time distribution, first vs second request, by section, type and time."""

import streamlit as st

from crawldash import charts
from ui import data
from ui.page import job_in_view

job, view = job_in_view("Performance")
scope = view.filters.describe()


def series(name: str, **options):
    return data.series(name, job.job_key, job.job_id, view.filters, **options)


log = st.toggle("Log scale", value=False, help="Ten bins per decade: the long tail of slow pages becomes visible.")
st.plotly_chart(
    charts.response_time_distribution(series("histogram", log=log), series("percentiles"), log=log, scope=scope)
)
st.caption(
    "Effective response time: the second request's time when it exists (> 0 ms), else the first's. "
    "Entries a browser served from its own cache (HAR imports) are left out of timing charts."
)
st.plotly_chart(charts.first_vs_second(series("first_vs_second"), scope=scope))
left, right = st.columns(2)
left.plotly_chart(charts.by_group(series("by_section"), "section", "section", scope=scope))
right.plotly_chart(charts.by_group(series("by_content_type"), "content_type", "content type", scope=scope))
st.plotly_chart(charts.over_time(series("over_time"), scope=scope))
