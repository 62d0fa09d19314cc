"""Baseline (a): pandas holding the job in memory, as a notebook or a plain Streamlit app would.

`read_parquet` of the job's file, the ids sorted once at load and derived columns made once (the
effective response time, the section), then for each call: boolean masks, `sort_values` with
`na_position='last'` and `kind='stable'` over the id-ordered frame (the stable sort is the id
tie-break; a descending sort is the ascending one reversed with the nulls kept last, as our rule
says; a single-key stable sort is also faster than sorting on [field, id]), `iloc` for the page,
`to_dict('records')` for the rows. Exports use `to_csv`, `to_json` and `to_excel` (xlsxwriter).
"""

from __future__ import annotations

import io
import json
import time
from datetime import UTC, datetime

import numpy as np
import pandas as pd

from bench.data import ScenarioData
from bench.engines import Engine
from bench.mix import (
    CACHE_GROUPS,
    CONTENT_TOP,
    EXPORT_CAP,
    FIX_LIMIT,
    QUANTILES,
    SECTION_TOP,
    SLOW_MS,
    ListQuery,
    PageResult,
    hit_rate,
    linear_bins,
    norm,
    stats_result,
    time_step,
)
from crawldash import schema

TIMESTAMPS = ("created_at", "started_at", "completed_at")
INTS = ("status_code", "response_time", "second_response_time", "retry_count") + schema.ANALYTICS_FIELDS


def _positions(series: pd.Series, descending: bool, start: int, stop: int) -> np.ndarray:
    """Row positions [start, stop) of the order: ascending as sorted, descending reversed with the
    nulls kept last (ids reversed among them too)."""
    n = len(series)
    idx = np.arange(start, min(stop, n))
    if not descending:
        return idx
    valid = int(series.notna().sum())
    return np.where(idx < valid, valid - 1 - idx, n - 1 - (idx - valid))


