"""On a generated 1,000,000-task job, List Tasks, stats, chart series and exports run in DuckDB:
no call brings more than an export's 10,000 rows into Python, and a page's search through the
matches reads at most one integer key column (speed is measured in bench/)."""

from __future__ import annotations

import io

import pyarrow.parquet as pq
import pytest

from crawldash import stats
from crawldash.export import write_export
from crawldash.importers import import_files
from crawldash.query import Filters, Sort, list_tasks
from crawldash.sample import generate_job
from crawldash.store import Store

pytestmark = pytest.mark.slow
N = 1_000_000


class Counting:
    """A cursor that records how many rows each fetch hands to Python."""

    def __init__(self, cur, sizes: list[int]):
        self._cur, self._sizes = cur, sizes

    def execute(self, *args, **kwargs):
        self._cur.execute(*args, **kwargs)
        return self

    def fetchall(self):
        rows = self._cur.fetchall()
        self._sizes.append(len(rows))
        return rows

    def fetchone(self):
        self._sizes.append(1)
        return self._cur.fetchone()

    def fetchnumpy(self):
        # A deep or keyword page reads the sort key of every match as one integer array (never rows):
        # allowed, as long as it is one narrow column.
        arrays = self._cur.fetchnumpy()
        assert len(arrays) == 1 and all(a.dtype.kind == "i" for a in arrays.values()), list(arrays)
        return arrays

    def sql(self, *args, **kwargs):
        relation = self._cur.sql(*args, **kwargs)
        sizes = self._sizes

        class Relation:
            def to_arrow_table(self):
                table = relation.to_arrow_table()
                sizes.append(table.num_rows)
                return table

        return Relation()

    def __getattr__(self, name):
        return getattr(self._cur, name)


@pytest.fixture(scope="module")
def million(tmp_path_factory):
    folder = tmp_path_factory.mktemp("million")
    path = folder / "million.parquet"
    pq.write_table(generate_job(seed=11, tasks=N).table, path)
    store = Store(folder / "million.duckdb")
    [result] = import_files(store, [path])
    assert result.tasks == N
    yield store, result.job_id
    store.close()


def test_a_million_tasks_never_come_into_python(million, monkeypatch):
    store, job_id = million
    sizes: list[int] = []
    real = store.cursor
    monkeypatch.setattr(store, "cursor", lambda: Counting(real(), sizes))

    for filters, sort, offset in [
        (Filters(), "-created_at", 0),
        (Filters(status="completed", cache="miss"), "-response_time", 0),
        (Filters(path="blog"), "path", 0),
        (Filters(), "-page_views_7d", 0),
        (Filters(), "-created_at", N // 2),
        (Filters(status_code=404), "status_code", 0),
    ]:
        page = list_tasks(store, job_id, filters, Sort.parse(sort), limit=200, offset=offset)
        assert page.total > 0 and len(page.tasks) == min(200, page.total - offset)
    assert list_tasks(store, job_id).total == N

    kpis = stats.job_stats(store, job_id)
    assert kpis["tasks"] == N
    for series in (
        stats.response_time_histogram,
        stats.by_section,
        stats.by_content_type,
        stats.over_time,
        stats.cache_breakdown,
        stats.warming_outcome,
        stats.first_vs_second,
        stats.pages_to_fix,
    ):
        assert len(series(store, job_id)) <= 200

    for export_type in ("job", "broken-links", "slow-pages"):
        for fmt in ("csv", "json", "xlsx"):
            info = write_export(store, job_id, io.BytesIO(), export_type, fmt)
            assert info.exported == min(info.matched, 10_000)
    assert max(sizes) <= 10_000
    assert sum(sizes) < 200_000  # 9 exports of at most 10,000 rows, everything else a few rows
