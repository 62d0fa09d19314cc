"""Shared render bits: the tasks table's columns, KPI cards, empty states."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from crawldash import schema
from crawldash.timefmt import iso

MISSING = "—"


def ms(value) -> str:
    return MISSING if value is None or value != value else f"{value:,.0f} ms"


def count(value) -> str:
    return MISSING if value is None else f"{value:,}"


def percent(value) -> str:
    return MISSING if value is None else f"{value:.1%}"


def duration(milliseconds: int | None) -> str:
    """1,385,140 ms -> '23.1 min'; short enough for a KPI card."""
    if milliseconds is None:
        return MISSING
    seconds = milliseconds / 1000
    for unit, size in (("h", 3600), ("min", 60)):
        if abs(seconds) >= size:
            return f"{seconds / size:,.1f} {unit}"
    return f"{seconds:,.1f} s"


def utc(value, *, seconds: bool = False) -> str:
    """A timestamp as shown everywhere: 2026-11-02 01:10:00 UTC (never the server's or browser's zone).

    `seconds` drops a fraction (for times of our own, such as when a job was imported)."""
    if value is not None and seconds:
        value = value.replace(microsecond=0)
    text = iso(value)
    return MISSING if text is None else text.replace("T", " ").replace("Z", " UTC")


def ms_short(value) -> str:
    """A response time short enough for a KPI card: 115 ms, 1.29 s."""
    if value is None or value != value:
        return MISSING
    return f"{value:,.0f} ms" if value < 1000 else f"{value / 1000:,.2f} s"


def kpi(column, key: str, value: str) -> None:
    """A KPI card whose help text gives the formula from SPEC (crawldash.schema.KPIS)."""
    spec = schema.KPI_BY_KEY[key]
    column.metric(spec.label, value, help=spec.formula, border=True)


def http_text(task: dict) -> str:
    """The HTTP code shown: the task's own, or the one its error names, marked with *."""
    if task["status_code"] is not None:
        return str(task["status_code"])
    return f"{task['http_code']}*" if task["http_code"] is not None else MISSING


def tasks_frame(tasks: list[dict], *, show_host: bool, show_views: bool) -> tuple[pd.DataFrame, dict]:
    """The tasks of one page as the table shows them, and the table's column config."""
    rows = []
    for t in tasks:
        row = {
            "url": t["url"],
            "host": t["host"] or "",
            "status": t["status"],
            "http": http_text(t),
            "response_time": t["response_time"],
            "cache_status": t["cache_status"],
            "second_response_time": t["second_response_time"],
            "second_cache_status": t["second_cache_status"],
            "content_type": t["content_type"],
            "source_type": t["source_type"],
            "page_views_7d": t["page_views_7d"],
            "page_views_28d": t["page_views_28d"],
            "page_views_180d": t["page_views_180d"],
            "created_at": utc(t["created_at"]),
            "error": t["error"],
            "id": t["id"],
        }
        rows.append(row)
    frame = pd.DataFrame(rows, columns=list(COLUMN_CONFIG))
    for name in ("response_time", "second_response_time", "page_views_7d", "page_views_28d", "page_views_180d"):
        frame[name] = frame[name].astype("Int64")
    hidden = set()
    if not show_host:
        hidden.add("host")
    if not show_views:
        hidden |= set(schema.ANALYTICS_FIELDS)
    config = {k: (None if k in hidden else v) for k, v in COLUMN_CONFIG.items()}
    return frame, config


_H = schema.HEADINGS


def _help(name: str) -> str:
    return schema.COLUMNS[name].meaning[0].upper() + schema.COLUMNS[name].meaning[1:] + "."


#: The tasks table's columns (keys of `tasks_frame`), headed by crawldash.schema.HEADINGS.
COLUMN_CONFIG = {
    "url": st.column_config.LinkColumn(
        _H["url"],
        display_text=r"https?://[^/]+(/[^?#]*)",
        width="large",
        help="The page crawled (opens it); the path is shown.",
    ),
    "host": st.column_config.TextColumn(_H["host"], help="Shown because some pages are on another host."),
    "status": st.column_config.TextColumn(_H["status"]),
    "http": st.column_config.TextColumn(_H["status_code"], help="HTTP code; * = derived from the error text."),
    "error": st.column_config.TextColumn(_H["error"], width="medium"),
    "response_time": st.column_config.NumberColumn(
        _H["response_time"], format="localized", help=_help("response_time")
    ),
    "cache_status": st.column_config.TextColumn(_H["cache_status"], help=_help("cache_status")),
    "second_response_time": st.column_config.NumberColumn(
        _H["second_response_time"], format="localized", help=_help("second_response_time")
    ),
    "second_cache_status": st.column_config.TextColumn(_H["second_cache_status"], help=_help("second_cache_status")),
    "content_type": st.column_config.TextColumn(_H["content_type"]),
    "source_type": st.column_config.TextColumn(_H["source_type"], help=_help("source_type")),
    **{
        name: st.column_config.NumberColumn(_H[name], format="localized", help=_help(name))
        for name in schema.ANALYTICS_FIELDS
    },
    "created_at": st.column_config.TextColumn(_H["created_at"]),
    "id": st.column_config.TextColumn(_H["id"]),
}
#: The effective response time, a column of the Overview's slow pages.
EFFECTIVE_TIME = st.column_config.NumberColumn(
    _H["effective_time"],
    format="localized",
    help="The second request's time when it exists (> 0 ms), else the first request's.",
)


def empty_state(message: str, hint: str | None = None) -> None:
    st.info(message + (f" {hint}" if hint else ""), icon="ℹ️")
