"""The DuckDB List Tasks and exports agree with a plain-Python reading of SPEC (tests/reference.py)
on many random jobs and queries: nulls, ties, `_` `%` `\\` in keywords, limits out of range."""

from __future__ import annotations

import io
import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import reference
from conftest import load
from crawldash import export as export_mod
from crawldash import query, schema
from crawldash.query import Filters, Sort, list_tasks
from crawldash.store import Store

STAMPS = ("2026-01-05T09:30:00Z", "2026-01-05T09:30:00.250000Z", "2026-01-05T10:00:00+02:00", "2026-01-06T00:00:00Z")
PATH_CHARS = "abAB_%\\/-.éÉ1"


def _record(i: int, draw) -> dict:
    path = "/" + draw(st.text(PATH_CHARS, max_size=8))
    host = draw(st.sampled_from(("example.com", "www.example.com", "blog.example.com")))
    return {
        "url": f"https://{host}{path}",
        "path": path,
        "status": draw(st.sampled_from(("pending", "running", "completed", "failed", "waiting", "skipped"))),
        "status_code": draw(st.one_of(st.none(), st.just(0), st.sampled_from((200, 301, 404, 500)))),
        "error": draw(st.one_of(st.none(), st.sampled_from(("Not Found", "Too Many Requests", "timeout")))),
        "response_time": draw(st.one_of(st.none(), st.integers(1, 6), st.integers(2990, 3010))),
        "cache_status": draw(
            st.one_of(
                st.none(),
                st.sampled_from(("HIT", "MISS", "EXPIRED", "DYNAMIC", "BYPASS", "miss, hit", "MISS, EXPIRED")),
            ),
        ),
        "second_response_time": draw(st.one_of(st.none(), st.just(0), st.integers(1, 6), st.integers(2990, 3010))),
        "page_views_7d": draw(st.one_of(st.none(), st.integers(0, 3))),
        "page_views_28d": draw(st.one_of(st.none(), st.integers(0, 3))),
        "page_views_180d": draw(st.one_of(st.none(), st.integers(0, 3))),
        "created_at": draw(st.one_of(st.none(), st.sampled_from(STAMPS))),
    }


@st.composite
def jobs(draw, max_tasks: int = 40) -> list[dict]:
    ids = draw(st.lists(st.text("abxyz019-_", min_size=1, max_size=5), max_size=max_tasks, unique=True))
    return [{"id": task_id, **_record(i, draw)} for i, task_id in enumerate(ids)]


def _often_none(strategy):
    """None about two times in three, so that one filter at a time is common."""
    return st.one_of(st.none(), st.none(), strategy)


@st.composite
def queries(draw, tasks: list[dict]) -> dict:
    words = [t["path"][i:j] for t in tasks[:5] for i, j in ((1, 3), (0, 2))] or ["a"]
    return {
        "status": draw(_often_none(st.sampled_from(schema.STATUSES))),
        "cache_filter": draw(_often_none(st.sampled_from(("hit", "miss")))),
        "path": draw(
            st.one_of(
                st.none(),
                st.text(PATH_CHARS, min_size=1, max_size=3),
                st.sampled_from(("_", "%", "\\", "a_", "%b", "A", "É", "/")),
                st.sampled_from(words),
            )
        ),
        "status_code": draw(_often_none(st.sampled_from((200, 404, 429, 500)))),
        "sort": draw(st.sampled_from([f for f in schema.SORT_FIELDS] + [f"-{f}" for f in schema.SORT_FIELDS])),
        "limit": draw(st.one_of(st.none(), st.sampled_from((-5, 0, 1, 2, 3, 7, 50, 200, 201, 5000)))),
        "offset": draw(st.one_of(st.none(), st.sampled_from((-3, 0, 1, 2, 5, 39)))),
    }


def paths(data) -> pytest.MonkeyPatch:
    """Both ways a filtered page is found: by a top-N query (shallow) and from all keys (deep)."""
    patch = pytest.MonkeyPatch()
    patch.setattr(query, "SHALLOW", data.draw(st.sampled_from((0, 0, 3, 1000)), label="SHALLOW"))
    return patch


def ours(store: Store, q: dict) -> tuple[list[str], dict]:
    filters = Filters(status=q["status"], cache=q["cache_filter"], path=q["path"], status_code=q["status_code"])
    page = list_tasks(store, "job-1", filters, Sort.parse(q["sort"]), q["limit"], q["offset"])
    return [t["id"] for t in page.tasks], page.pagination()


SETTINGS = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large]
)


@SETTINGS
@given(data=st.data())
def test_list_tasks_agrees_with_the_reference(data):
    tasks = data.draw(jobs())
    store, patch = Store(":memory:"), paths(data)
    try:
        if not tasks:
            return
        load(store, tasks)
        for _ in range(10):
            q = data.draw(queries(tasks))
            assert ours(store, q) == reference.list_tasks(tasks, **q), q
    finally:
        patch.undo()
        store.close()


@SETTINGS
@given(data=st.data())
def test_paging_through_every_sort_returns_each_task_once(data):
    tasks = data.draw(jobs(max_tasks=30))
    if not tasks:
        return
    store, patch = Store(":memory:"), paths(data)
    try:
        load(store, tasks)
        q = data.draw(queries(tasks))
        size = data.draw(st.sampled_from((1, 2, 3, 7)))
        for sort in [f for f in schema.SORT_FIELDS] + [f"-{f}" for f in schema.SORT_FIELDS]:
            seen, offset = [], 0
            while True:
                ids, pagination = ours(store, {**q, "sort": sort, "limit": size, "offset": offset})
                seen += ids
                if not pagination["has_next"]:
                    break
                offset += size
            _expected, ref_page = reference.list_tasks(tasks, **{**q, "sort": sort, "limit": 10**9})
            assert len(seen) == len(set(seen)) == ref_page["total"] == pagination["total"], sort
            assert seen == [
                t["id"]
                for t in reference.ordered(
                    [
                        t
                        for t in tasks
                        if reference.matches(t, q["status"], q["cache_filter"], q["path"], q["status_code"])
                    ],
                    sort,
                )
            ], sort
    finally:
        patch.undo()
        store.close()


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_exports_agree_with_the_reference(data, monkeypatch_cap):
    tasks = data.draw(jobs())
    if not tasks:
        return
    store, patch = Store(":memory:"), paths(data)
    try:
        load(store, tasks)
        for export_type in schema.EXPORT_TYPES:
            out = io.BytesIO()
            info = export_mod.write_export(store, "job-1", out, export_type, "json")
            body = json.loads(out.getvalue())
            expected, matched = reference.export_ids(tasks, export_type, cap=monkeypatch_cap)
            assert [t["id"] for t in body["data"]["tasks"]] == expected, export_type
            assert (info.matched, info.exported, info.truncated) == (matched, len(expected), matched > len(expected))
            assert body["data"]["total_tasks"] == len(expected)
            assert body["data"]["matched_tasks"] == matched
            assert body["data"]["truncated"] is (matched > len(expected))
    finally:
        patch.undo()
        store.close()


@pytest.fixture(scope="module")
def monkeypatch_cap():
    """The export cap, lowered to 7 so that random jobs get cut."""
    mp = pytest.MonkeyPatch()
    mp.setattr(schema, "EXPORT_CAP", 7)
    yield 7
    mp.undo()
