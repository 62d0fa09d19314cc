"""Tasks: filter, sort and page through the crawl; select a row for its full detail."""

import math

import streamlit as st

from crawldash import schema
from crawldash.errors import UnknownJob
from ui import data, render, state
from ui.page import job_in_view

PAGE_SIZES = (25, 50, 100, 200)

job, _ = job_in_view("Tasks")


def detail(task: dict) -> None:
    """Everything about one task: status, both requests side by side, error, where it was found."""
    st.subheader(task["path"])
    st.markdown(f"[{task['url']}]({task['url']})")
    a, b, c, d = st.columns(4)
    a.metric("Status", task["status"])
    b.metric(
        "HTTP", render.http_text(task), help="* = no status code was recorded; this is the code the error text names."
    )
    c.metric("Retries", render.count(task["retry_count"]))
    d.metric("Content type", task["content_type"] or render.MISSING)
    first, second = st.columns(2)
    with first.container(border=True):
        st.markdown("**First request**")
        st.metric("Response time", render.ms(task["response_time"]))
        st.metric("Cache", task["cache_status"] or render.MISSING)
    with second.container(border=True):
        st.markdown("**Second request** (cache warming check)")
        st.metric("Response time", render.ms(task["second_response_time"]))
        st.metric("Cache", task["second_cache_status"] or render.MISSING)
    if task["error"]:
        st.markdown("**Error**")
        st.code(task["error"], language=None, wrap_lines=True)
    found = f"found by **{task['source_type'] or 'unknown'}**"
    if task["source_url"]:
        found += f" on [{task['source_url']}]({task['source_url']})"
    st.markdown(found)
    views = [task[f] for f in schema.ANALYTICS_FIELDS]
    st.markdown(
        "Page views 7d / 28d / 180d: " + " / ".join(render.count(v) for v in views)
        if any(v is not None for v in views)
        else "No analytics data for this page."
    )
    st.caption(
        f"Task {task['id']} · created {render.utc(task['created_at'])} · started "
        f"{render.utc(task['started_at'])} · completed {render.utc(task['completed_at'])}"
    )


@st.fragment
def table() -> None:
    state.tasks_controls(PAGE_SIZES)
    view = state.current()
    try:
        page = data.tasks_page(job.job_key, job.job_id, view.filters, str(view.sort), view.limit, view.offset)
    except UnknownJob:
        st.warning("This job was deleted meanwhile (in another tab?). Pick another job in the sidebar.", icon="⚠️")
        st.button("Reload", on_click=st.rerun)
        return
    for note in page.notes:
        st.warning(note, icon="⚠️")
    if page.total == 0:
        render.empty_state(f"No task matches {view.filters.describe()}.", "Change or clear the filters in the sidebar.")
        state.write_url(view)
        return
    if not page.tasks:
        render.empty_state(f"Offset {view.offset:,} is past the last of {page.total:,} tasks.")
        st.button("Back to the first page", on_click=state.go_to, args=(0,))
        state.write_url(view)
        return
    first, last = view.offset + 1, view.offset + len(page.tasks)
    st.markdown(f"**{first:,}–{last:,} of {page.total:,} tasks**")
    frame, config = render.tasks_frame(
        page.tasks, show_host=data.has_other_hosts(job.job_key, job.job_id), show_views=job.has_analytics
    )
    # One table widget for every page of results (a new key would rebuild the grid in the browser,
    # ~200 ms a page); the selection is cleared whenever the rows it points at change.
    shows = (job.job_key, view.filters, str(view.sort), view.limit, view.offset)
    if st.session_state.get("_table_shows") != shows:
        st.session_state["_table_shows"] = shows
        st.session_state["w_table"] = {"selection": {"rows": []}}
    picked = st.dataframe(
        frame,
        column_config=config,
        hide_index=True,
        on_select="rerun",
        selection_mode="single-row",
        key="w_table",
        placeholder="—",
        height=min(len(frame), 20) * 35 + 38,
    )
    st.caption("Sort the whole job with “Sort by” above; a click on a column header sorts only this page.")
    pages = max(math.ceil(page.total / view.limit), 1)
    current = view.offset // view.limit + 1
    cols = st.columns([1, 1, 2, 1, 1])
    cols[0].button("« First", on_click=state.go_to, args=(0,), disabled=not page.has_prev, key="w_first")
    cols[1].button(
        "‹ Previous", on_click=state.go_to, args=(view.offset - view.limit,), disabled=not page.has_prev, key="w_prev"
    )
    cols[2].markdown(f"Page {current:,} of {pages:,}")
    cols[3].button(
        "Next ›", on_click=state.go_to, args=(view.offset + view.limit,), disabled=not page.has_next, key="w_next"
    )
    cols[4].button(
        "Last »", on_click=state.go_to, args=((pages - 1) * view.limit,), disabled=not page.has_next, key="w_last"
    )
    state.write_url(view)
    rows = picked.selection.rows if picked is not None else []
    if rows:
        detail(page.tasks[rows[0]])
    else:
        st.caption("Select a row for the task's full detail.")


table()
