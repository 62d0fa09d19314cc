"""The queries section: per scenario, load every engine, check their answers equal, then time the mix."""

from __future__ import annotations

import time

from bench import check
from bench.data import Scenario, scenario_data
from bench.engines import Engine
from bench.engines.frame import Frame
from bench.engines.lite import Lite
from bench.engines.ours import SERIES, Ours
from bench.engines.pg import Postgres
from bench.mix import EXPORT_FORMATS, LIST_QUERIES, MIDDLE, ListQuery
from bench.report import Section, Target, ms, ratio, table
from bench.timing import Timing, measure

BASELINES = ("pandas", "sqlite", "postgres")
JUDGED_FROM = 1_000_000  # the targets are for a 1,000,000-task job
LIST_TARGET, KEYWORD_TARGET = 0.025, 0.050
STATS_TARGET = 0.050
EXPORT_TARGETS = {"csv": 0.150, "json": 0.300, "xlsx": 1.5}
RATIO_TARGETS = {"postgres": 20, "pandas": 10}


def _engines(ctx, scenario: Scenario) -> tuple[list[Engine], dict[str, str]]:
    """Ours first, then the baselines selected for this scenario; and why any was left out."""
    engines: list[Engine] = [Ours(ctx.out_dir, ctx.rebuild)]
    skipped = {}
    for name in BASELINES:
        if name not in ctx.engines:
            continue
        if scenario.total_tasks > ctx.baseline_max_tasks:
            skipped[name] = (
                f"not run on a database of {scenario.total_tasks:,} tasks (more than --baseline-max-tasks "
                f"{ctx.baseline_max_tasks:,})"
            )
            continue
        if name == "pandas":
            engines.append(Frame())
        elif name == "sqlite":
            engines.append(Lite(ctx.out_dir))
        elif ctx.cluster is None:
            skipped[name] = ctx.no_postgres
        else:
            engines.append(Postgres(ctx.cluster))
    return engines, skipped


