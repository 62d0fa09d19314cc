"""The engines the mix runs on: ours (crawldash) and the baselines a user would otherwise pick.

Every engine answers the same calls. The timed ones (`list_tasks`, `export`, `stats`) return their
engine's own result objects; the check turns them into comparable shapes (`page_result`,
`canonical_stats`) outside the timed region.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bench.data import ScenarioData
from bench.mix import ListQuery, PageResult, norm


def _is_series(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and isinstance(value[0], tuple)


@dataclass
class Variant:
    """One result to compare with ours: `exact` compares ids in order, `values` only the sort values
    (for SQL whose order among ties is undefined: the original's)."""

    label: str
    result: Any
    mode: str = "exact"


class Engine:
    """The interface every engine implements."""

    name = ""
    title = ""

    def setup(self, data: ScenarioData) -> str:
        """Load (or open the cached copy of) a scenario; return a note on what it took."""
        raise NotImplementedError

    def list_tasks(self, q: ListQuery) -> Any:
        """One page plus the total (timed)."""
        raise NotImplementedError

    def page_result(self, raw: Any, q: ListQuery) -> PageResult:
        raise NotImplementedError

    def check_list(self, q: ListQuery) -> list[Variant]:
        """The results the equality check compares for one query."""
        return [Variant("", self.page_result(self.list_tasks(q), q))]

    def export(self, fmt: str) -> bytes:
        """The job export of at most 10,000 tasks, newest first, in one format (timed)."""
        raise NotImplementedError

    def check_export(self, fmt: str) -> list[Variant]:
        """Export outputs to compare (parsed by the check)."""
        return [Variant("", self.export(fmt))]

    def stats(self) -> Any:
        """The job's KPIs and every chart series (timed)."""
        raise NotImplementedError

    def canonical_stats(self, raw: Any) -> dict:
        """The stats as the check compares them: each series a list of tuples of `norm`ed values."""
        return {
            key: [tuple(norm(x) for x in row) for row in value] if _is_series(value) else value
            for key, value in raw.items()
        }

    def close(self) -> None:
        pass
