"""ISO 8601 UTC timestamps, the same text in Python and in DuckDB SQL.

Whole seconds print as `2026-01-05T09:30:00Z`, like the original API (Go's RFC 3339); a fraction
prints as microseconds: `2026-01-05T09:30:00.250000Z`.

>>> from datetime import datetime, timezone
>>> iso(datetime(2026, 1, 5, 9, 30, tzinfo=timezone.utc))
'2026-01-05T09:30:00Z'
"""

from __future__ import annotations

from datetime import UTC, datetime


def iso(value: datetime | None) -> str | None:
    """A datetime as ISO 8601 in UTC with a Z; None stays None."""
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    value = value.astimezone(UTC)
    text = value.strftime("%Y-%m-%dT%H:%M:%S")
    if value.microsecond:
        text += f".{value.microsecond:06d}"
    return text + "Z"


def iso_sql(column: str) -> str:
    """SQL that formats a TIMESTAMPTZ column exactly as `iso` does (the session zone is UTC)."""
    return (
        f"CASE WHEN {column} IS NULL THEN NULL ELSE strftime({column}, '%Y-%m-%dT%H:%M:%S') || "
        f"CASE WHEN microsecond({column}) % 1000000 = 0 THEN '' "
        f"ELSE '.' || lpad((microsecond({column}) % 1000000)::VARCHAR, 6, '0') END || 'Z' END"
    )