def _resolve(ours: Ours, q: ListQuery) -> ListQuery:
    if q.offset != MIDDLE:
        return q
    return q.at(ours.list_tasks(q.at(0)).total // 2)


def _check(data, engines: list[Engine], queries: list[ListQuery]) -> str:
    ours, others = engines[0], engines[1:]
    for q in queries:
        reference = ours.page_result(ours.list_tasks(q), q)
        for engine in others:
            for variant in engine.check_list(q):
                check.compare_page(f"{engine.name}: {q.label}", reference, variant)
    expected = min(data.query_job.tasks, 10_000)
    reference_ids = None
    for fmt in EXPORT_FORMATS:
        ids = check.export_ids(fmt, ours.export(fmt))
        if len(ids) != expected:
            raise check.Mismatch(f"ours: the {fmt} export holds {len(ids):,} tasks, expected {expected:,}")
        if reference_ids is None:
            reference_ids = ids
        elif ids != reference_ids:
            raise check.Mismatch(f"ours: the {fmt} export's tasks differ from the csv export's")
        for engine in others:
            for variant in engine.check_export(fmt):
                check.compare_export(f"{engine.name}: export", fmt, reference_ids, variant, data)
    reference_stats = ours.canonical_stats(ours.stats())
    for engine in others:
        check.compare_stats(f"{engine.name}: stats", reference_stats, engine.canonical_stats(engine.stats()))
    return (
        f"Checked equal before timing, against ours: {len(queries)} List Tasks queries (total, ids and sort "
        f"values of the page), 3 exports (the ids of all {expected:,} rows, in order), job_stats' KPIs and "
        f"the {len(SERIES)} chart series."
    )


def _time(ctx, engines: list[Engine], queries: list[ListQuery]) -> list[tuple[str, str, str, dict[str, Timing]]]:
    """(key, label, kind, {engine: Timing}) per operation."""
    rows = []
    ops = [(q.key, q.label, "keyword" if q.keyword else "list", q) for q in queries]
    ops += [(f"export_{fmt}", f"export {fmt.upper()}, 10,000 rows", f"export_{fmt}", fmt) for fmt in EXPORT_FORMATS]
    ops += [("stats", "stats + chart series", "stats", None)]
    for key, label, kind, arg in ops:
        timings = {}
        for engine in engines:
            if kind in ("list", "keyword"):
                call = lambda e=engine, q=arg: e.list_tasks(q)  # noqa: E731
            elif kind == "stats":
                call = engine.stats
            else:
                call = lambda e=engine, f=arg: e.export(f)  # noqa: E731
            timings[engine.name] = measure(call, ctx.budget, ctx.min_runs)
        shown = ", ".join(f"{name} {ms(t.median)} ms" for name, t in timings.items())
        print(f"  [time] {label}: {shown}", flush=True)
        rows.append((key, label, kind, timings))
    return rows


def _targets(scenario: Scenario, rows) -> list[Target]:
    judged = scenario.tasks >= JUDGED_FROM
    out = []

    def add(text: str, measured: str, ok: bool) -> None:
        out.append(Target(scenario.name, text, measured, ok if judged else None))

    for _key, label, kind, timings in rows:
        ours = timings["ours"].median
        if kind in ("list", "keyword"):
            limit = KEYWORD_TARGET if kind == "keyword" else LIST_TARGET
            add(f"{label} <= {limit * 1000:.0f} ms", f"{ms(ours)} ms", ours <= limit)
            for name, factor in RATIO_TARGETS.items():
                if name in timings:
                    value = timings[name].median / ours
                    add(f"{label} >= {factor}x faster than {name}", ratio(timings[name].median, ours), value >= factor)
        elif kind == "stats":
            add(f"{label} <= {STATS_TARGET * 1000:.0f} ms", f"{ms(ours)} ms", ours <= STATS_TARGET)
        else:
            fmt = kind.removeprefix("export_")
            limit = EXPORT_TARGETS[fmt]
            add(f"{label} <= {limit * 1000:,.0f} ms", f"{ms(ours)} ms", ours <= limit)
    return out


def run_scenario(ctx, scenario: Scenario) -> Section:
    section = Section(f"queries {scenario.name}")
    print(f"\n== {scenario.name}: {scenario.describe()}", flush=True)
    data = scenario_data(scenario, out_dir=ctx.out_dir)
    engines, skipped = _engines(ctx, scenario)
    setup = {}
    try:
        for engine in engines:
            started = time.perf_counter()
            setup[engine.name] = engine.setup(data)
            print(f"  [setup] {engine.name}: {setup[engine.name]} ({time.perf_counter() - started:.1f} s)", flush=True)
        queries = [_resolve(engines[0], q) for q in LIST_QUERIES]
        checked = _check(data, engines, queries)
        print(f"  [check] {checked}", flush=True)
        rows = _time(ctx, engines, queries)
    finally:
        for engine in engines:
            engine.close()
    names = [e.name for e in engines]
    header = ["operation", "ours ms (min-max, runs)"]
    for name in names[1:]:
        header += [f"{name} ms", f"{name} / ours"]
    body = []
    for _key, label, _kind, timings in rows:
        ours = timings["ours"]
        line = [label, f"**{ms(ours.median)}** ({ms(ours.low)}-{ms(ours.high)}, {len(ours.runs)})"]
        for name in names[1:]:
            t = timings[name]
            line += [f"{ms(t.median)} ({ms(t.low)}-{ms(t.high)}, {len(t.runs)})", ratio(t.median, ours.median)]
        body.append(line)
    deep = next(q for q in queries if q.key == "deep")
    section.lines += [f"### {scenario.name}: {scenario.describe()}", "", *table(header, body), ""]
    section.lines += [f"- {checked}", f"- The deep page is offset {deep.offset:,} of {scenario.tasks:,}."]
    if "postgres" in names:
        section.lines.append(
            "- postgres runs the original's SQL exactly (no tie-breaker, so its order among equal values is "
            "undefined); the check ran it with `, t.id` added and compared ids, and compared the exact SQL's "
            "totals and sort values. Its COUNT for the path keyword joins pages (the original's does not, and "
            "PostgreSQL rejects it)."
        )
    for name, note in setup.items():
        section.lines.append(f"- setup {name}: {note}")
    for name, reason in skipped.items():
        section.lines.append(f"- {name}: {reason}")
    section.lines.append("")
    section.targets = _targets(scenario, rows)
    section.data = {
        "scenario": scenario.name,
        "description": scenario.describe(),
        "job_tasks": scenario.tasks,
        "deep_offset": deep.offset,
        "setup": setup,
        "skipped": skipped,
        "operations": {
            key: {"label": label, **{name: t.as_dict() for name, t in timings.items()}}
            for key, label, _kind, timings in rows
        },
    }
    return section


def run(ctx) -> list[Section]:
    return [run_scenario(ctx, scenario) for scenario in ctx.scenarios]
