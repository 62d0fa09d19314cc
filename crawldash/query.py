"""List Tasks: filters, sort, limit and offset, exactly as SPEC says.

Filters are data: each one is an SQL template with a bound parameter and a caption, so the same
table builds the WHERE clause and the words "status is failed and path contains 'blog'".
Anything that comes from a URL or a command line is checked here and never reaches SQL as text.

>>> Filters.from_params({"status": "failed", "path": "blog"}).describe()
"status is failed and path contains 'blog'"
>>> str(Sort.parse("-response_time"))
'-response_time'
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace

import numpy as np

from crawldash import schema
from crawldash.errors import InvalidParameter
from crawldash.store import Job, Store

#: Fields of a listed task: the seed's record plus the HTTP code shown (derived when missing).
OUTPUT_FIELDS = schema.TASK_FIELDS + ("http_code",)


def _int(name: str, value: object) -> int:
    if isinstance(value, bool):
        raise InvalidParameter(name, value, "a whole number")
    if isinstance(value, int):
        return value
    text = str(value).strip()
    if not re.fullmatch(r"[+-]?\d{1,12}", text):
        raise InvalidParameter(name, value, "a whole number")
    return int(text)


@dataclass(frozen=True)
class Filters:
    """The filters of one view; frozen and hashable, so it is a cache key and a URL's state."""

    status: str | None = None
    cache: str | None = None
    path: str | None = None
    status_code: int | None = None

    def __post_init__(self) -> None:
        if self.status is not None and self.status not in schema.STATUSES:
            raise InvalidParameter("status", self.status, "one of " + ", ".join(schema.STATUSES))
        if self.cache is not None and self.cache not in schema.CACHE_FILTERS:
            raise InvalidParameter("cache", self.cache, "hit or miss")
        if self.status_code is not None and not 100 <= self.status_code <= 599:
            raise InvalidParameter("status_code", self.status_code, "an HTTP code from 100 to 599")
        if self.path is not None and len(self.path) > 500:
            raise InvalidParameter("path", self.path[:40] + "…", "a keyword of at most 500 characters")

    @classmethod
    def from_params(cls, params: Mapping[str, object]) -> Filters:
        """Filters from text parameters (a URL's query, CLI options); empty values mean no filter."""

        def text(name: str) -> str | None:
            value = params.get(name)
            value = None if value is None else str(value).strip()
            return value or None

        status, cache = text("status"), text("cache")
        code = text("status_code")
        return cls(
            status=status.lower() if status else None,
            cache=cache.lower() if cache else None,
            path=text("path"),
            status_code=_int("status_code", code) if code is not None else None,
        )

    def params(self) -> dict[str, str]:
        """The filters as text parameters (the inverse of `from_params`), without empty ones."""
        return {f.name: str(getattr(self, f.name)) for f in fields(self) if getattr(self, f.name) is not None}

    def clauses(self) -> list[tuple[str, list, str]]:
        """(SQL, parameters, caption) of each active filter, over `tasks` or `job_counts`."""
        out = []
        if self.status is not None:
            out.append(("status = ?", [self.status], f"status is {self.status}"))
        if self.cache is not None:
            members = " or ".join(schema.CACHE_FILTERS[self.cache])
            out.append(("cache_group = ?", [self.cache], f"cache is {self.cache} ({members})"))
        if self.status_code is not None:
            out.append(("http_code = ?", [self.status_code], f"HTTP code is {self.status_code}"))
        if self.path is not None:
            # contains() is literal: _ % and \ match only themselves. Lower-casing both sides makes it
            # case-insensitive with DuckDB's own Unicode rules on both.
            out.append(("contains(path_lc, lower(?))", [self.path], f"path contains {self.path!r}"))
        return out

    def where(self) -> tuple[str, list]:
        """The WHERE clause (after the job) and its bound parameters."""
        clauses = self.clauses()
        sql = "".join(f" AND {c[0]}" for c in clauses)
        return sql, [p for c in clauses for p in c[1]]

    def describe(self) -> str:
        return " and ".join(c[2] for c in self.clauses()) or "all tasks"

    @property
    def needs_scan(self) -> bool:
        """Whether counting needs the tasks themselves (a path keyword), not the per-job counts."""
        return self.path is not None


