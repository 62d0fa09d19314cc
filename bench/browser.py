"""The browser section: the dashboard in Chromium (Playwright) against `streamlit run app.py`.

On the 1,000,000-task job: the time from opening a fresh session to the table shown, from a filter
change (a new status and cache combination each time, so no answer comes from a cache) to the new
table shown, and from a sort or a page change to the new table shown. Then the app's resident
memory while it serves the 10 x 1M database through every page. Each time runs from the action in
the browser to the moment the app has finished its run and the expected "… of N tasks" line is on
screen (Streamlit marks a finished run with data-test-script-state="notRunning"). For a select box
the clock starts at the click on the new option, after its list has opened.
"""

from __future__ import annotations

import itertools
import statistics
import tempfile
import time
from pathlib import Path

from bench import data as bench_data
from bench.app_process import CHROMIUM, CHROMIUM_ARGS, AppProcess
from bench.engines import ours
from bench.report import Section, Target, table
from crawldash import schema

TARGETS = {"first load": 3.0, "filter change": 0.25, "sort change": 0.2, "page change": 0.2}
RSS_TARGET = 800 * 2**20
# Every status/cache combination once, each one widget away from the one before (a snake through
# the grid), so each filter change is one rerun and no answer comes from the app's cache.
COMBOS = [
    (None, None),
    ("completed", None),
    ("failed", None),
    ("skipped", None),
    ("skipped", "hit"),
    ("failed", "hit"),
    ("completed", "hit"),
    (None, "hit"),
    (None, "miss"),
    ("completed", "miss"),
    ("failed", "miss"),
    ("skipped", "miss"),
]


def _expected(db: Path, job_id: str) -> dict:
    """Totals the pages must show, read through crawldash before the app holds the database."""
    from crawldash.query import Filters, list_tasks
    from crawldash.store import Store

    store = Store(db)
    try:
        return {combo: list_tasks(store, job_id, Filters(status=combo[0], cache=combo[1])).total for combo in COMBOS}
    finally:
        store.close()


def _idle_with(page, text: str) -> None:
    page.wait_for_function(
        """text => {
            const app = document.querySelector('[data-testid="stApp"]');
            return app && app.getAttribute('data-test-script-state') === 'notRunning'
                && document.body.innerText.includes(text);
        }""",
        arg=text,
        timeout=120_000,
    )


def _count_text(total: int, first: int = 1, limit: int = 50) -> str:
    return f"{first:,}–{min(first + limit - 1, total):,} of {total:,} tasks" if total else "No task matches"


def _open(page, label: str) -> None:
    """Open a select box's list (not timed: the user is still choosing)."""
    page.get_by_test_id("stSelectbox").filter(has=page.get_by_text(label, exact=True)).click()
    page.get_by_role("option").first.wait_for()


def _pick(page, option: str) -> None:
    page.get_by_role("option", name=option, exact=True).click()


def _choose(page, label: str, option: str) -> None:
    _open(page, label)
    _pick(page, option)


def _radio(page, label: str, option: str) -> None:
    widget = page.get_by_test_id("stRadio").filter(has=page.get_by_text(label, exact=True))
    widget.get_by_text(option, exact=True).click()


def _timed(action, page, text: str, before=None) -> float:
    """Seconds from `action` (after the untimed `before`) to the app idle with `text` on screen."""
    if before is not None:
        before()
    started = time.perf_counter()
    action()
    _idle_with(page, text)
    return time.perf_counter() - started


def _measure_1m(browser, app: AppProcess, job_id: str, totals: dict, runs: int) -> dict[str, list[float]]:
    out: dict[str, list[float]] = {name: [] for name in TARGETS}
    everything = totals[(None, None)]
    for number in range(runs + 1):
        context = browser.new_context(viewport={"width": 1400, "height": 1100})
        page = context.new_page()
        took = _timed(lambda p=page: p.goto(f"{app.url}/?job={job_id}"), page, _count_text(everything))
        if number:  # the first session also warms the server; it is reported apart
            out["first load"].append(took)
        else:
            out["cold first load"] = [took]
        context.close()
    page = browser.new_context(viewport={"width": 1400, "height": 1100}).new_page()
    page.goto(f"{app.url}/?job={job_id}")
    _idle_with(page, _count_text(everything))
    for shown, combo in itertools.pairwise(COMBOS):
        status, cache = combo

        if status != shown[0]:
            before, change = (lambda: _open(page, "Status")), (lambda s=status: _pick(page, s or "any"))
        else:
            before, change = None, (lambda c=cache: _radio(page, "Cache", c or "any"))
        took = _timed(change, page, _count_text(totals[combo]), before)
        if totals[combo]:  # an empty result draws no table
            out["filter change"].append(took)
    _choose(page, "Status", "any")
    _radio(page, "Cache", "any")
    _idle_with(page, _count_text(everything))
    for index, field in enumerate(
        schema.HEADINGS[f]
        for f in (
            "response_time",
            "path",
            "page_views_7d",
            "status_code",
            "second_response_time",
            "cache_status",
            "created_at",
            "page_views_28d",
        )[: runs + 1]
    ):
        took = _timed(lambda f=field: _pick(page, f), page, _count_text(everything), lambda: _open(page, "Sort by"))
        if index:
            out["sort change"].append(took)
    for number in range(runs + 1):
        first = (number + 1) * 50 + 1
        took = _timed(lambda: page.get_by_role("button", name="Next ›").click(), page, _count_text(everything, first))
        if number:
            out["page change"].append(took)
    return out


