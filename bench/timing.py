"""Wall-clock timing: one untimed run first (the checked one), then as many runs as fit a budget."""

from __future__ import annotations

import gc
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class Timing:
    """Seconds of each timed run."""

    runs: list[float] = field(default_factory=list)

    @property
    def median(self) -> float:
        return statistics.median(self.runs)

    @property
    def low(self) -> float:
        return min(self.runs)

    @property
    def high(self) -> float:
        return max(self.runs)

    def as_dict(self) -> dict:
        return {"median_s": self.median, "min_s": self.low, "max_s": self.high, "runs": len(self.runs)}


#: Past this many seconds of one operation's runs, no further run starts, even below `min_runs`: a
#: 10 s baseline query gets 2 runs and a 20 s one gets 1 (the table shows each figure's runs).
SLOW_CAP = 15.0


def measure(
    call: Callable[[], object], budget: float, min_runs: int = 3, max_runs: int = 21, cap: float = SLOW_CAP
) -> Timing:
    """Run `call` at least `min_runs` times (unless `cap` seconds are spent first) and at most
    `max_runs`, stopping once `budget` seconds have been spent: a 5 ms query gets 21 runs, a 2 s one 3."""
    timing = Timing()
    gc.collect()
    spent = 0.0
    while not timing.runs or (
        len(timing.runs) < max_runs and (spent < budget or (len(timing.runs) < min_runs and spent < cap))
    ):
        started = time.perf_counter()
        call()
        took = time.perf_counter() - started
        timing.runs.append(took)
        spent += took
    return timing