@dataclass(frozen=True)
class Sort:
    """A sort field from the whitelist and a direction; ties are broken by id."""

    field: str = "created_at"
    descending: bool = True

    def __post_init__(self) -> None:
        if self.field not in schema.SORT_FIELDS:
            raise InvalidParameter(
                "sort", self.field, "one of " + ", ".join(schema.SORT_FIELDS) + ", with - for descending"
            )

    @classmethod
    def parse(cls, text: str | None) -> Sort:
        """`response_time` ascending, `-response_time` descending; empty means the default."""
        text = (text or "").strip() or schema.DEFAULT_SORT
        descending = text.startswith("-")
        name = text[1:] if descending else text
        if name not in schema.SORT_FIELDS:
            raise InvalidParameter("sort", text, "one of " + ", ".join(schema.SORT_FIELDS) + ", with - for descending")
        return cls(name, descending)

    def __str__(self) -> str:
        return ("-" if self.descending else "") + self.field

    def key_sql(self) -> str:
        """An integer expression whose ascending order is this sort's order.

        Ascending: the order key computed at import (value ascending, nulls last, ties by id).
        Descending: the same order reversed, except that nulls stay last (among them, ids reversed too).
        """
        rank = f"o_{self.field}"
        if not self.descending:
            return rank
        return f"CASE WHEN {schema.SORT_COLUMN[self.field]} IS NULL THEN 4294967296 - {rank} ELSE -{rank} END"


def clamp_limit(value: object) -> tuple[int, str | None]:
    """A page size within 1..200, and a note when the asked one was out of range."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return schema.DEFAULT_LIMIT, None
    limit = _int("limit", value)
    if limit > schema.MAX_LIMIT:
        return schema.MAX_LIMIT, f"limit {limit} is above the maximum: showing {schema.MAX_LIMIT} per page"
    if limit < 1:
        return 1, f"limit {limit} is below 1: showing 1 per page"
    return limit, None


def clamp_offset(value: object) -> tuple[int, str | None]:
    """An offset of at least 0, and a note when a negative one was asked."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return 0, None
    offset = _int("offset", value)
    if offset < 0:
        return 0, f"offset {offset} is negative: starting at 0"
    return offset, None


@dataclass(frozen=True)
class TaskPage:
    """One page of List Tasks: the tasks and the pagination the seed returns."""

    tasks: list[dict]
    limit: int
    offset: int
    total: int
    notes: tuple[str, ...] = field(default=())

    @property
    def has_next(self) -> bool:
        return self.offset + self.limit < self.total

    @property
    def has_prev(self) -> bool:
        return self.offset > 0

    def pagination(self) -> dict:
        return {
            "limit": self.limit,
            "offset": self.offset,
            "total": self.total,
            "has_next": self.has_next,
            "has_prev": self.has_prev,
        }


def host_shown_sql(domain: str) -> tuple[str, list]:
    """The host, only where it differs from the job's domain (ignoring case and a leading www.)."""
    bare = re.sub(r"^www\.", "", domain.lower())
    return "CASE WHEN regexp_replace(lower(host), '^www\\.', '') = ? THEN NULL ELSE host END", [bare]


def _select_list() -> str:
    return ", ".join("{host}" if f == "host" else f for f in OUTPUT_FIELDS)


def count_tasks(cur, job: Job, filters: Filters) -> int:
    """How many tasks of a job match the filters (from the per-job counts when no keyword)."""
    where, params = filters.where()
    table = "tasks" if filters.needs_scan else "job_counts"
    measure = "count(*)" if filters.needs_scan else "coalesce(sum(n), 0)"
    return int(
        cur.execute(f"SELECT {measure} FROM {table} WHERE job_key = ?{where}", [job.job_key, *params]).fetchone()[0]
    )


