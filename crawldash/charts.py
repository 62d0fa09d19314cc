"""Plotly figures from the binned series in `crawldash.stats`: data in, figure out, no I/O.

Every title says what the chart counts ("1,183 pages with a second request; all tasks"), so a
screenshot stands on its own.
"""

from __future__ import annotations

import math

import pandas as pd
import plotly.graph_objects as go

FIRST, SECOND, ACCENT, MUTED, BAD = "#4C78A8", "#F58518", "#54A24B", "#9D9DA6", "#E45756"
CACHE_COLOURS = {
    "HIT": "#54A24B",
    "MISS": "#E45756",
    "EXPIRED": "#F58518",
    "DYNAMIC": "#4C78A8",
    "other": "#B279A2",
    "none": "#9D9DA6",
}
CACHE_LABELS = {"DYNAMIC": "DYNAMIC (not cacheable)"}


def _layout(fig: go.Figure, title: str, x: str, y: str, **extra) -> go.Figure:
    extra.setdefault("height", 380)
    fig.update_layout(
        title={"text": title, "x": 0, "xanchor": "left"},
        xaxis_title=x,
        yaxis_title=y,
        margin={"l": 10, "r": 10, "t": 60, "b": 10},
        legend={"orientation": "h", "y": -0.2},
        bargap=0.05,
        **extra,
    )
    return fig


def _scope(scope: str) -> str:
    return "" if scope in ("", "all tasks") else f"; {scope}"


def empty(title: str, message: str) -> go.Figure:
    """A figure that says there is nothing to draw, and why."""
    fig = go.Figure()
    fig.add_annotation(text=message, showarrow=False, x=0.5, y=0.5, xref="paper", yref="paper")
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    return _layout(fig, title, "", "")


def response_time_distribution(
    hist: pd.DataFrame, percentiles: dict, *, log: bool = False, scope: str = "", what: str = "effective response time"
) -> go.Figure:
    """Tasks per response-time bin, with p50/p90/p95/p99 markers.

    On the log scale the bars are drawn at log10 of their edges on a linear axis labelled in ms, so
    bars, markers and labels all share one coordinate.
    """
    total = int(hist["tasks"].sum()) if len(hist) else 0
    title = f"Distribution of the {what}: {total:,} timed tasks{_scope(scope)}"
    if not total:
        return empty(title, "No task with a response time matches.")
    starts = hist["start_ms"].astype(float)
    ends = hist["end_ms"].astype(float)
    if log:
        ends = ends.fillna(starts * 10**0.1)
        position = lambda ms: math.log10(max(ms, 1))  # noqa: E731 - one coordinate for bars and markers
        left, right = starts.map(position), ends.map(position)
    else:
        step = hist["start_ms"].diff().median() if len(hist) > 1 else 1.0
        ends = ends.fillna(starts + step)
        position = float
        left, right = starts, ends
    labels = [
        f"{s:,.0f}–{e:,.0f} ms" if not math.isnan(e) else f"≥ {s:,.0f} ms"
        for s, e in zip(hist["start_ms"], hist["end_ms"].astype(float), strict=True)
    ]
    fig = go.Figure(
        go.Bar(
            x=(left + right) / 2,
            y=hist["tasks"],
            width=right - left,
            marker_color=FIRST,
            name="tasks",
            customdata=labels,
            hovertemplate="%{customdata}<br>%{y:,} tasks<extra></extra>",
        )
    )
    marked = [(n, percentiles.get(n)) for n in ("p50", "p90", "p95", "p99") if percentiles.get(n) is not None]
    for index, (name, value) in enumerate(marked):
        fig.add_vline(x=position(value), line_dash=("solid", "dot", "dash", "longdash")[index], line_color=BAD)
        fig.add_annotation(
            x=position(value),
            y=1 - 0.08 * index,
            yref="paper",
            text=f"{name} {value:,.0f} ms",
            showarrow=False,
            xanchor="left",
            font={"size": 11, "color": BAD},
            bgcolor="rgba(255,255,255,0.8)",
        )
    if log:
        decades = range(0, math.ceil(float(right.max())) + 1)
        fig.update_xaxes(tickvals=list(decades), ticktext=[f"{10**d:,} ms" for d in decades])
        return _layout(fig, title, "milliseconds (log scale)", "tasks")
    return _layout(fig, title, "milliseconds", "tasks")


def _no_timing(frame: pd.DataFrame) -> bool:
    return not len(frame) or not frame["p50"].notna().any()


def first_vs_second(frame: pd.DataFrame, scope: str = "") -> go.Figure:
    """Median and p95 of the first and the second request, for warmed pages and for the others."""
    total = int(frame["tasks"].sum()) if len(frame) else 0
    title = f"First vs second request: {total:,} pages with a second request{_scope(scope)}"
    if not total:
        return empty(title, "No page matching the filters has a second request.")
    groups = [f"{row.pages} ({row.tasks:,})" for row in frame.itertuples()]
    fig = go.Figure()
    for column, label, colour in (
        ("first_p50", "first request, median", FIRST),
        ("first_p95", "first request, p95", "#9ECAE9"),
        ("second_p50", "second request, median", SECOND),
        ("second_p95", "second request, p95", "#FFBF79"),
    ):
        fig.add_bar(
            x=groups,
            y=frame[column],
            name=label,
            marker_color=colour,
            hovertemplate="%{x}<br>%{y:,.0f} ms<extra>" + label + "</extra>",
        )
    return _layout(fig, title, "", "milliseconds", barmode="group")


