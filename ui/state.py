"""One view for every page: the job, the filters, the sort and the page position, kept in the URL.

The view is the widgets' own values in `st.session_state` (the page position, which has no widget,
sits beside them), and it is also in the URL with the seed's parameter names (`status`, `cache`,
`path`, `sort`, `limit`) plus `job`, `status_code` and `offset`, so a copied link opens the same
view for a colleague. A URL we did not write (a first load, a pasted link) is read with crawldash's
own validation: an invalid value is dropped with a visible note, never an exception. A page switch
from the navigation, which arrives with no query at all, keeps the view.
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
ANY = "any"
#: Session-state keys of the view: the widgets' keys, and the offset.
KEYS = {
    "job": "w_job",
    "status": "w_status",
    "cache": "w_cache",
    "path": "w_path",
    "status_code": "w_status_code",
    "sort_field": "w_sort_field",
    "sort_dir": "w_sort_dir",
    "limit": "w_limit",
    "offset": "v_offset",
}
DEFAULT_SORT = Sort.parse(schema.DEFAULT_SORT)
DEFAULTS = {
    "job": None,
    "status": ANY,
    "cache": ANY,
    "path": "",
    "status_code": "",
    "sort_field": DEFAULT_SORT.field,
    "sort_dir": "descending" if DEFAULT_SORT.descending else "ascending",
    "limit": schema.DEFAULT_LIMIT,
    "offset": 0,
}


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
        if self.sort != DEFAULT_SORT:
            out["sort"] = str(self.sort)
        if self.limit != schema.DEFAULT_LIMIT:
            out["limit"] = str(self.limit)
        if self.offset:
            out["offset"] = str(self.offset)
        return out


def _get(name: str):
    return st.session_state.get(KEYS[name], DEFAULTS[name])


def _set(name: str, value) -> None:
    st.session_state[KEYS[name]] = value


def current() -> View:
    """The view the widgets hold (an HTTP code that is not one is left out, with a note)."""
    params = {
        "status": None if _get("status") == ANY else _get("status"),
        "cache": None if _get("cache") == ANY else _get("cache"),
        "path": _get("path"),
    }
    code = str(_get("status_code") or "").strip()
    try:
        filters = Filters.from_params({**params, "status_code": code or None})
    except InvalidParameter:  # code_problem() says why in the sidebar
        filters = Filters.from_params(params)
    sort = Sort(_get("sort_field"), _get("sort_dir") == "descending")
    return View(_get("job"), filters, sort, int(_get("limit")), int(_get("offset")))


def code_problem() -> str | None:
    """Why the HTTP code typed in the sidebar is not used, if it is not."""
    code = str(_get("status_code") or "").strip()
    if not code:
        return None
    try:
        Filters.from_params({"status_code": code})
    except InvalidParameter as exc:
        return f"HTTP code {exc.value!r} is not used: expected {exc.expected}"
    return None


def go_to(offset: int) -> None:
    """A callback of the paging buttons (the URL's notes are about a view that is left now)."""
    _set("offset", max(offset, 0))
    st.session_state["url_notes"] = []


def first_page() -> None:
    """A callback for every widget that changes what matches or how it is ordered."""
    _set("offset", 0)
    st.session_state["url_notes"] = []


def choose_job(job_id: str | None) -> None:
    """Show another job from its first page (before the job widget exists in this run)."""
    _set("job", job_id)
    _set("offset", 0)


def request_job(job_id: str | None) -> None:
    """Show another job from the next run on (after an import or a delete, once widgets exist)."""
    st.session_state["_pending_job"] = job_id


def clear_filters() -> None:
    for name in FILTER_PARAMS:
        _set(name, DEFAULTS[name])
    first_page()


def read_url(jobs: list[Job]) -> None:
    """Take the view from a URL we did not write ourselves; note each value that is dropped.

    Runs before any widget of the run exists, so it may set their values.
    """
    params = st.query_params.to_dict()
    ids = [j.job_id for j in jobs]
    if "_pending_job" in st.session_state:
        choose_job(st.session_state.pop("_pending_job"))
    if params == st.session_state.get("_url") or (not params and "_url" in st.session_state):
        if _get("job") not in ids:  # deleted meanwhile, or no job yet
            choose_job(ids[0] if ids else None)
        return
    notes: list[str] = []
    wanted = params.get("job")
    if wanted and wanted not in ids:
        notes.append(f"job {wanted!r} is not in the database: showing the newest job instead")
    choose_job(wanted if wanted in ids else (ids[0] if ids else None))
    for name in FILTER_PARAMS:
        try:
            value = getattr(Filters.from_params({name: params.get(name)}), name)
        except InvalidParameter as exc:
            value = None
            notes.append(f"{exc}: ignored")
        _set(name, DEFAULTS[name] if value is None else (str(value) if name == "status_code" else value))
    try:
        sort = Sort.parse(params.get("sort"))
    except InvalidParameter as exc:
        sort = DEFAULT_SORT
        notes.append(f"{exc}: sorted by {schema.DEFAULT_SORT} instead")
    _set("sort_field", sort.field)
    _set("sort_dir", "descending" if sort.descending else "ascending")
    for name, clamp in (("limit", clamp_limit), ("offset", clamp_offset)):
        try:
            value, note = clamp(params.get(name))
        except InvalidParameter as exc:
            value, note = DEFAULTS[name], f"{exc}: using {DEFAULTS[name]}"
        _set(name, value)
        if note:
            notes.append(note)
    unknown = sorted(set(params) - set(URL_PARAMS))
    if unknown:
        notes.append("unknown URL parameters ignored: " + ", ".join(unknown))
    st.session_state["url_notes"] = notes


def write_url(view: View | None = None) -> None:
    """Put the view in the URL (only when it changed, so nothing reruns for it)."""
    params = (view or current()).params()
    if params != st.query_params.to_dict():
        st.query_params.from_dict(params)
    st.session_state["_url"] = params


def notes() -> list[str]:
    return st.session_state.get("url_notes", [])


# --- widgets ----------------------------------------------------------------------------------------------


def _job_label(job: Job) -> str:
    when = job.created_at.strftime("%Y-%m-%d") if job.created_at else "no date"
    return f"{job.domain} · {when} · {job.task_count:,} tasks"


def _ensure(*names: str) -> None:
    """Give widgets their view value before they are created (they are created from it)."""
    for name in names:
        st.session_state.setdefault(KEYS[name], DEFAULTS[name])


def sidebar(jobs: list[Job]) -> View:
    """The shared filter widgets in the sidebar; returns the view they make."""
    _ensure("status", "cache", "path", "status_code", "offset")
    with st.sidebar:
        if jobs:
            by_id = {j.job_id: j for j in jobs}
            st.selectbox(
                "Job",
                list(by_id),
                format_func=lambda i: _job_label(by_id[i]),
                key=KEYS["job"],
                on_change=first_page,
                help="The crawl to explore: domain, crawl date and task count.",
            )
        st.selectbox("Status", (ANY, *schema.STATUSES), key=KEYS["status"], on_change=first_page)
        st.radio(
            "Cache",
            (ANY, "hit", "miss"),
            key=KEYS["cache"],
            horizontal=True,
            on_change=first_page,
            help="hit = HIT or DYNAMIC; miss = MISS or EXPIRED (the original product's groups).",
        )
        st.text_input(
            "Path contains",
            key=KEYS["path"],
            on_change=first_page,
            help="Case-insensitive, literal: _ % and \\ match only themselves.",
        )
        st.text_input(
            "HTTP code",
            key=KEYS["status_code"],
            on_change=first_page,
            placeholder="e.g. 404",
            help='The task\'s HTTP code, or the one its error names ("Not Found" is 404).',
        )
        view = current()
        problem = code_problem()
        if problem:
            st.warning(problem, icon="⚠️")
        st.caption(f"Showing {view.filters.describe()}.")
        if view.filters != Filters() or problem:
            st.button("Clear filters", on_click=clear_filters)
        for note in notes():
            st.warning(note, icon="⚠️")
    return view


def tasks_controls(page_sizes: tuple[int, ...]) -> None:
    """The Tasks page's sort and page-size widgets (their values outlive a visit to another page)."""
    _ensure("sort_field", "sort_dir", "limit")
    sizes = sorted({*page_sizes, int(_get("limit"))})
    left, middle, right = st.columns([3, 2, 2])
    left.selectbox(
        "Sort by",
        schema.SORT_FIELDS,
        format_func=schema.HEADINGS.get,
        key=KEYS["sort_field"],
        on_change=first_page,
        persist_state="session",
    )
    middle.radio(
        "Direction",
        ("ascending", "descending"),
        horizontal=True,
        key=KEYS["sort_dir"],
        on_change=first_page,
        persist_state="session",
        help="Missing values sort last either way.",
    )
    right.selectbox("Per page", sizes, key=KEYS["limit"], on_change=first_page, persist_state="session")
