"""List Tasks, behaviour by behaviour (the differential test covers the combinations)."""

from __future__ import annotations

import pytest

from conftest import load, task
from crawldash.errors import InvalidParameter, UnknownJob
from crawldash.query import Filters, Sort, clamp_limit, list_tasks, parse_view


@pytest.fixture
def job(store):
    load(
        store,
        [
            task(1, path="/a_b", response_time=10, created_at="2026-01-05T09:00:00Z"),
            task(2, path="/axb", response_time=None, created_at="2026-01-05T09:00:00Z"),
            task(3, path="/100%", response_time=10, created_at="2026-01-05T10:00:00Z"),
            task(4, path="/back\\slash", response_time=30, created_at="2026-01-05T11:00:00Z"),
            task(5, path="/BLOG/Post", url="https://www.example.com/BLOG/Post", response_time=20),
            task(6, path="/x", url="https://docs.example.com/x", status="failed", error="Too Many Requests"),
        ],
    )
    return store


def ids(page) -> list[str]:
    return [t["id"] for t in page.tasks]


def test_path_keyword_underscore_is_literal(job):
    assert ids(list_tasks(job, "job-1", Filters(path="a_b"))) == ["t001"]


def test_path_keyword_percent_and_backslash_are_literal(job):
    assert ids(list_tasks(job, "job-1", Filters(path="0%"))) == ["t003"]
    assert ids(list_tasks(job, "job-1", Filters(path="k\\s"))) == ["t004"]


def test_path_keyword_is_case_insensitive(job):
    assert ids(list_tasks(job, "job-1", Filters(path="blog/post"))) == ["t005"]


def test_nulls_sort_last_in_both_directions_and_ties_go_by_id(job):
    up = ids(list_tasks(job, "job-1", sort=Sort.parse("response_time")))
    down = ids(list_tasks(job, "job-1", sort=Sort.parse("-response_time")))
    assert up == ["t001", "t003", "t005", "t004", "t002", "t006"]
    assert down == ["t004", "t005", "t003", "t001", "t006", "t002"]


def test_default_sort_is_newest_first(job):
    page = list_tasks(job, "job-1")
    assert ids(page)[:2] == ["t004", "t003"]


def test_limit_is_clamped_and_the_page_says_so(job):
    page = list_tasks(job, "job-1", limit=5000)
    assert page.limit == 200 and page.notes == ("limit 5000 is above the maximum: showing 200 per page",)
    assert list_tasks(job, "job-1", limit=0).limit == 1
    assert list_tasks(job, "job-1", offset=-4).offset == 0


def test_pagination_flags(job):
    page = list_tasks(job, "job-1", limit=2, offset=2)
    assert page.pagination() == {"limit": 2, "offset": 2, "total": 6, "has_next": True, "has_prev": True}
    last = list_tasks(job, "job-1", limit=2, offset=4)
    assert (last.has_next, last.has_prev, len(last.tasks)) == (False, True, 2)
    beyond = list_tasks(job, "job-1", limit=2, offset=50)
    assert (beyond.tasks, beyond.total, beyond.has_next) == ([], 6, False)


def test_host_is_shown_only_when_it_differs_from_the_domain(job):
    hosts = {t["id"]: t["host"] for t in list_tasks(job, "job-1").tasks}
    assert hosts["t005"] is None  # www.example.com is the domain, ignoring the www.
    assert hosts["t006"] == "docs.example.com"
    assert hosts["t001"] is None


def test_status_code_filter_uses_the_code_derived_from_the_error(job):
    page = list_tasks(job, "job-1", Filters(status_code=429))
    assert ids(page) == ["t006"] and page.tasks[0]["status_code"] is None and page.tasks[0]["http_code"] == 429


def test_unknown_values_are_refused_before_any_sql(job):
    with pytest.raises(InvalidParameter, match="status 'done' is not valid: expected one of pending"):
        Filters(status="done")
    with pytest.raises(InvalidParameter, match="cache 'warm' is not valid: expected hit or miss"):
        Filters(cache="warm")
    with pytest.raises(InvalidParameter, match="sort 'id; DROP TABLE tasks' is not valid"):
        Sort.parse("id; DROP TABLE tasks")
    with pytest.raises(InvalidParameter, match="status_code 'abc' is not valid"):
        Filters.from_params({"status_code": "abc"})
    with pytest.raises(InvalidParameter, match="limit 'ten' is not valid"):
        clamp_limit("ten")
    with pytest.raises(UnknownJob):
        list_tasks(job, "no-such-job")


def test_a_url_query_round_trips_through_filters(job):
    filters, sort, limit, offset, notes = parse_view(
        {"status": "FAILED", "cache": "", "path": " blog ", "sort": "-path", "limit": "900", "offset": "10"}
    )
    assert filters == Filters(status="failed", path="blog")
    assert (str(sort), limit, offset) == ("-path", 200, 10)
    assert notes == ("limit 900 is above the maximum: showing 200 per page",)
    assert Filters.from_params(filters.params()) == filters


def test_keyword_with_quotes_and_sql_is_just_text(job):
    assert list_tasks(job, "job-1", Filters(path="' OR 1=1 --")).total == 0


def test_order_keys_are_per_job_when_one_file_holds_several(store, tmp_path):
    import random

    from conftest import write_json
    from crawldash.importers import import_files

    rng = random.Random(5)
    jobs = {}
    for name in ("job-a", "job-b"):
        jobs[name] = [
            task(
                i,
                id=f"{name}-{i:03d}",
                response_time=rng.choice([None, 1, 2, 3, 50, 70]),
                path=f"/{rng.choice('abc')}{i}",
            )
            for i in range(60)
        ]
    pages = [{"data": {"job_id": n, "tasks": [dict(t, job_id=n) for t in ts]}} for n, ts in jobs.items()]
    import_files(store, [write_json(tmp_path / "two.json", pages)])
    for name, ts in jobs.items():
        for sort in ("response_time", "-response_time", "path"):
            got = [t["id"] for t in list_tasks(store, name, sort=Sort.parse(sort), limit=200).tasks]
            field = sort.lstrip("-")
            present = sorted(
                (t for t in ts if t[field] is not None), key=lambda t: (t[field], t["id"]), reverse=sort.startswith("-")
            )
            absent = sorted((t for t in ts if t[field] is None), key=lambda t: t["id"], reverse=sort.startswith("-"))
            assert got == [t["id"] for t in present + absent], (name, sort)


@pytest.mark.parametrize("shallow", [0, 3, 1000])
def test_filtered_descending_pages_across_the_nulls_hold_exactly_their_rows(store, monkeypatch, shallow):
    import reference
    from crawldash import query

    monkeypatch.setattr(query, "SHALLOW", shallow)
    tasks = [
        task(i, response_time=None if i % 3 == 0 else i % 7 + 1, status="failed" if i % 2 else "completed")
        for i in range(1, 41)
    ]
    load(store, tasks)
    for sort in ("-response_time", "response_time"):
        for offset in range(0, 22, 4):
            page = list_tasks(store, "job-1", Filters(status="failed"), Sort.parse(sort), limit=6, offset=offset)
            expected = reference.list_tasks(tasks, status="failed", sort=sort, limit=6, offset=offset)
            assert ([t["id"] for t in page.tasks], page.pagination()) == expected, (sort, offset)
