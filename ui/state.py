"""One view for every page: the job, the filters, the sort and the page position, kept in the URL.

The view lives in `st.session_state["view"]` and in the URL with the seed's parameter names
(`status`, `cache`, `path`, `sort`, `limit`) plus `job`, `status_code` and `offset`, so a copied
link opens the same view for a colleague. A URL we did not write (a first load, a pasted link) is
read with crawldash's own validation: an invalid value is dropped with a visible note, never an
exception. Widgets are created from the view and write back to it through their callbacks.
"""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

from crawldash import schema
from crawldash.errors import InvalidParameter
from crawldash.query import Filters, Sort, clamp_limit, clamp_offset
from crawldash.store import Job

FILTER_PARAMS = ("status", "cache", "path", "status_code")
URL_PARAMS = ("job", *FILTER_PARAMS, "sort", "limit", "offset")
DEFAULTS = {"sort": schema.DEFAULT_SORT, "limit": schema.DEFAULT_LIMIT, "offset": 0}
WIDGET_PREFIX = "w_"


@dataclass(frozen=True)
class View:
    """What the user is looking at; hashable, so it is also a cache key."""

    job_id: str | None
    filters: Filters
    sort: Sort
    limit: int
    offset: int

    def params(self) -> dict[str, str]:
        """The URL's query: the job always, the rest when not the default."""
        out = {"job": self.job_id} if self.job_id else {}
        out.update(self.filters.params())
        if str(self.sort) != DEFAULTS["sort"]:
            out["sort"] = str(self.sort)
        if self.limit != DEFAULTS["limit"]:
            out["limit"] = str(self.limit)
        if self.offset:
            out["offset"] = str(self.offset)
        return out


def _state() -> dict:
    return st.session_state.setdefault("view", {"job": None, **dict.fromkeys(FILTER_PARAMS), **DEFAULTS})


def current() -> View:
    s = _state()
    return View(s["job"], Filters(**{k: s[k] for k in FILTER_PARAMS}), Sort.parse(s["sort"]), s["limit"], s["offset"])


def set_value(name: str, value) -> None:
    """Change one part of the view; a filter or job change goes back to the first page."""
    s = _state()
    s[name] = value
    if name in ("job", *FILTER_PARAMS, "limit", "sort"):
        s["offset"] = 0


def _forget_widgets() -> None:
    for key in [k for k in st.session_state if str(k).startswith(WIDGET_PREFIX)]:
        del st.session_state[key]


def read_url(jobs: list[Job]) -> None:
    """Take the view from a URL we did not write ourselves; note each value that is dropped."""
    params = st.query_params.to_dict()
    if params == st.session_state.get("_url"):
        return
    notes: list[str] = []
    s = _state()
    ids = [j.job_id for j in jobs]
    wanted = params.get("job")
    if wanted and wanted not in ids:
        notes.append(f"job {wanted!r} is not in the database: showing the newest job instead")
    s["job"] = wanted if wanted in ids else (ids[0] if ids else None)
    for name in FILTER_PARAMS:
        try:
            s[name] = getattr(Filters.from_params({name: params.get(name)}), name)
        except InvalidParameter as exc:
            s[name] = None
            notes.append(f"{exc}: ignored")
    try:
        s["sort"] = str(Sort.parse(params.get("sort")))
    except InvalidParameter as exc:
        s["sort"] = DEFAULTS["sort"]
        notes.append(f"{exc}: sorted by {DEFAULTS['sort']} instead")
    for name, clamp in (("limit", clamp_limit), ("offset", clamp_offset)):
        try:
            s[name], note = clamp(params.get(name))
        except InvalidParameter as exc:
            s[name], note = DEFAULTS[name], f"{exc}: using {DEFAULTS[name]}"
        if note:
            notes.append(note)
    unknown = sorted(set(params) - set(URL_PARAMS))
    if unknown:
        notes.append("unknown URL parameters ignored: " + ", ".join(unknown))
    st.session_state["url_notes"] = notes
    _forget_widgets()


def write_url(view: View | None = None) -> None:
    """Put the view in the URL (only when it changed, so nothing reruns for it)."""
    params = (view or current()).params()
    if params != st.query_params.to_dict():
        st.query_params.from_dict(params)
    st.session_state["_url"] = params


def notes() -> list[str]:
    return st.session_state.get("url_notes", [])


def clear_notes() -> None:
    st.session_state["url_notes"] = []


# --- widgets ----------------------------------------------------------------------------------------------


def _callback(name: str, key: str, convert=lambda v: v):
    def changed() -> None:
        set_value(name, convert(st.session_state[key]))
        clear_notes()

    return changed


def _job_label(job: Job) -> str:
    when = job.created_at.strftime("%Y-%m-%d") if job.created_at else "no date"
    return f"{job.domain} · {when} · {job.task_count:,} tasks"


def sidebar(jobs: list[Job]) -> View:
    """The shared filter widgets in the sidebar; returns the view they make."""
    view = current()
    with st.sidebar:
        if jobs:
            by_id = {j.job_id: j for j in jobs}
            ids = list(by_id)
            st.selectbox(
                "Job",
                ids,
                index=ids.index(view.job_id) if view.job_id in by_id else 0,
                format_func=lambda i: _job_label(by_id[i]),
                key="w_job",
                on_change=_callback("job", "w_job"),
                help="The crawl to explore: domain, crawl date and task count.",
            )
        statuses = ("any", *schema.STATUSES)
        st.selectbox(
            "Status",
            statuses,
            index=statuses.index(view.filters.status or "any"),
            key="w_status",
            on_change=_callback("status", "w_status", lambda v: None if v == "any" else v),
        )
        caches = ("any", "hit", "miss")
        st.radio(
            "Cache",
            caches,
            index=caches.index(view.filters.cache or "any"),
            key="w_cache",
            horizontal=True,
            on_change=_callback("cache", "w_cache", lambda v: None if v == "any" else v),
            help="hit = HIT or DYNAMIC; miss = MISS or EXPIRED (the original product's groups).",
        )
        st.text_input(
            "Path contains",
            value=view.filters.path or "",
            key="w_path",
            on_change=_callback("path", "w_path", lambda v: v.strip() or None),
            help="Case-insensitive, literal: _ % and \\ match only themselves.",
        )
        st.number_input(
            "HTTP code",
            min_value=100,
            max_value=599,
            value=view.filters.status_code,
            step=1,
            key="w_status_code",
            on_change=_callback("status_code", "w_status_code", lambda v: None if v is None else int(v)),
            help='The task\'s HTTP code, or the one its error names ("Not Found" is 404).',
        )
        view = current()
        st.caption(f"Showing {view.filters.describe()}.")
        if view.filters != Filters():
            st.button("Clear filters", on_click=_clear_filters)
        for note in notes():
            st.warning(note, icon="⚠️")
    return current()


def _clear_filters() -> None:
    for name in FILTER_PARAMS:
        set_value(name, None)
    _forget_widgets()
