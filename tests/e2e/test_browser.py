"""The dashboard in Chromium against `streamlit run app.py`: the URL is the view, paging, page size,
downloads that follow the export rules, a bad upload, UTC under another zone, two sessions at once."""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

import openpyxl
import pytest
from playwright.sync_api import Page, expect, sync_playwright

from conftest import PROJECT, SAMPLE_JOB
from crawldash import export
from crawldash.query import Filters, Sort, list_tasks
from crawldash.store import Store
from e2e_support import SECOND_JOB, Server, launch, make_db
from ui.render import utc

pytestmark = pytest.mark.browser
SCREENSHOTS = PROJECT / "docs" / "screenshots"
# A freshly started app on a busy 2-core machine can take more than expect's 5 s to draw its table.
expect.set_options(timeout=30_000)


@pytest.fixture(scope="module")
def db(tmp_path_factory) -> Path:
    return make_db(tmp_path_factory.mktemp("e2e") / "e2e.duckdb")


FACTS = {
    "failed": (SAMPLE_JOB, Filters(status="failed")),
    "failed_miss": (SAMPLE_JOB, Filters(status="failed", cache="miss")),
    "failed_hit": (SAMPLE_JOB, Filters(status="failed", cache="hit")),
    "second_miss": (SECOND_JOB, Filters(cache="miss")),
    "second_miss_done": (SECOND_JOB, Filters(status="completed", cache="miss")),
}


@pytest.fixture(scope="module")
def facts(db) -> dict:
    """What the pages must show, read through crawldash before the server holds the database."""
    store = Store(db)
    try:
        out = {name: list_tasks(store, job, filters).total for name, (job, filters) in FACTS.items()}
        out["exports"] = {t: export.export_info(store, SAMPLE_JOB, t) for t in ("job", "broken-links", "slow-pages")}
        analytics = store.job(SAMPLE_JOB).has_analytics
        out["labels"] = {t: [label for _, label in export.schema.export_columns(t, analytics)] for t in out["exports"]}
        out["jobs"] = sorted(j.job_id for j in store.jobs())
        first = list_tasks(store, SAMPLE_JOB, sort=Sort.parse("created_at"), limit=1).tasks[0]
        out["first_created"] = first["created_at"]
        out["job_created"] = store.job(SAMPLE_JOB).created_at
        by_path = Sort.parse("path")
        out["by_path"] = [list_tasks(store, SAMPLE_JOB, sort=by_path, offset=o, limit=1).tasks[0] for o in (0, 50)]
    finally:
        store.close()
    return out


@pytest.fixture(scope="module")
def server(db, facts):
    s = Server(db)
    yield s
    s.stop()


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as p:
        chromium = launch(p)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1400, "height": 1300}, accept_downloads=True)
    tab = context.new_page()
    tab.set_default_timeout(30_000)
    yield tab
    context.close()


def widget(page: Page, kind: str, label: str):
    return page.get_by_test_id(kind).filter(has=page.get_by_text(label, exact=True))


def choose(page: Page, label: str, option: str) -> None:
    widget(page, "stSelectbox", label).click()
    page.get_by_role("option", name=option, exact=True).click()


def shows(page: Page, text: str) -> None:
    expect(page.get_by_text(text, exact=True).first).to_be_visible()


def count_text(page: Page, total: int, limit: int = 50) -> None:
    """The "1–50 of 4,175 tasks" line, or the empty state when nothing matches."""
    if total:
        shows(page, f"1–{min(total, limit):,} of {total:,} tasks")
    else:
        expect(page.get_by_text("No task matches").first).to_be_visible()


def selected(page: Page, label: str):
    return expect(page.get_by_role("combobox", name=label))


def test_a_url_opens_the_failed_view_and_widgets_change_the_url(page, server, facts):
    page.goto(f"{server.url}/?job={SAMPLE_JOB}&status=failed&sort=-response_time")
    count_text(page, facts["failed"])
    selected(page, "Status").to_have_value("failed")
    selected(page, "Sort by").to_have_value("Response (ms)")
    expect(widget(page, "stRadio", "Direction").get_by_role("radio", name="descending")).to_be_checked()

    widget(page, "stRadio", "Cache").get_by_text("miss", exact=True).click()
    page.wait_for_url(re.compile(r"cache=miss"))
    count_text(page, facts["failed_miss"])
    assert "status=failed" in page.url and "sort=-response_time" in page.url

    page.reload()
    expect(widget(page, "stRadio", "Cache").get_by_role("radio", name="miss")).to_be_checked()
    selected(page, "Status").to_have_value("failed")
    count_text(page, facts["failed_miss"])
    assert "cache=miss" in page.url