#: A filtered page ending this near the start is found with a top-N query; a deeper one, or one
#: with a path keyword, from the sorted keys of every match (which also give the count).
SHALLOW = 1000
_NULLS_FROM = 4294967296  # see Sort.key_sql: descending keys of null values are 2**32 - o


def _position_ranges(sort: Sort, offset: int, limit: int, total: int, present: int) -> list[tuple[int, int]]:
    """The order-key ranges of positions offset+1 .. offset+limit of a whole job (no filter).

    Ascending, position p has key o = p. Descending lists the `present` non-null values by o going
    down, then the nulls by o going down: p <= present has o = present - p + 1, a later p has
    o = total + present + 1 - p.
    """
    first, last = offset + 1, min(offset + limit, total)
    if first > last:
        return []
    if not sort.descending:
        return [(first, last)]
    ranges = []
    if first <= present:
        end = min(last, present)
        ranges.append((present - end + 1, present - first + 1))
    if last > present:
        start = max(first, present + 1)
        ranges.append((total + present + 1 - last, total + present + 1 - start))
    return ranges


def _ranks_of(sort: Sort, keys: np.ndarray) -> np.ndarray:
    """The order keys o of the rows whose sort keys (Sort.key_sql) these are."""
    if not sort.descending:
        return keys
    return np.where(keys < 0, -keys, _NULLS_FROM - keys)


@dataclass(frozen=True)
class Selection:
    """The rows of one page (or export) of a job: a WHERE clause over `tasks`, and how many match.

    Built in two steps so that no query carries whole rows through a sort: first the page's order
    keys o (from the position when nothing is filtered, else by a narrow query), then a clause that
    holds exactly the rows with those keys.
    """

    where: str
    params: list
    total: int

    @property
    def empty(self) -> bool:
        return not self.where


def select(
    cur, job: Job, filters: Filters, sort: Sort, limit: int, offset: int, condition: tuple[str, list] = ("", [])
) -> Selection:
    """Positions offset+1 .. offset+limit of the tasks matching the filters (and `condition`, SQL
    over `tasks` such as an export type's), in `sort` order."""
    where, params = filters.where()
    if condition[0]:
        where, params = f"{where} AND {condition[0]}", [*params, *condition[1]]
    rank, column = f"o_{sort.field}", schema.SORT_COLUMN[sort.field]
    if not where:
        total = job.task_count
        present = cur.execute(f"SELECT count({column}) FROM tasks WHERE job_key = ?", [job.job_key]).fetchall()[0][0]
        ranges = _position_ranges(sort, offset, limit, total, present)
        if not ranges:
            return Selection("", [], total)
        match = " OR ".join(f"{rank} BETWEEN ? AND ?" for _ in ranges)
        return Selection(f"job_key = ? AND ({match})", [job.job_key, *(v for r in ranges for v in r)], total)
    if not filters.needs_scan and not condition[0] and offset + limit <= SHALLOW:
        # A shallow page: its keys from a top-N over one integer, the count from the per-job counts.
        keys = cur.execute(
            f"SELECT {sort.key_sql()} AS k FROM tasks WHERE job_key = ?{where} ORDER BY k LIMIT ? OFFSET ?",
            [job.job_key, *params, limit, offset],
        ).fetchnumpy()["k"]
        keys, total = np.asarray(keys, dtype=np.int64), count_tasks(cur, job, filters)
    else:
        # Otherwise every match's key in one scan, partitioned with numpy: a deep page costs what the
        # first does, and a keyword is searched once for the page and the count.
        every = cur.execute(f"SELECT {sort.key_sql()} AS k FROM tasks WHERE job_key = ?{where}", [job.job_key, *params])
        every = np.asarray(every.fetchnumpy()["k"], dtype=np.int64)
        total, end = len(every), min(offset + limit, len(every))
        if offset >= end:
            return Selection("", [], total)
        keys = np.sort(np.partition(every, [offset, end - 1])[offset:end] if end - offset < total else every)
    if not len(keys):
        return Selection("", [], total)
    ranks = _ranks_of(sort, keys)
    if len(ranks) <= SHALLOW:
        return Selection(f"job_key = ? AND {rank} = ANY(?){where}", [job.job_key, ranks.tolist(), *params], total)
    # Many rows (an export): a range of o holds the page's rows and, among the matches, only them, so
    # the filters go along. Ascending that is one range; descending, one for the non-null part (keys
    # below 0) and one for the nulls, which sort after them.
    parts = [ranks[keys < 0], ranks[keys >= 0]] if sort.descending else [ranks]
    ranges = [(int(part.min()), int(part.max())) for part in parts if len(part)]
    match = " OR ".join(f"{rank} BETWEEN ? AND ?" for _ in ranges)
    return Selection(
        f"job_key = ? AND ({match}){where}", [job.job_key, *(v for r in ranges for v in r), *params], total
    )


