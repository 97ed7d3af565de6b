"""Group sequential decisions: a daily readout that stays valid however often it is read.

A readout runs every day, and its verdict stops the experiment the first day a test is
significant. With a fixed-horizon test at every look that inflates the false-positive
rate (30 daily looks at alpha = 0.05: about 23 % of A/A experiments stop on a
"significant" verdict). A group sequential design fixes it, as GrowthBook, Eppo and
Statsig do: the total alpha is *spent* over the experiment's information time by a
spending function, and each look gets the critical value that spends exactly its share.

* Information time ``t`` in (0, 1]: the share of the planned experiment seen at a look.
  The readout uses calendar time, ``(day - start + 1) / (decision_day - start + 1)``: it
  is fixed in advance (a valid spending scale whatever the daily traffic), it keeps growing
  while outcomes mature after the last exposure, and the decision day's readout (the last
  look: ``ExperimentSpec.decision_day``) spends the rest.
* Spending function: Lan-DeMets O'Brien-Fleming type, per side ``2 - 2 Phi(z_{1-alpha/4}
  / sqrt t)`` (``obf_spending``): almost nothing early, nearly the fixed-horizon level at
  the end, so the power at the planned end stays close to the fixed-horizon test's.
* Boundaries: the test statistic is modelled as Brownian motion in ``t`` (``Z_k = B(t_k)
  / sqrt t_k``, independent increments). For each look the critical value ``c_k`` solves
  ``P(no earlier crossing, |Z_k| >= c_k) = alpha(t_k) - alpha(t_{k-1})`` by recursive
  numerical integration of the sub-density of ``B`` over the continuation region
  (Armitage, McPherson and Rowe 1969; Jennison and Turnbull 2000, ch. 19), with Simpson
  weights on a grid of the region.

``boundaries`` returns the critical values; ``sequential_test`` applies them to a path of
z statistics: significant once any look crossed its boundary.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import optimize
from scipy import stats as st

_GRID = 401  # odd: Simpson's rule; 1e-6 accuracy on the published boundaries


def obf_spending(t: float, alpha: float) -> float:
    """Two-sided alpha spent by information time ``t`` (Lan-DeMets O'Brien-Fleming type):
    each side spends ``2 - 2 Phi(z_{1 - alpha/4} / sqrt t)`` of its ``alpha / 2`` (the
    convention of gsDesign and rpact for a symmetric two-sided design)."""
    if t <= 0:
        return 0.0
    t = min(t, 1.0)
    return float(2 * (2 - 2 * st.norm.cdf(st.norm.ppf(1 - alpha / 4) / math.sqrt(t))))


def boundaries(times: Sequence[float], alpha: float) -> np.ndarray:
    """Two-sided critical values ``c_k`` of the z statistic at looks ``times`` (strictly
    increasing, in (0, 1]) that spend ``obf_spending`` exactly."""
    t = np.asarray(times, dtype=float)
    if t.ndim != 1 or t.size == 0 or np.any(t <= 0) or np.any(t > 1 + 1e-12):
        raise ValueError(f"information times must be in (0, 1], got {list(times)}")
    if np.any(np.diff(t) <= 0):
        raise ValueError(f"information times must increase strictly, got {list(times)}")
    out = np.empty(t.size)
    spent_before = 0.0
    grid = weights = density = None  # sub-density of B(t_{k-1}) on the continuation region
    for k, tk in enumerate(t):
        target = obf_spending(tk, alpha) - spent_before
        if k == 0:
            out[k] = st.norm.ppf(1 - target / 2) if target > 0 else math.inf
        else:
            out[k] = _critical_value(grid, weights * density, math.sqrt(tk - t[k - 1]), tk,
                                     target)  # fmt: skip
        spent_before += target
        # the sub-density of B(t_k) on (-b_k, b_k): no crossing up to look k
        b = out[k] * math.sqrt(tk) if math.isfinite(out[k]) else 12 * math.sqrt(tk)
        new_grid = np.linspace(-b, b, _GRID)
        new_weights = _simpson(new_grid)
        if k == 0:
            new_density = st.norm.pdf(new_grid, scale=math.sqrt(tk))
        else:
            sd = math.sqrt(tk - t[k - 1])
            kernel = st.norm.pdf((new_grid[:, None] - grid[None, :]) / sd) / sd
            new_density = kernel @ (weights * density)
        grid, weights, density = new_grid, new_weights, new_density
    return out


def _critical_value(
    grid: np.ndarray, mass: np.ndarray, sd: float, tk: float, target: float
) -> float:
    """``c`` with P(B(t_{k-1}) in the region, |B(t_k)| >= c sqrt(t_k)) = ``target``: the
    previous sub-density's ``mass`` on ``grid`` moved by an increment of s.d. ``sd``."""
    if target <= 1e-15:
        return math.inf

    def exit_prob(c: float) -> float:
        b = c * math.sqrt(tk)
        inside = st.norm.cdf((b - grid) / sd) - st.norm.cdf((-b - grid) / sd)
        return float(np.sum(mass * (1 - inside)))

    return float(optimize.brentq(lambda c: exit_prob(c) - target, 1e-6, 40.0, xtol=1e-10))


def _simpson(grid: np.ndarray) -> np.ndarray:
    h = (grid[-1] - grid[0]) / (grid.size - 1)
    w = np.ones(grid.size)
    w[1:-1:2], w[2:-1:2] = 4.0, 2.0
    return w * h / 3


@dataclass(frozen=True)
class SequentialResult:
    """The sequential test at the last look of a path."""

    looks: int
    time: float  # information time of the last look
    z: float  # z statistic at the last look
    boundary: float  # its critical value
    alpha_spent: float  # two-sided alpha spent up to the last look
    crossed_at: int | None  # first look (1-based) whose |z| reached its boundary, or None

    @property
    def significant(self) -> bool:
        return self.crossed_at is not None


def sequential_test(
    times: Sequence[float], z_values: Sequence[float], alpha: float
) -> SequentialResult:
    """Apply the boundaries of ``times`` to the z path: significant from the first look
    whose ``|z|`` reaches its critical value on (a decision, once made, stands)."""
    if len(times) != len(z_values) or not times:
        raise ValueError("one z statistic per look, at least one look")
    c = boundaries(times, alpha)
    z = np.asarray(z_values, dtype=float)
    if not np.all(np.isfinite(z)):
        raise ValueError(f"z statistics must be finite, got {list(z_values)}")
    crossed = np.flatnonzero(np.abs(z) >= c)
    return SequentialResult(
        looks=len(times),
        time=float(times[-1]),
        z=float(z[-1]),
        boundary=float(c[-1]),
        alpha_spent=obf_spending(float(times[-1]), alpha),
        crossed_at=int(crossed[0]) + 1 if crossed.size else None,
    )