def test_paging_forward_and_back_and_page_sizes(page, server):
    page.goto(f"{server.url}/?job={SAMPLE_JOB}")
    shows(page, "1–50 of 6,000 tasks")
    page.get_by_role("button", name="Next ›").click()
    shows(page, "51–100 of 6,000 tasks")
    page.wait_for_url(re.compile(r"offset=50"))
    page.get_by_role("button", name="Next ›").click()
    shows(page, "101–150 of 6,000 tasks")
    page.get_by_role("button", name="‹ Previous").click()
    shows(page, "51–100 of 6,000 tasks")
    page.get_by_role("button", name="« First").click()
    shows(page, "1–50 of 6,000 tasks")

    choose(page, "Per page", "200")
    shows(page, "1–200 of 6,000 tasks")
    page.wait_for_url(re.compile(r"limit=200"))
    page.get_by_role("button", name="Last »").click()
    shows(page, "5,801–6,000 of 6,000 tasks")

    page.goto(f"{server.url}/?job={SAMPLE_JOB}&limit=5000")
    shows(page, "1–200 of 6,000 tasks")
    expect(page.get_by_text("limit 5000 is above the maximum: showing 200 per page")).to_be_visible()


def test_selecting_a_row_shows_its_detail_and_another_page_clears_it(page, server, facts):
    page.goto(f"{server.url}/?job={SAMPLE_JOB}&sort=path")
    shows(page, "1–50 of 6,000 tasks")
    first, second = facts["by_path"]
    grid = page.get_by_test_id("stDataFrame")
    box = grid.bounding_box()
    page.mouse.click(box["x"] + 12, box["y"] + 35 + 17)  # the first row's row marker
    expect(page.get_by_text("First request", exact=True)).to_be_visible()
    expect(page.get_by_role("heading", name=first["path"])).to_be_visible()
    expect(page.get_by_text(f"Task {first['id']} ·")).to_be_visible()

    page.get_by_role("button", name="Next ›").click()
    shows(page, "51–100 of 6,000 tasks")
    expect(page.get_by_text("Select a row for the task's full detail.")).to_be_visible()
    expect(page.get_by_text("First request", exact=True)).to_have_count(0)
    page.mouse.click(box["x"] + 12, box["y"] + 35 + 17)
    expect(page.get_by_text(f"Task {second['id']} ·")).to_be_visible()


def _rows(name: str, body: bytes) -> tuple[list[str], int]:
    if name.endswith(".csv"):
        rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
        return rows[0], len(rows) - 1
    if name.endswith(".json"):
        data = json.loads(body)["data"]
        assert data["total_tasks"] == len(data["tasks"])
        return [c["label"] for c in data["columns"]], len(data["tasks"])
    sheet = openpyxl.load_workbook(io.BytesIO(body)).worksheets[0]
    values = list(sheet.values)
    return list(values[0]), len(values) - 1


def test_each_download_follows_the_export_rules(page, server, facts):
    page.goto(f"{server.url}/reports?job={SAMPLE_JOB}")
    expect(page.get_by_text("All tasks").first).to_be_visible()
    buttons = page.get_by_test_id("stDownloadButton")
    expect(buttons).to_have_count(9)
    seen = set()
    for index in range(9):
        with page.expect_download() as download_info:
            buttons.nth(index).click()
        download = download_info.value
        name = download.suggested_filename
        export_type = next(t for t in facts["exports"] if f"-{t}-" in name)
        header, rows = _rows(name, Path(download.path()).read_bytes())
        assert header == facts["labels"][export_type], name
        assert rows == facts["exports"][export_type].exported, name
        seen.add((export_type, name.rsplit(".", 1)[1]))
    assert len(seen) == 9