def fetch_page(cur, job: Job, filters: Filters, sort: Sort, limit: int, offset: int) -> tuple[list[dict], int]:
    """(the rows of one page, in order, as dicts of OUTPUT_FIELDS; how many tasks match)."""
    chosen = select(cur, job, filters, sort, limit, offset)
    if chosen.empty:
        return [], chosen.total
    host_sql, host_params = host_shown_sql(job.domain)
    columns = _select_list().replace("{host}", f"{host_sql} AS host")
    rows = cur.execute(
        f"SELECT {columns} FROM tasks WHERE {chosen.where} ORDER BY {sort.key_sql()}", [*host_params, *chosen.params]
    ).fetchall()
    return [dict(zip(OUTPUT_FIELDS, row, strict=True)) for row in rows], chosen.total


def list_tasks(
    store: Store,
    job_id: str,
    filters: Filters | None = None,
    sort: Sort | None = None,
    limit: object = None,
    offset: object = None,
) -> TaskPage:
    """One page of a job's tasks, with the total for the same filters, read in one snapshot.

    `limit` is clamped to 1..200 and `offset` to >= 0; the page's notes say so when they were.
    """
    filters, sort = filters or Filters(), sort or Sort.parse(None)
    limit_n, limit_note = clamp_limit(limit)
    offset_n, offset_note = clamp_offset(offset)
    notes = tuple(n for n in (limit_note, offset_note) if n)
    with store.snapshot() as cur:
        job = store.job(job_id, cur)
        tasks, total = fetch_page(cur, job, filters, sort, limit_n, offset_n)
    return TaskPage(tasks, limit_n, offset_n, total, notes)


def parse_view(params: Mapping[str, object]) -> tuple[Filters, Sort, int, int, tuple[str, ...]]:
    """Filters, sort, limit and offset from text parameters; raises InvalidParameter on the first bad one."""
    filters = Filters.from_params(params)
    sort = Sort.parse(params.get("sort"))  # type: ignore[arg-type]
    limit, n1 = clamp_limit(params.get("limit"))
    offset, n2 = clamp_offset(params.get("offset"))
    return filters, sort, limit, offset, tuple(n for n in (n1, n2) if n)


def without(filters: Filters, name: str) -> Filters:
    """The same filters with one removed."""
    return replace(filters, **{name: None})


def has_other_hosts(store: Store, job_id: str) -> bool:
    """Whether any task's host differs from the job's domain (ignoring case and a leading www.)."""
    with store.snapshot() as cur:
        job = store.job(job_id, cur)
        sql, params = host_shown_sql(job.domain)
        rows = cur.execute(
            f"SELECT count(*) FROM (SELECT 1 FROM tasks WHERE job_key = ? AND ({sql}) IS NOT NULL LIMIT 1)",
            [job.job_key, *params],
        ).fetchall()
    return bool(rows[0][0])
