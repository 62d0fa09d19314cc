"""What a section hands to the report, and the report itself: markdown printed and written to bench/out/."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Target:
    """One target of issue 5 and what this run measured for it; `ok` None means not judged."""

    scenario: str
    text: str
    measured: str
    ok: bool | None

    def line(self) -> str:
        verdict = {True: "PASS", False: "MISS", None: "n/a "}[self.ok]
        return f"- {verdict} [{self.scenario}] {self.text}: {self.measured}"


@dataclass
class Section:
    """A section's output: markdown lines, the targets it judged, and its figures for results.json."""

    name: str
    lines: list[str] = field(default_factory=list)
    targets: list[Target] = field(default_factory=list)
    data: dict = field(default_factory=dict)


def ms(seconds: float) -> str:
    """A duration in milliseconds with about three significant digits."""
    value = seconds * 1000
    if value < 10:
        return f"{value:.2f}"
    if value < 100:
        return f"{value:.1f}"
    return f"{value:,.0f}"


def ratio(baseline: float, ours: float) -> str:
    value = baseline / ours
    if value >= 10:
        return f"{value:,.0f}x"
    return f"{value:.1f}x" if value >= 1 else f"{value:.2f}x"


def table(header: list[str], rows: list[list[str]]) -> list[str]:
    out = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    out += ["| " + " | ".join(row) + " |" for row in rows]
    return out