def test_a_bad_upload_shows_the_message_and_keeps_the_jobs(page, server, facts, tmp_path):
    bad = tmp_path / "not-a-crawl.csv"
    bad.write_text("name,price\nchair,10\n")
    page.goto(f"{server.url}/data?job={SAMPLE_JOB}")
    expect(page.get_by_text("Jobs in the database")).to_be_visible()
    expect(page.get_by_role("button", name="Delete")).to_have_count(len(facts["jobs"]))
    page.get_by_test_id("stFileUploaderDropzoneInput").set_input_files(str(bad))
    page.get_by_role("button", name="Import", exact=True).click()
    expect(page.get_by_text("Nothing was imported.", exact=False)).to_be_visible()
    expect(page.get_by_text("not-a-crawl.csv: is not a crawl export we can read", exact=False)).to_be_visible()
    expect(page.get_by_role("button", name="Delete")).to_have_count(len(facts["jobs"]))
    for job_id in facts["jobs"]:
        expect(page.get_by_text(job_id, exact=False).first).to_be_visible()


def test_two_sessions_filter_different_jobs_at_once(browser, server, facts):
    one, two = browser.new_context(), browser.new_context()
    try:
        a, b = one.new_page(), two.new_page()
        a.goto(f"{server.url}/?job={SAMPLE_JOB}&status=failed")
        b.goto(f"{server.url}/?job={SECOND_JOB}&cache=miss")
        count_text(a, facts["failed"])
        count_text(b, facts["second_miss"])
        widget(a, "stRadio", "Cache").get_by_text("hit", exact=True).click()
        choose(b, "Status", "completed")
        count_text(a, facts["failed_hit"])
        count_text(b, facts["second_miss_done"])
        assert f"job={SECOND_JOB}" in b.url and f"job={SAMPLE_JOB}" in a.url
    finally:
        one.close()
        two.close()


def test_timestamps_are_utc_whatever_the_zone(browser, tmp_path, facts):
    tokyo = Server(make_db(tmp_path / "tokyo.duckdb"), env={"TZ": "Asia/Tokyo"})
    context = browser.new_context(timezone_id="Asia/Tokyo", viewport={"width": 1400, "height": 1300})
    try:
        page = context.new_page()
        page.goto(f"{tokyo.url}/?job={SAMPLE_JOB}&sort=created_at")
        shows(page, "1–50 of 6,000 tasks")
        box = page.get_by_test_id("stDataFrame").bounding_box()
        page.mouse.click(box["x"] + 14, box["y"] + 35 + 17)  # the first row's selection box
        expect(page.get_by_text(f"created {utc(facts['first_created'])}", exact=False)).to_be_visible()
        page.goto(f"{tokyo.url}/overview?job={SAMPLE_JOB}")
        page.get_by_text("About this job").click()
        expect(page.get_by_text(f"Crawl created {utc(facts['job_created'])}", exact=False)).to_be_visible()
        assert "+09" not in page.content() and "JST" not in page.content()
    finally:
        context.close()
        tokyo.stop()


def test_screenshots_of_overview_and_tasks_for_the_readme(page, server):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.set_viewport_size({"width": 1400, "height": 1000})
    page.goto(f"{server.url}/overview?job={SAMPLE_JOB}")
    expect(page.get_by_text("Broken pages")).to_be_visible()
    page.wait_for_timeout(1500)
    page.screenshot(path=str(SCREENSHOTS / "overview.png"))
    page.goto(f"{server.url}/?job={SAMPLE_JOB}&status=failed&sort=-page_views_28d")
    expect(page.get_by_text("of 180 tasks", exact=False).first).to_be_visible()
    page.wait_for_timeout(1500)
    page.screenshot(path=str(SCREENSHOTS / "tasks.png"))
    assert (SCREENSHOTS / "overview.png").stat().st_size > 20_000


REAL_FILES = {
    "screaming-frog_internal_all_homebuilder.csv": 4175,
    "screaming-frog_internal_all_2023-layout.csv": 318,
    "screaming-frog_internal_all_subdomains.csv": 215,
    "chrome_capture_cdn-headers.har": 221,
}


def test_every_real_crawler_file_imports_through_the_data_page(page, realdata, tmp_path):
    server = Server(tmp_path / "real.duckdb")
    try:
        page.goto(f"{server.url}/data")
        uploads = [([name], count) for name, count in REAL_FILES.items()]
        uploads.append(
            (
                [
                    "screaming-frog_internal_all_no-response-times.csv",
                    "screaming-frog_all_inlinks_no-response-times.csv",
                ],
                344,
            )
        )  # one job from the pair
        for names, count in uploads:
            page.get_by_test_id("stFileUploaderDropzoneInput").set_input_files([str(realdata / n) for n in names])
            page.get_by_role("button", name="Import", exact=True).click()
            expect(page.get_by_text(re.compile(rf"Imported job .*: {count:,} tasks")).first).to_be_visible()
            page.goto(f"{server.url}/data")  # a fresh uploader for the next file
        expect(page.get_by_role("button", name="Delete")).to_have_count(1 + len(uploads))  # and the sample
    finally:
        server.stop()


