"""The statistics every benchmark prints: percentiles and milliseconds."""

from __future__ import annotations

from collections.abc import Sequence


def pct(values: Sequence[float], p: float) -> float:
    """The p-th percentile (nearest rank) of `values`."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def ms(value: float) -> str:
    """Seconds as milliseconds with two decimals: '1.25 ms'."""
    return f"{value * 1000:.2f} ms"
