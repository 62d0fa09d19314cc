"""Eight threads reading while an import replaces the job: no errors, and every answer is wholly
the old job or wholly the new one, never a mix."""

from __future__ import annotations

import threading

from conftest import write_json
from crawldash.importers import import_files
from crawldash.query import Filters, Sort, list_tasks
from crawldash.stats import job_stats
from crawldash.store import Store

OLD, NEW = 3000, 5000


def version(path, n: int, tag: str):
    tasks = [
        {
            "id": f"{tag}{i:05d}",
            "url": f"https://example.com/{tag}/{i}",
            "status": "completed" if i % 7 else "failed",
            "response_time": i % 400 + 1,
            "cache_status": "HIT" if i % 3 else "MISS",
            "created_at": "2026-01-05T09:30:00Z",
        }
        for i in range(n)
    ]
    return write_json(path, {"data": {"job_id": "job-1", "domain": "example.com", "tasks": tasks}})


def test_readers_see_the_old_or_the_new_job_never_a_mix(tmp_path):
    store = Store(tmp_path / "db.duckdb")
    old, new = version(tmp_path / "old.json", OLD, "old"), version(tmp_path / "new.json", NEW, "new")
    import_files(store, [old])
    errors, seen = [], {"old": 0, "new": 0}
    stop = threading.Event()

    def read(worker: int) -> None:
        try:
            while not stop.is_set():
                page = list_tasks(
                    store,
                    "job-1",
                    Filters(status="completed"),
                    Sort.parse("-response_time"),
                    limit=50,
                    offset=worker * 10,
                )
                tags = {t["id"][:3] for t in page.tasks}
                expected_total = {"old": OLD - len(range(0, OLD, 7)), "new": NEW - len(range(0, NEW, 7))}
                assert len(tags) == 1, tags
                tag = tags.pop()
                assert page.total == expected_total[tag], (tag, page.total)
                stats = job_stats(store, "job-1")
                assert stats["tasks"] in (OLD, NEW)
                assert sum(stats["status"].values()) == stats["tasks"]
                assert stats["cache_status"].get("HIT", 0) + stats["cache_status"].get("MISS", 0) == stats["tasks"]
                seen[tag] += 1
        except Exception as exc:
            errors.append(repr(exc))
            stop.set()

    threads = [threading.Thread(target=read, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    try:
        for n in range(3):
            import_files(store, [new if n % 2 == 0 else old])
        import_files(store, [new])
    finally:
        stop.set()
        for t in threads:
            t.join(timeout=60)
    store.close()
    assert errors == []
    assert seen["old"] > 0 and seen["new"] > 0