def _serve_10m(browser, app: AppProcess, job_id: str) -> tuple[int, int]:
    page = browser.new_context(viewport={"width": 1400, "height": 1100}).new_page()
    for path in ("/", "/overview", "/performance", "/cache", "/reports", "/data"):
        page.goto(f"{app.url}{path}?job={job_id}")
        page.wait_for_function(
            "() => document.querySelector('[data-testid=\"stApp\"]')?.getAttribute('data-test-script-state')"
            " === 'notRunning'",
            timeout=120_000,
        )
        page.wait_for_timeout(500)
    for query in ("&status=failed", "&cache=miss&sort=-response_time", "&path=blog&sort=path", "&offset=500000"):
        page.goto(f"{app.url}/?job={job_id}{query}")
        page.wait_for_function(
            "() => document.querySelector('[data-testid=\"stApp\"]')?.getAttribute('data-test-script-state')"
            " === 'notRunning'",
            timeout=120_000,
        )
    return app.rss()


def run(ctx) -> Section:
    section = Section("browser")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        missing = "Playwright is not installed (pip install -r requirements-dev.txt)"
    else:
        missing = "" if CHROMIUM.exists() else f"no Chromium at {CHROMIUM} (apt-get install chromium)"
    if missing:
        section.lines += [f"### Browser: not run: {missing}", ""]
        print(f"  [browser] not run: {missing}", flush=True)
        return section

    one = next((s for s in ctx.scenarios if s.jobs == 1 and s.tasks == 1_000_000), None)
    ten = next((s for s in ctx.scenarios if s.jobs == 10 and s.tasks == 1_000_000), None)
    small = one or min(ctx.scenarios, key=lambda s: s.total_tasks)
    data = bench_data.scenario_data(small, out_dir=ctx.out_dir)
    db = ours.db_path(data, ctx.out_dir)
    ours.build_db(data, db)
    runs = 5 if ctx.budget > 0 else 2  # --quick: enough to show the section works
    totals = _expected(db, data.query_job.job_id)
    rows, figures = [], {}
    with sync_playwright() as p, tempfile.TemporaryDirectory(prefix="browser-", dir=ctx.out_dir) as scratch:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            app = AppProcess(db, Path(scratch) / "app.log")
            try:
                times = _measure_1m(browser, app, data.query_job.job_id, totals, runs)
            finally:
                app.stop()
            for name, values in times.items():
                median = statistics.median(values)
                figures[name] = {
                    "median_s": median,
                    "min_s": min(values),
                    "max_s": max(values),
                    "runs": len(values),
                    "values_s": values,
                }
                rows.append(
                    [
                        name,
                        f"{median * 1000:,.0f}",
                        f"{min(values) * 1000:,.0f}–{max(values) * 1000:,.0f}",
                        str(len(values)),
                    ]
                )
                if name in TARGETS:
                    judged = small.tasks >= 1_000_000
                    section.targets.append(
                        Target(
                            small.name,
                            f"browser: {name} <= {TARGETS[name] * 1000:,.0f} ms median",
                            f"{median * 1000:,.0f} ms",
                            median <= TARGETS[name] if judged else None,
                        )
                    )
                print(f"  [browser] {name}: {median * 1000:,.0f} ms (runs {len(values)})", flush=True)
            if ten is not None:
                data10 = bench_data.scenario_data(ten, out_dir=ctx.out_dir)
                db10 = ours.db_path(data10, ctx.out_dir)
                ours.build_db(data10, db10)
                app = AppProcess(db10, Path(scratch) / "app10.log")
                try:
                    rss, peak = _serve_10m(browser, app, data10.query_job.job_id)
                finally:
                    app.stop()
                figures["rss_10x1M"] = {"rss_bytes": rss, "peak_bytes": peak}
                section.targets.append(
                    Target(
                        ten.name,
                        "browser: the app's RSS serving the 10M database <= 800 MB",
                        f"{rss / 2**20:,.0f} MiB (peak {peak / 2**20:,.0f} MiB)",
                        rss <= RSS_TARGET,
                    )
                )
                print(f"  [browser] app RSS serving {ten.name}: {rss / 2**20:,.0f} MiB (peak {peak / 2**20:,.0f})")
        finally:
            browser.close()
    section.lines += [
        f"### Browser: Chromium against `streamlit run app.py`, {small.describe()}",
        "",
        "From the action in the browser to the app's run finished and the expected count line on screen. "
        "`cold first load` is the first session on a freshly started app; `first load` the next sessions. "
        "Filter changes use a new status/cache combination each time (no cached answer).",
        "",
        *table(["operation", "median ms", "min–max ms", "runs"], rows),
        "",
    ]
    if "rss_10x1M" in figures:
        rss = figures["rss_10x1M"]
        section.lines += [
            f"The app's resident memory after serving every page and four List Tasks views of the "
            f"10 x 1M database: {rss['rss_bytes'] / 2**20:,.0f} MiB (high-water mark "
            f"{rss['peak_bytes'] / 2**20:,.0f} MiB).",
            "",
        ]
    section.data = figures
    return section