class Frame(Engine):
    name = "pandas"
    title = "pandas DataFrame in memory"

    def __init__(self):
        self.df: pd.DataFrame | None = None

    def setup(self, data: ScenarioData) -> str:
        started = time.perf_counter()
        self.job = data.query_job
        df = pd.read_parquet(data.job_file(data.scenario.query_index))
        df = df.sort_values("id", kind="stable", ignore_index=True)
        for column in ("status_code", "response_time", "second_response_time"):
            df[column] = df[column].where(df[column] > 0)  # 0 means "no value" (SPEC)
        df["effective"] = df["second_response_time"].fillna(df["response_time"])
        path = df["path"]
        df["section"] = ("/" + path.str.lstrip("/").str.split("/", n=1).str[0]).where(~path.isin(["/", ""]), "/")
        self.df = df
        self.has_analytics = bool(df[list(schema.ANALYTICS_FIELDS)].notna().any().any())
        took = time.perf_counter() - started
        size = df.memory_usage(deep=True).sum() / 2**20
        return f"read_parquet + derived columns in {took:.1f} s, {size:,.0f} MiB in memory"

    # --- List Tasks ---------------------------------------------------------------------------------

    def _filtered(self, q: ListQuery) -> pd.DataFrame:
        df = self.df
        mask = None
        if q.status is not None:
            mask = df["status"] == q.status
        if q.cache is not None:
            m = df["cache_status"].isin(CACHE_GROUPS[q.cache])
            mask = m if mask is None else mask & m
        if q.path is not None:
            m = df["path"].str.contains(q.path, case=False, regex=False)
            mask = m if mask is None else mask & m
        return df if mask is None else df[mask]

    def list_tasks(self, q: ListQuery):
        sub = self._filtered(q)
        total = len(sub)
        ordered = sub.sort_values(q.field, kind="stable", na_position="last")
        page = ordered.iloc[_positions(ordered[q.field], q.descending, q.offset, q.offset + q.limit)]
        return total, page[list(schema.TASK_FIELDS)].to_dict("records")

    def page_result(self, raw, q: ListQuery) -> PageResult:
        total, rows = raw
        return PageResult(total, [r["id"] for r in rows], [norm(r[q.field]) for r in rows])

    # --- exports -------------------------------------------------------------------------------------

    def _export_frame(self) -> tuple[pd.DataFrame, list[tuple[str, str]]]:
        ordered = self.df.sort_values("created_at", kind="stable", na_position="last")
        top = ordered.iloc[_positions(ordered["created_at"], True, 0, EXPORT_CAP)]
        columns = list(schema.export_columns("job", self.has_analytics))
        frame = top[[f for f, _ in columns]].copy()
        for column in INTS:
            if column in frame:
                frame[column] = frame[column].astype("Int64")
        return frame, columns

    def export(self, fmt: str) -> bytes:
        frame, columns = self._export_frame()
        labels = dict(columns)
        out = io.BytesIO()
        if fmt == "csv":
            frame.rename(columns=labels).to_csv(out, index=False, date_format="%Y-%m-%dT%H:%M:%S.%fZ")
        elif fmt == "json":
            job = self.job
            head = {
                "job_id": job.job_id,
                "domain": job.domain,
                "status": job.status,
                "created_at": job.created_at,
                "completed_at": job.completed_at,
                "export_type": "job",
                "export_time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
                "total_tasks": len(frame),
                "columns": [{"key": k, "label": label} for k, label in columns],
            }
            tasks = frame.to_json(orient="records", date_format="iso", date_unit="us")
            text = (
                '{"status":"success","data":'
                + json.dumps(head)[:-1]
                + ',"tasks":'
                + tasks
                + "},"
                + json.dumps({"message": f"Exported {len(frame)} tasks for job {job.job_id}"})[1:]
            )
            out.write(text.encode())
        else:
            for column in TIMESTAMPS:
                frame[column] = frame[column].dt.tz_localize(None)
            frame.rename(columns=labels).to_excel(out, engine="xlsxwriter", index=False, sheet_name="job")
        return out.getvalue()

    # --- stats and chart series ----------------------------------------------------------------------

    def stats(self) -> dict:
        df = self.df
        eff, rt, srt = df["effective"], df["response_time"], df["second_response_time"]
        cache = df["cache_status"]
        status = {k: int(v) for k, v in df["status"].value_counts().items()}
        caches = {k: int(v) for k, v in cache.fillna("none").value_counts().items()}
        tasks = len(df)
        quantiles = eff.quantile(list(QUANTILES))
        warmed = cache.isin(("MISS", "EXPIRED")) & (df["second_cache_status"] == "HIT")
        out = stats_result(
            tasks=tasks,
            status=status,
            caches=caches,
            slow=int((eff > SLOW_MS).sum()),
            broken=int((df["status"] == "failed").sum()),
            warmed=int(warmed.sum()),
            saved=int((rt - srt)[srt.notna()].sum()),
            second_pages=int((srt.notna() & rt.notna()).sum()),
            quantiles=[float(quantiles[p]) for p in QUANTILES],
            mean=float(eff.mean()),
            timed=int(eff.count()),
        )
        timed = eff.dropna()
        width, top = linear_bins(float(timed.quantile(0.99)))
        bins = np.minimum(np.floor(timed / width), top).value_counts().sort_index()
        out["histogram"] = [(b * width, (b + 1) * width if b < top else None, int(n)) for b, n in bins.items()]
        logs = np.floor(np.log10(np.maximum(timed, 1)) * 10).value_counts().sort_index()
        out["histogram_log"] = [(10 ** (b / 10), 10 ** ((b + 1) / 10), int(n)) for b, n in logs.items()]

        both = df[srt.notna() & rt.notna()]
        groups = []
        for flag, part in sorted(both.groupby(warmed[both.index]), key=lambda g: not g[0]):
            a = part["response_time"].quantile([0.5, 0.95])
            b = part["second_response_time"].quantile([0.5, 0.95])
            groups.append(("warmed" if flag else "other", len(part), a[0.5], a[0.95], b[0.5], b[0.95]))
        out["first_vs_second"] = groups
        out["by_section"] = self._grouped(df["section"], "section", SECTION_TOP)
        key = df["content_type"].str.split(";", n=1).str[0].str.strip().str.lower()
        key = key.where(key.notna() & (key != ""), "(none)")
        out["by_content_type"] = self._grouped(key, "content_type", CONTENT_TOP)
        out["over_time"] = self._over_time()
        known = ("HIT", "MISS", "EXPIRED", "DYNAMIC")
        bucket = cache.where(cache.isin(known) | cache.isna(), "other").fillna("none")
        counts = bucket.value_counts()
        out["cache_breakdown"] = [
            (b, int(counts.get(b, 0)), int(counts.get(b, 0)) / tasks if tasks else None)
            for b in (*known, "other", "none")
        ]
        missed = df[cache.isin(("MISS", "EXPIRED"))]
        outcome = np.where(
            missed["second_cache_status"] == "HIT",
            "warmed",
            np.where(missed["second_response_time"].isna() & missed["second_cache_status"].isna(), "no second", "not"),
        )
        tally = pd.Series(outcome).value_counts()
        out["warming_outcome"] = [
            ("warmed", int(tally.get("warmed", 0))),
            ("not warmed", int(tally.get("not", 0))),
            ("no second request", int(tally.get("no second", 0))),
        ]
        out["broken_to_fix"] = self._to_fix(df["status"] == "failed")
        out["slow_to_fix"] = self._to_fix(eff > SLOW_MS)
        return out

    def _grouped(self, key: pd.Series, name: str, top: int) -> list[tuple]:
        df = self.df
        eff, cache = df["effective"], df["cache_status"]
        frame = pd.DataFrame(
            {
                "k": key,
                "eff": eff,
                "slow": eff > SLOW_MS,
                "hits": cache == "HIT",
                "misses": cache.isin(("MISS", "EXPIRED")),
                "dynamic": cache == "DYNAMIC",
            }
        )
        g = frame.groupby("k")
        table = pd.DataFrame(
            {
                "tasks": g.size(),
                "p50": g["eff"].quantile(0.5),
                "p95": g["eff"].quantile(0.95),
                "mean": g["eff"].mean(),
                "slow": g["slow"].sum(),
                "hits": g["hits"].sum(),
                "misses": g["misses"].sum(),
                "dynamic": g["dynamic"].sum(),
            }
        )
        table = table.rename_axis("k").reset_index().sort_values(["tasks", "k"], ascending=[False, True]).head(top)
        return [
            (r.k, int(r.tasks), r.p50, r.p95, r.mean, int(r.slow), int(r.hits), int(r.misses), int(r.dynamic))
            + (hit_rate(int(r.hits), int(r.misses)),)
            for r in table.itertuples(index=False)
        ]

    def _over_time(self) -> list[tuple]:
        df = self.df
        when = df["completed_at"].fillna(df["started_at"]).fillna(df["created_at"])
        keep = when.notna()
        seconds = (when[keep] - pd.Timestamp(0, tz="UTC")) / pd.Timedelta(seconds=1)
        step = time_step(float(seconds.min()), float(seconds.max()))
        sub = df[keep]
        frame = pd.DataFrame(
            {
                "b": np.floor(seconds / step) * step,
                "eff": sub["effective"],
                "hits": sub["cache_status"] == "HIT",
                "misses": sub["cache_status"].isin(("MISS", "EXPIRED")),
                "failed": sub["status"] == "failed",
            }
        )
        g = frame.groupby("b")
        table = pd.DataFrame(
            {
                "tasks": g.size(),
                "p50": g["eff"].quantile(0.5),
                "p95": g["eff"].quantile(0.95),
                "hits": g["hits"].sum(),
                "misses": g["misses"].sum(),
                "failed": g["failed"].sum(),
            }
        ).sort_index()
        return [
            (round(b * 1_000_000), step, int(r.tasks), r.p50, r.p95, int(r.hits), int(r.misses), int(r.failed))
            + (hit_rate(int(r.hits), int(r.misses)),)
            for b, r in zip(table.index, table.itertuples(index=False), strict=True)
        ]

    def _to_fix(self, mask: pd.Series) -> list[str]:
        sub = self.df[mask]
        keys, ascending = ["effective", "id"], [False, True]
        if self.has_analytics:
            keys, ascending = ["page_views_28d", *keys], [False, *ascending]
        return list(sub.sort_values(keys, ascending=ascending, na_position="last").head(FIX_LIMIT)["id"])

    def close(self) -> None:
        self.df = None
