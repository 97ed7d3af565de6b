"""Cumulative results by day from per-day sufficient statistics.

Because sums merge exactly, the estimate after day ``k`` is the test on the running sums
of days ``1..k`` — no re-scan of unit-level data. All days are evaluated in one
vectorised call. The intervals are the fixed-horizon ones for each day (for the chart of
"cumulative lift over time"); they are not always-valid sequential intervals, so peeking
at them to stop early inflates the error rate. Decisions do not: the experiment readout
runs the group sequential test of ``include.stats.sequential`` over these daily z
statistics (``statistic``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from include.stats.frequentist import compare
from include.stats.sufficient import SufficientStats


def cumulative_by_day(
    days: Sequence[tuple[Any, SufficientStats, SufficientStats]],
    metric_type: str,
    alpha: float = 0.05,
) -> list[dict[str, Any]]:
    """One record per day: cumulative n, means, lift with CI, p-value and status.

    ``days`` holds ``(day, control_stats_that_day, treatment_stats_that_day)`` in date
    order; days with no units simply carry the totals forward.
    """
    if not days:
        return []
    labels = [d[0] for d in days]
    control = _running(d[1] for d in days)
    treatment = _running(d[2] for d in days)
    res = compare(control, treatment, metric_type, alpha)
    keys = (
        "control_n",
        "control_mean",
        "treatment_n",
        "treatment_mean",
        "abs_lift",
        "abs_ci_low",
        "abs_ci_high",
        "rel_lift",
        "rel_ci_low",
        "rel_ci_high",
        "statistic",
        "p_value",
        "status",
    )
    columns = {k: np.atleast_1d(getattr(res, k)) for k in keys}
    return [
        {"day": label, **{k: _py(columns[k][i]) for k in keys}} for i, label in enumerate(labels)
    ]


def _running(stats: Any) -> SufficientStats:
    """Stack per-day stats into arrays of running totals (one position per day)."""
    items = list(stats)
    fields = ("n", "sum", "sum_sq", "sum_x", "sum_x_sq", "sum_xy")
    return SufficientStats(**{f: np.cumsum([float(getattr(s, f)) for s in items]) for f in fields})


def _py(value: Any) -> Any:
    """numpy scalar to Python; NaN to None (a null in the readouts table)."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and np.isnan(value):
        return None
    return value
