"""Reports: all tasks, broken links and slow pages as CSV, JSON or XLSX, built when clicked."""

from functools import partial

import streamlit as st

from crawldash import export, schema
from crawldash.query import Filters
from ui import data
from ui.page import job_in_view

job, view = job_in_view("Reports")
TYPES = {"job": "All tasks", "broken-links": "Broken links", "slow-pages": "Slow pages (> 3,000 ms)"}
FORMATS = {"csv": "CSV (Excel, Sheets)", "json": "JSON (the original API's export)", "xlsx": "XLSX (Excel)"}


def build(export_type: str, fmt: str, filters: Filters) -> bytes:
    """The file's bytes, made when the button is clicked (runs outside the script: no st.* calls)."""
    return export.export_bytes(data.store(), job.job_id, export_type, fmt, filters)[0]


def downloads(filters: Filters, key: str) -> None:
    for export_type, title in TYPES.items():
        info = data.export_info(job.job_key, job.job_id, export_type, filters)
        with st.container(border=True):
            st.markdown(f"**{title}** · {info.matched:,} task{'s' if info.matched != 1 else ''}")
            if info.truncated:
                st.warning(
                    f"{info.matched:,} tasks match: the export holds the newest {info.exported:,} "
                    f"(exports stop at {schema.EXPORT_CAP:,} tasks, as the original's did).",
                    icon="✂️",
                )
            if not info.matched:
                st.caption("Nothing to export.")
                continue
            cols = st.columns(len(FORMATS))
            for column, (fmt, label) in zip(cols, FORMATS.items(), strict=True):
                column.download_button(
                    label,
                    data=partial(build, export_type, fmt, filters),
                    file_name=export.filename(job, export_type, fmt, filters=filters),
                    mime=export.CONTENT_TYPES[fmt],
                    key=f"{key}_{export_type}_{fmt}",
                    on_click="ignore",
                    icon=":material/download:",
                )


st.subheader("The whole job")
downloads(Filters(), "all")
st.subheader("The current filtered view")
if view.filters == Filters():
    st.caption("No filter is set in the sidebar: the view is the whole job.")
else:
    st.caption(f"Only tasks where {view.filters.describe()}.")
    downloads(view.filters, "view")
