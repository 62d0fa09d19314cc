"""SPEC's List Tasks and Export rules in plain Python, written from SPEC.md without looking at the SQL.

The differential tests run both on the same jobs and compare. Records here are dicts with the
seed's field names, as they were given to the import (timestamps as ISO 8601 text).
"""

from __future__ import annotations

from datetime import datetime

REASONS = {"Not Found": 404, "Too Many Requests": 429, "Internal Server Error": 500, "Forbidden": 403}
SLOW_MS = 3000
CAP = 10_000


def ts(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value.replace("Z", "+00:00"))


def second(t: dict) -> int | None:
    """second_response_time 0 means no second request."""
    value = t.get("second_response_time")
    return value if value else None


def effective(t: dict) -> int | None:
    s = second(t)
    return s if s is not None and s > 0 else t.get("response_time")


def http_code(t: dict) -> int | None:
    """The HTTP status, or the one an error text names (these tests use reason phrases only)."""
    if t.get("status_code"):
        return t["status_code"]
    return REASONS.get(t.get("error") or "")


def cache(t: dict) -> str | None:
    value = t.get("cache_status")
    if not value:
        return None
    return value.split(",")[-1].strip().upper() or None


def matches(t: dict, status=None, cache_filter=None, path=None, status_code=None) -> bool:
    if status is not None and t["status"] != status:
        return False
    if cache_filter == "hit" and cache(t) not in ("HIT", "DYNAMIC"):
        return False
    if cache_filter == "miss" and cache(t) not in ("MISS", "EXPIRED"):
        return False
    if path is not None and path.lower() not in t["path"].lower():
        return False
    return not (status_code is not None and http_code(t) != status_code)


def sort_value(t: dict, field: str):
    if field == "status_code":
        return http_code(t)
    if field == "cache_status":
        return cache(t)
    if field == "second_response_time":
        return second(t)
    if field == "created_at":
        return ts(t.get("created_at"))
    return t.get(field)


def ordered(tasks: list[dict], sort: str) -> list[dict]:
    """Sorted as SPEC says: the field (- for descending), nulls last either way, ties by id
    (in the sort's direction: a descending sort is the ascending one reversed, nulls kept last)."""
    descending = sort.startswith("-")
    field = sort.lstrip("-")
    present = [t for t in tasks if sort_value(t, field) is not None]
    absent = [t for t in tasks if sort_value(t, field) is None]
    present.sort(key=lambda t: (sort_value(t, field), t["id"]), reverse=descending)
    absent.sort(key=lambda t: t["id"], reverse=descending)
    return present + absent


def list_tasks(
    tasks: list[dict],
    *,
    status=None,
    cache_filter=None,
    path=None,
    status_code=None,
    sort: str = "-created_at",
    limit=None,
    offset=None,
) -> tuple[list[str], dict]:
    """(ids of the page, pagination) for one List Tasks call."""
    limit = 50 if limit is None else min(max(limit, 1), 200)
    offset = 0 if offset is None else max(offset, 0)
    found = [t for t in tasks if matches(t, status, cache_filter, path, status_code)]
    page = ordered(found, sort)[offset : offset + limit]
    total = len(found)
    return [t["id"] for t in page], {
        "limit": limit,
        "offset": offset,
        "total": total,
        "has_next": offset + limit < total,
        "has_prev": offset > 0,
    }


def export_ids(tasks: list[dict], export_type: str, cap: int = CAP) -> tuple[list[str], int]:
    """(ids exported, in order; how many matched) for one export type."""
    if export_type == "broken-links":
        found = [t for t in tasks if t["status"] == "failed"]
    elif export_type == "slow-pages":
        found = [t for t in tasks if (effective(t) or 0) > SLOW_MS]
    else:
        found = list(tasks)
    return [t["id"] for t in ordered(found, "-created_at")[:cap]], len(found)