def by_group(frame: pd.DataFrame, key: str, title_key: str, scope: str = "") -> go.Figure:
    """Median and p95 effective response time per group (section, content type), busiest first."""
    title = f"Response time by {title_key}: the {len(frame)} busiest{_scope(scope)}"
    if _no_timing(frame):
        return empty(title, "No task with a response time matches.")
    frame = frame.iloc[::-1]
    names = frame[key].astype(str)
    fig = go.Figure()
    fig.add_bar(
        y=names,
        x=frame["p50"],
        orientation="h",
        name="median",
        marker_color=FIRST,
        customdata=frame["tasks"],
        hovertemplate="%{y}: median %{x:,.0f} ms, %{customdata:,} tasks<extra></extra>",
    )
    fig.add_bar(
        y=names,
        x=frame["p95"],
        orientation="h",
        name="p95",
        marker_color="#9ECAE9",
        customdata=frame["tasks"],
        hovertemplate="%{y}: p95 %{x:,.0f} ms, %{customdata:,} tasks<extra></extra>",
    )
    return _layout(fig, title, "effective response time (ms)", "", barmode="group", height=120 + 28 * len(frame))


def over_time(frame: pd.DataFrame, scope: str = "") -> go.Figure:
    """Median and p95 effective response time per slice of the crawl, with the tasks crawled."""
    total = int(frame["tasks"].sum()) if len(frame) else 0
    step = int(frame["seconds"].iloc[0]) if len(frame) else 0
    title = f"Response time over the crawl: {total:,} tasks in {_duration(step)} slices{_scope(scope)}"
    if not total:
        return empty(title, "No task with a crawl time matches.")
    if _no_timing(frame):
        return empty(title, "No task with a response time matches.")
    fig = go.Figure()
    fig.add_bar(
        x=frame["start"],
        y=frame["tasks"],
        name="tasks crawled",
        marker_color="#DDDDE3",
        yaxis="y2",
        opacity=0.6,
        hovertemplate="%{x}<br>%{y:,} tasks<extra></extra>",
    )
    fig.add_scatter(x=frame["start"], y=frame["p50"], name="median", mode="lines+markers", line_color=FIRST)
    fig.add_scatter(x=frame["start"], y=frame["p95"], name="p95", mode="lines", line_color=BAD, line_dash="dash")
    return _layout(
        fig,
        title,
        "crawl time (UTC)",
        "effective response time (ms)",
        yaxis={"rangemode": "tozero"},
        yaxis2={
            "overlaying": "y",
            "side": "right",
            "title": "tasks",
            "showgrid": False,
            "rangemode": "tozero",
            "tickformat": ",d",
        },
    )


def _duration(seconds: int) -> str:
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size and seconds % size == 0:
            n = seconds // size
            return f"{n}-{unit}" if n != 1 else unit
    return f"{seconds}-second"


def cache_breakdown(frame: pd.DataFrame, scope: str = "") -> go.Figure:
    """Tasks per first-request cache status; DYNAMIC shown as not cacheable."""
    total = int(frame["tasks"].sum()) if len(frame) else 0
    title = f"Cache status of the first request: {total:,} tasks{_scope(scope)}"
    if not total:
        return empty(title, "No task matches.")
    names = [CACHE_LABELS.get(s, s) for s in frame["cache_status"]]
    fig = go.Figure(
        go.Bar(
            x=names,
            y=frame["tasks"],
            marker_color=[CACHE_COLOURS[s] for s in frame["cache_status"]],
            text=[f"{s:.0%}" if s == s and s is not None else "" for s in frame["share"]],
            textposition="outside",
            hovertemplate="%{x}: %{y:,} tasks<extra></extra>",
        )
    )
    return _layout(fig, title, "", "tasks")


def hit_rate(frame: pd.DataFrame, key: str, title_key: str, scope: str = "") -> go.Figure:
    """Cache hit rate, HIT / (HIT + MISS + EXPIRED), per group or per slice of time."""
    rated = frame[frame["hit_rate"].notna()] if len(frame) else frame
    title = f"Cache hit rate by {title_key}{_scope(scope)}"
    if not len(rated):
        return empty(title, "No first request was a HIT, MISS or EXPIRED.")
    hover = "%{x}: %{y:.1%} (%{customdata[0]:,} hits, %{customdata[1]:,} misses)<extra></extra>"
    custom = rated[["hits", "misses"]].to_numpy()
    if key == "start":
        fig = go.Figure(
            go.Scatter(
                x=rated["start"],
                y=rated["hit_rate"],
                mode="lines+markers",
                line_color=ACCENT,
                customdata=custom,
                hovertemplate=hover,
            )
        )
    else:
        fig = go.Figure(
            go.Bar(
                x=rated[key].astype(str),
                y=rated["hit_rate"],
                marker_color=ACCENT,
                customdata=custom,
                hovertemplate=hover,
            )
        )
    fig.update_yaxes(tickformat=".0%", range=[0, 1.05])
    return _layout(fig, title, "crawl time (UTC)" if key == "start" else title_key, "hit rate")


def warming_outcome(frame: pd.DataFrame, scope: str = "") -> go.Figure:
    """MISS/EXPIRED first requests: warmed by the second request, not warmed, or not re-requested."""
    total = int(frame["tasks"].sum()) if len(frame) else 0
    title = f"Cache warming of {total:,} MISS/EXPIRED pages{_scope(scope)}"
    if not total:
        return empty(title, "No first request was a MISS or EXPIRED.")
    colours = {"warmed": ACCENT, "not warmed": BAD, "no second request": MUTED}
    fig = go.Figure(
        go.Bar(
            x=frame["outcome"],
            y=frame["tasks"],
            marker_color=[colours[o] for o in frame["outcome"]],
            text=[f"{n / total:.0%}" for n in frame["tasks"]],
            textposition="outside",
            hovertemplate="%{x}: %{y:,} pages<extra></extra>",
        )
    )
    return _layout(fig, title, "", "pages")
