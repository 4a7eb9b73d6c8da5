"""One table of benchmark results: each row a median and min-max over rounds."""

from __future__ import annotations

import statistics
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class Row:
    """A measure, its reference, the samples of each round and its target."""

    measure: str
    reference: str
    unit: str  # "x" for a ratio against the reference, else the value's unit
    target: str = ""
    meets: Callable[[float], bool] | None = None
    samples: list[float] = field(default_factory=list)

    @property
    def median(self) -> float:
        return statistics.median(self.samples)

    def verdict(self) -> str:
        if not self.samples:
            return "not run"
        if self.meets is None:
            return ""
        return "yes" if self.meets(self.median) else "NO"


def _number(value: float, unit: str) -> str:
    return f"{value:.2f}{unit}" if unit == "x" else f"{value:.1f} {unit}"


def render(rows: list[Row], skipped: dict[str, str] | None = None) -> str:
    """Return the rows as one Markdown table, then why any measure was skipped."""
    lines = [
        "| Measure | Against | Median | Min-max | Rounds | Target | Met |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for row in rows:
        if row.samples:
            median = _number(row.median, row.unit)
            spread = (
                f"{_number(min(row.samples), row.unit)}-"
                f"{_number(max(row.samples), row.unit)}"
            )
        else:
            median = spread = "-"
        lines.append(
            f"| {row.measure} | {row.reference} | {median} | {spread} | "
            f"{len(row.samples)} | {row.target} | {row.verdict()} |"
        )
    for measure, reason in (skipped or {}).items():
        lines.append(f"\nNot measured: {measure}: {reason}")
    return "\n".join(lines)
