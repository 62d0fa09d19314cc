"""What every page starts with: the router's guard, then the job in view or an empty state."""

from __future__ import annotations

import streamlit as st
from streamlit.runtime.pages_manager import PagesManager

from crawldash.store import Job
from ui import data, state


def routed() -> None:
    """Make sure a page runs through app.py's router.

    Streamlit treats a `pages/` folder as an old-style multipage app until `st.navigation` has run
    once in the process: on a fresh server the first request for a deep link (`/overview?job=…`)
    would run the page alone, without the sidebar or the view. We switch that mode off and rerun,
    so app.py routes the request.
    """
    if PagesManager.uses_pages_directory:
        PagesManager.uses_pages_directory = False
        st.rerun()


def job_in_view(title: str) -> tuple[Job, state.View]:
    """The current job and view; stops the page with an empty state when there is no job."""
    routed()
    view = state.current()
    jobs = {j.job_id: j for j in data.jobs()}
    job = jobs.get(view.job_id)
    st.title(title)
    if job is None:
        st.info("No crawl in the database yet. Import a crawl export on the Data page.", icon="ℹ️")
        st.page_link("pages/data.py", label="Go to the Data page", icon=":material/upload:")
        st.stop()
    st.caption(f"`{job.domain}` · job `{job.job_id}` · {job.task_count:,} tasks · {view.filters.describe()}")
    return job, view
