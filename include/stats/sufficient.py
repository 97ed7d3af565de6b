"""Sufficient statistics per arm and metric: the only input the readout statistics need.

Every test in this package is a function of a handful of sums per arm, so the Spark jobs
aggregate users into ``n, sum(y), sum(y^2)`` (plus the cross-products with a pre-exposure
covariate ``x`` for CUPED) and never ship unit-level rows to the driver. Sums add, so a
day's partial aggregate merges *exactly* into the cumulative one (``a + b``) and a readout
over days 1..k equals a readout over the concatenated users (the tea-tasting / gbstats
approach).

Fields may be Python numbers or numpy arrays of one shape: with arrays, each position is
an independent experiment, which is how the A/A simulations run 10,000 experiments in one
vectorised call.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields
from functools import reduce
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

FloatArray = NDArray[np.float64]
_REL_TOL = 1e-12


@dataclass(frozen=True)
class SufficientStats:
    """Sums over the units of one arm for one metric.

    ``y`` is the metric (0/1 for conversions, so ``sum_sq == sum``), ``x`` an optional
    pre-exposure covariate (all-zero sums mean "no covariate"). A ratio metric (revenue per
    order: a denominator that is not the randomization unit) keeps ``y`` as its numerator
    per unit and adds the denominator ``d`` per unit (``sum_d``, ``sum_d_sq``, ``sum_yd``;
    all zero for other metrics): the delta method needs exactly these five sums.
    """

    n: Any = 0
    sum: Any = 0.0
    sum_sq: Any = 0.0
    sum_x: Any = 0.0
    sum_x_sq: Any = 0.0
    sum_xy: Any = 0.0
    sum_d: Any = 0.0
    sum_d_sq: Any = 0.0
    sum_yd: Any = 0.0

    # ---- construction -------------------------------------------------------------------
    @classmethod
    def from_values(
        cls, y: ArrayLike, x: ArrayLike | None = None, axis: int = -1, d: ArrayLike | None = None
    ) -> SufficientStats:
        """Aggregate unit-level values; with 2-D input, one experiment per row (``axis=-1``).
        ``d``: a ratio metric's denominator per unit (``y`` its numerator)."""
        y_arr = np.asarray(y, dtype=float)
        n = y_arr.shape[axis] if y_arr.ndim else 1
        n_out: Any = n if y_arr.ndim <= 1 else np.full(y_arr.sum(axis=axis).shape, n)
        if x is None:
            zeros: Any = 0.0 if y_arr.ndim <= 1 else np.zeros_like(y_arr.sum(axis=axis))
            sx = sxx = sxy = zeros
        else:
            x_arr = np.asarray(x, dtype=float)
            if x_arr.shape != y_arr.shape:
                raise ValueError("x and y must have the same shape")
            sx, sxx, sxy = (
                _unwrap(x_arr.sum(axis=axis)),
                _unwrap((x_arr**2).sum(axis=axis)),
                _unwrap((x_arr * y_arr).sum(axis=axis)),
            )
        ratio_sums: dict[str, Any] = {}
        if d is not None:
            d_arr = np.asarray(d, dtype=float)
            if d_arr.shape != y_arr.shape:
                raise ValueError("d and y must have the same shape")
            ratio_sums = {
                "sum_d": _unwrap(d_arr.sum(axis=axis)),
                "sum_d_sq": _unwrap((d_arr**2).sum(axis=axis)),
                "sum_yd": _unwrap((y_arr * d_arr).sum(axis=axis)),
            }
        return cls(
            n=n_out,
            sum=_unwrap(y_arr.sum(axis=axis)),
            sum_sq=_unwrap((y_arr**2).sum(axis=axis)),
            sum_x=sx,
            sum_x_sq=sxx,
            sum_xy=sxy,
            **ratio_sums,
        )

    @classmethod
    def from_moments(cls, n: ArrayLike, mean: ArrayLike, variance: ArrayLike) -> SufficientStats:
        """The sums of ``n`` units with this mean and unbiased variance (no covariate)."""
        n_a, m_a, v_a = (np.asarray(v, dtype=float) for v in (n, mean, variance))
        return cls(
            n=_unwrap(n_a),
            sum=_unwrap(n_a * m_a),
            sum_sq=_unwrap((n_a - 1) * v_a + n_a * m_a**2),
        )

    @classmethod
    def from_counts(cls, n: ArrayLike, conversions: ArrayLike) -> SufficientStats:
        """A conversion metric from (units, converters): 0/1 data, so ``sum_sq == sum``."""
        conv = _unwrap(np.asarray(conversions, dtype=float))
        return cls(n=_unwrap(np.asarray(n)), sum=conv, sum_sq=conv)

    @classmethod
    def from_mapping(cls, row: Mapping[str, Any]) -> SufficientStats:
        """Build from a table row / dict with the field names (missing covariate sums = 0)."""
        return cls(**{f.name: row.get(f.name, 0) or 0 for f in fields(cls)})

    def to_dict(self) -> dict[str, Any]:
        """Plain dict of the sums, e.g. to write a partial aggregate as a table row."""
        return {f.name: getattr(self, f.name) for f in fields(self)}

    # ---- merging ------------------------------------------------------------------------
    def __add__(self, other: SufficientStats) -> SufficientStats:
        """Exact merge: the stats of the union of two disjoint sets of units."""
        if not isinstance(other, SufficientStats):
            return NotImplemented
        return SufficientStats(
            **{f.name: getattr(self, f.name) + getattr(other, f.name) for f in fields(self)}
        )

    def __radd__(self, other: object) -> SufficientStats:
        """Allow ``sum(list_of_stats)`` (which starts from the integer 0)."""
        if other == 0:
            return self
        return NotImplemented

    # ---- moments ------------------------------------------------------------------------
    @property
    def mean(self) -> Any:
        """Sample mean ``sum / n`` (NaN when n == 0)."""
        n = np.asarray(self.n, dtype=float)
        with np.errstate(divide="ignore", invalid="ignore"):
            return _unwrap(np.where(n > 0, np.asarray(self.sum, float) / n, np.nan))

    @property
    def variance(self) -> Any:
        """Unbiased sample variance ``(sum_sq - sum^2/n) / (n - 1)``, clipped at 0 against
        rounding; NaN when n < 2."""
        return _centered(self.n, self.sum, self.sum, self.sum_sq, ddof=1)

    @property
    def variance_mle(self) -> Any:
        """Maximum-likelihood variance (divisor n); for 0/1 data this is ``p (1 - p)``."""
        return _centered(self.n, self.sum, self.sum, self.sum_sq, ddof=0)

    @property
    def mean_x(self) -> Any:
        """Mean of the covariate."""
        n = np.asarray(self.n, dtype=float)
        with np.errstate(divide="ignore", invalid="ignore"):
            return _unwrap(np.where(n > 0, np.asarray(self.sum_x, float) / n, np.nan))

    @property
    def variance_x(self) -> Any:
        """Unbiased sample variance of the covariate."""
        return _centered(self.n, self.sum_x, self.sum_x, self.sum_x_sq, ddof=1)

    @property
    def covariance_xy(self) -> Any:
        """Unbiased sample covariance of metric and covariate."""
        return _centered(self.n, self.sum_x, self.sum, self.sum_xy, ddof=1, clip=False)

    # ---- ratio metrics (delta method) ---------------------------------------------------
    @property
    def ratio(self) -> Any:
        """``sum(y) / sum(d)``: the ratio metric of the arm (NaN when ``sum(d) == 0``)."""
        d = np.asarray(self.sum_d, dtype=float)
        with np.errstate(divide="ignore", invalid="ignore"):
            return _unwrap(np.where(d != 0, np.asarray(self.sum, float) / d, np.nan))

    @property
    def ratio_variance(self) -> Any:
        """The unit-level variance of the ratio's linearisation, so ``Var(R) = this / n``.

        Delta method for ``R = mean(y) / mean(d)``: ``Var(R) ~ (s_y^2 - 2 R s_yd + R^2 s_d^2)
        / (n mean(d)^2)`` with unbiased (co)variances of y and d over the units. Units are
        independent; the sessions or orders inside a unit are not, which is why a ratio is
        never tested as if its denominator's items were the sample.
        """
        r = np.asarray(self.ratio, dtype=float)
        var_y = np.asarray(self.variance, dtype=float)
        var_d = np.asarray(_centered(self.n, self.sum_d, self.sum_d, self.sum_d_sq, ddof=1), float)
        cov = np.asarray(_centered(self.n, self.sum, self.sum_d, self.sum_yd, ddof=1, clip=False),
                         float)  # fmt: skip
        n = np.asarray(self.n, dtype=float)
        with np.errstate(divide="ignore", invalid="ignore"):
            mean_d = np.asarray(self.sum_d, float) / n
            lin = (var_y - 2 * r * cov + r**2 * var_d) / mean_d**2
        # the sample variance of y - R d, over mean(d)^2: never negative but for rounding
        return _unwrap(np.maximum(lin, 0.0))

    def as_ratio(self) -> SufficientStats:
        """Sums with the ratio as mean and the delta-method variance as unit variance: what
        the normal-approximation posterior and the power calculation of a mean need."""
        return SufficientStats.from_moments(self.n, self.ratio, self.ratio_variance)

    @property
    def is_binary_compatible(self) -> bool:
        """True when the sums are consistent with 0/1 data (``sum_sq == sum``)."""
        return bool(np.all(np.isclose(self.sum_sq, self.sum)))