def test_the_live_api_form_pulls_a_job_and_never_shows_the_token(page, tmp_path):
    from test_fetch import JOB, TOKEN, Api

    api = Api(tasks=450)
    server = Server(tmp_path / "pull.duckdb", env={"no_proxy": "*", "NO_PROXY": "*"})
    secret = TOKEN
    try:
        page.goto(f"{server.url}/data")
        form = page.get_by_test_id("stForm")
        form.get_by_label("API base URL").fill(api.base)
        form.get_by_label("Job ID").fill(JOB)
        form.get_by_role("textbox", name="Token").fill(secret)
        form.get_by_role("button", name="Pull the job").click()
        expect(page.get_by_text(re.compile(r"Pulled job .*: 450 tasks"))).to_be_visible()
        assert api.offsets() == [0, 200, 400]
        assert secret not in page.content()
        assert form.get_by_role("textbox", name="Token").input_value() == ""
        assert secret not in server.log.read_text(errors="replace")
        form.get_by_label("API base URL").fill(api.base)
        form.get_by_label("Job ID").fill("no-such-job")
        form.get_by_role("textbox", name="Token").fill(secret)
        form.get_by_role("button", name="Pull the job").click()
        expect(page.get_by_text("Nothing was stored.", exact=False)).to_be_visible()
        assert secret not in page.content()
    finally:
        server.stop()
        api.close()


def test_moving_between_pages_keeps_the_job_and_the_filters(page, server, facts):
    page.goto(f"{server.url}/?job={SECOND_JOB}")
    page.get_by_role("textbox", name="Path contains").fill("blog")
    page.get_by_role("textbox", name="Path contains").press("Enter")
    page.wait_for_url(re.compile(r"path=blog"))
    page.get_by_test_id("stSidebarNav").get_by_text("Overview", exact=True).click()
    page.wait_for_url(re.compile(r"/overview\?"))
    assert f"job={SECOND_JOB}" in page.url and "path=blog" in page.url
    expect(page.get_by_text("path contains 'blog'", exact=False).first).to_be_visible()
    page.get_by_test_id("stSidebarNav").get_by_text("Tasks", exact=True).click()
    page.wait_for_url(re.compile(rf"job={SECOND_JOB}"))
    expect(page.get_by_role("textbox", name="Path contains")).to_have_value("blog")


def test_clear_filters_resets_every_widget_and_they_stay_cleared(page, server):
    page.goto(f"{server.url}/?job={SAMPLE_JOB}&status=failed&cache=miss&path=blog&status_code=404")
    expect(page.get_by_role("button", name="Clear filters")).to_be_visible()
    page.get_by_role("button", name="Clear filters").click()
    shows(page, "1–50 of 6,000 tasks")
    selected(page, "Status").to_have_value("any")
    expect(widget(page, "stRadio", "Cache").get_by_role("radio", name="any")).to_be_checked()
    expect(page.get_by_role("textbox", name="Path contains")).to_have_value("")
    expect(page.get_by_role("textbox", name="HTTP code")).to_have_value("")
    choose(page, "Sort by", "Path")  # another change must not bring the old filters back
    shows(page, "1–50 of 6,000 tasks")
    assert "status=" not in page.url and "path=" not in page.url


def test_the_http_code_can_be_cleared_and_a_wrong_one_is_said(page, server, facts):
    page.goto(f"{server.url}/?job={SAMPLE_JOB}&status_code=404")
    box = page.get_by_role("textbox", name="HTTP code")
    expect(box).to_have_value("404")
    box.fill("")
    box.press("Enter")
    shows(page, "1–50 of 6,000 tasks")
    box.fill("99999")
    box.press("Enter")
    expect(page.get_by_text("HTTP code 99999 is not used: expected", exact=False)).to_be_visible()
    shows(page, "1–50 of 6,000 tasks")