def invalid_reason(stats: SufficientStats) -> str | None:
    """Why one arm's sums (scalars) cannot be tested, or None: a sum that is NaN or
    infinite, a negative or fractional unit count, a negative sum of squares, or a variance
    the sums cannot resolve (:func:`variance_resolvable`). Garbage never becomes a number."""
    values = {f.name: getattr(stats, f.name) for f in fields(stats)}
    for name, value in values.items():
        if np.ndim(value) != 0:
            raise ValueError("invalid_reason takes one arm of scalar sums")
        if not np.isfinite(float(value)):
            return f"{name} is {float(value)}"
    n = float(values["n"])
    if n < 0 or not n.is_integer():
        return f"n = {n:g} is not a unit count"
    if min(float(values[k]) for k in ("sum_sq", "sum_x_sq", "sum_d_sq")) < 0:
        return "a sum of squares is negative"
    if not variance_resolvable(n, values["sum"], values["sum_sq"]):
        return (
            "the variance is below the rounding error of its sums (a large offset with a "
            "small spread): it cannot be told apart from 0"
        )
    return None


def variance_resolvable(n: Any, s: Any, s_sq: Any) -> Any:
    """False where ``s_sq - s^2/n`` is within the rounding band of ``s_sq`` but not exactly 0.

    Exact zeros (0/1 data, integer constants) are zero variance; a centered sum inside the
    band is as likely rounding noise as a real spread (values near 1e7 with a spread of 1
    leave about 1e-14 of ``s_sq``), so calling it 0 would turn any difference of means
    into p = 0. Such an arm is reported, not tested."""
    n_f = np.asarray(n, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        num = np.asarray(s_sq, float) - np.asarray(s, float) ** 2 / n_f
        inside = np.abs(num) <= _REL_TOL * np.abs(np.asarray(s_sq, float))
    return _unwrap(~((n_f > 1) & inside & (num != 0) & ~_constant(n_f, s, s_sq)))


def _constant(n: Any, s: Any, s_sq: Any) -> Any:
    """Sums that a constant value c = s/n gives exactly (s_sq == n c^2 to rounding of c^2):
    the noise of a non-representable constant, which is zero variance, not a spread."""
    with np.errstate(divide="ignore", invalid="ignore"):
        c = np.asarray(s, float) / n
        return np.isclose(np.asarray(s_sq, float), n * c * c, rtol=4 * np.finfo(float).eps)


def merge_all(stats: Iterable[SufficientStats]) -> SufficientStats:
    """Merge any number of partial aggregates (empty input gives the empty arm)."""
    return reduce(lambda a, b: a + b, stats, SufficientStats())


def _centered(n: Any, s1: Any, s2: Any, s12: Any, ddof: int, clip: bool = True) -> Any:
    """``(s12 - s1*s2/n) / (n - ddof)``: the textbook one-pass (co)variance from sums."""
    n_f = np.asarray(n, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        num = np.asarray(s12, float) - np.asarray(s1, float) * np.asarray(s2, float) / n_f
        if clip:
            # Cancellation leaves ~eps * sum_sq of noise when every value is equal; treat
            # anything that small as the exact zero it is, so zero variance is detected.
            small = num <= _REL_TOL * np.abs(np.asarray(s12, float))
            num = np.where(np.isfinite(num) & small, 0.0, num)  # inf stays inf, never 0
        out = np.where(n_f > ddof, num / (n_f - ddof), np.nan)
    return _unwrap(out)


def _unwrap(value: Any) -> Any:
    """0-d arrays become Python floats so scalar callers get scalars back."""
    arr = np.asarray(value)
    return arr.item() if arr.ndim == 0 else arr
