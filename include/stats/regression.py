"""Regression adjustments: seed 002's logistic model and CUPED variance reduction.

* ``logistic_regression``: ``purchase ~ 1 + treatment + engagement_intensity`` (by
  default) by maximum likelihood with ``statsmodels`` ``Logit``; Wald standard errors,
  ``z`` p-values and intervals ``b +/- z_{1-alpha/2} se``; odds ratios ``exp(b)`` with
  intervals ``exp(b +/- z se)``. It runs on a small pandas frame (a sample or a per-user
  extract), never on Spark.
* ``logistic_regression_grouped``: the same model from per-covariate-pattern counts (``n``
  users and ``purchases`` among them for each variant x engagement intensity): a binomial
  GLM on the patterns has the same likelihood, up to a constant, as the per-user Logit, so
  the same estimates, Wald standard errors, p-values and McFadden pseudo-R2 (computed here
  from the per-user log-likelihood). The readout gets the patterns from a Spark GROUP BY:
  a few hundred rows, however many users.
* ``cuped``: CUPED (Deng, Xu, Kohavi & Walker, 2013) from sufficient statistics with a
  pre-exposure covariate ``x``. ``theta = cov(y, x) / var(x)`` pooled within arms
  (``sum_i (n_i - 1) cov_i / sum_i (n_i - 1) var_x_i``), then per arm
  ``mean_adj = mean_y - theta (mean_x - mean_x_all)`` and
  ``var_adj = var_y - 2 theta cov + theta^2 var_x``; Welch's test on the adjusted moments.
  The variance reduction fraction is ``1 - Var(adjusted lift) / Var(unadjusted lift)``.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, fields
from typing import TYPE_CHECKING, Any

import numpy as np
from scipy import stats as st

from include.stats.frequentist import (
    STATUS_INVALID,
    TestResult,
    welch_from_moments,
    welch_ttest,
)
from include.stats.sufficient import SufficientStats, _unwrap

if TYPE_CHECKING:
    import pandas as pd


@dataclass(frozen=True)
class Coefficient:
    """One term of the fitted logistic model."""

    name: str
    coef: float
    std_err: float
    z: float
    p_value: float
    ci_low: float
    ci_high: float
    odds_ratio: float
    or_ci_low: float
    or_ci_high: float


@dataclass(frozen=True)
class LogitResult:
    """Fitted logistic regression, or a status saying why it could not be fitted."""

    status: str
    reason: str
    n_obs: int
    coefficients: tuple[Coefficient, ...]
    converged: bool
    pseudo_r2: float
    log_likelihood: float

    def coefficient(self, name: str) -> Coefficient:
        """Look a term up by name (``"const"`` for the intercept)."""
        for c in self.coefficients:
            if c.name == name:
                return c
        raise KeyError(name)


@dataclass(frozen=True)
class CupedResult:
    """CUPED-adjusted comparison next to the unadjusted one."""

    theta: Any
    variance_reduction: Any
    adjusted: TestResult
    unadjusted: TestResult
    status: Any


def logistic_regression(
    frame: pd.DataFrame,
    outcome: str = "purchase",
    predictors: Sequence[str] = ("treatment", "engagement_intensity"),
    alpha: float = 0.05,
) -> LogitResult:
    """Fit ``outcome ~ 1 + predictors`` by logistic regression (see module docstring).

    Returns ``status="insufficient_data"`` when the outcome does not vary or there are
    fewer rows than parameters, ``status="failed"`` (with the reason) when the fit breaks
    down (perfect separation, singular design, no convergence); never raises for data.
    """
    import statsmodels.api as sm  # heavy import kept out of module import time
    from statsmodels.tools.sm_exceptions import PerfectSeparationError

    data = frame[[outcome, *predictors]].dropna()
    y = data[outcome].astype(float)
    if len(data) <= len(predictors) + 1 or y.nunique() < 2:
        return _failed_logit("insufficient_data", "outcome constant or too few rows", len(data))
    design = sm.add_constant(data[list(predictors)].astype(float), has_constant="add")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # separation/convergence warnings become failures
            fit = sm.Logit(y, design).fit(disp=0, maxiter=100)
    except (
        Warning,
        ArithmeticError,
        ValueError,
        np.linalg.LinAlgError,
        PerfectSeparationError,
    ) as exc:
        # numerical breakdown (separation, singular design, overflow) is reported, not raised
        return _failed_logit("failed", f"{type(exc).__name__}: {exc}", len(data))
    converged = bool(fit.mle_retvals.get("converged", False))
    coefs = _coefficients(fit, alpha)
    if not converged or not all(math.isfinite(c.std_err) for c in coefs):
        return _failed_logit("failed", "maximum likelihood did not converge", len(data))
    return LogitResult(
        status="ok",
        reason="",
        n_obs=int(fit.nobs),
        coefficients=coefs,
        converged=converged,
        pseudo_r2=float(fit.prsquared),
        log_likelihood=float(fit.llf),
    )


def logistic_regression_grouped(
    groups: pd.DataFrame,
    successes: str = "purchases",
    trials: str = "n",
    predictors: Sequence[str] = ("treatment", "engagement_intensity"),
    alpha: float = 0.05,
) -> LogitResult:
    """``logistic_regression`` from covariate patterns with counts (see module docstring)."""
    import statsmodels.api as sm
    from statsmodels.tools.sm_exceptions import PerfectSeparationError

    data = groups[[successes, trials, *predictors]].dropna()
    data = data[data[trials] > 0]
    y, n = data[successes].astype(float), data[trials].astype(float)
    n_obs = int(n.sum())
    if ((y < 0) | (y > n)).any():
        raise ValueError(f"{successes} must be between 0 and {trials} in every group")
    total = float(y.sum())
    if n_obs <= len(predictors) + 1 or total in (0.0, float(n_obs)):
        return _failed_logit("insufficient_data", "outcome constant or too few rows", n_obs)
    design = sm.add_constant(data[list(predictors)].astype(float), has_constant="add")
    endog = np.column_stack([y, n - y])
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            fit = sm.GLM(endog, design, family=sm.families.Binomial()).fit(
                method="newton", tol=1e-12, maxiter=100, disp=0
            )
    except (Warning, ArithmeticError, ValueError, np.linalg.LinAlgError,
            PerfectSeparationError) as exc:
        return _failed_logit("failed", f"{type(exc).__name__}: {exc}", n_obs)
    coefs = _coefficients(fit, alpha)
    converged = bool(getattr(fit, "converged", True))
    if not converged or not all(math.isfinite(c.std_err) for c in coefs):
        return _failed_logit("failed", "maximum likelihood did not converge", n_obs)
    p = np.clip(np.asarray(fit.fittedvalues, float), 1e-300, 1 - 1e-16)
    llf = float(np.sum(y * np.log(p) + (n - y) * np.log1p(-p)))  # per-user log-likelihood
    p0 = total / n_obs
    llnull = total * math.log(p0) + (n_obs - total) * math.log1p(-p0)
    return LogitResult(
        status="ok",
        reason="",
        n_obs=n_obs,
        coefficients=coefs,
        converged=converged,
        pseudo_r2=1.0 - llf / llnull,
        log_likelihood=llf,
    )


def cuped(control: SufficientStats, treatment: SufficientStats, alpha: float = 0.05) -> CupedResult:
    """CUPED-adjusted Welch comparison from per-arm sums with a covariate (vectorised).

    Without covariate spread (``var(x) == 0`` or no covariate sums) ``theta = 0``, the
    adjusted result equals the unadjusted one and ``status = "no_covariate_variance"``;
    an arm with n < 2 gives ``status = "insufficient_data"`` (theta and reduction NaN); an
    arm holding a NaN or infinite sum gives ``status = "invalid_input"`` (theta, reduction
    and both tests NaN, never a theta from the other arm alone).
    """
    unadjusted = welch_ttest(control, treatment, alpha)
    n_c, n_t = np.asarray(control.n, float), np.asarray(treatment.n, float)
    short = (n_c < 2) | (n_t < 2)
    raw_theta = np.asarray(pooled_theta(control, treatment), float)
    no_cov = ~short & np.isnan(raw_theta)
    theta = np.where(no_cov, 0.0, raw_theta)
    with np.errstate(divide="ignore", invalid="ignore"):
        x_all = (np.asarray(control.sum_x, float) + np.asarray(treatment.sum_x, float)) / (
            n_c + n_t
        )
    m_c, v_c = _adjusted_moments(control, theta, x_all)
    m_t, v_t = _adjusted_moments(treatment, theta, x_all)
    adjusted = welch_from_moments(n_c, m_c, v_c, n_t, m_t, v_t, alpha)
    with np.errstate(divide="ignore", invalid="ignore"):
        before = _lift_variance(n_c, control.variance, n_t, treatment.variance)
        after = _lift_variance(n_c, v_c, n_t, v_t)
        reduction = np.where(before > 0, 1 - after / before, 0.0)
    status = np.where(short, "insufficient_data", np.where(no_cov, "no_covariate_variance", "ok"))
    # an arm holding a NaN / infinite sum: before, pooled_theta dropped it silently
    invalid = ~(_finite_sums(control) & _finite_sums(treatment))
    status = np.where(invalid, STATUS_INVALID, status)
    short = short | invalid  # theta and the reduction are NaN there too
    return CupedResult(
        theta=_unwrap(np.where(short, np.nan, theta)),
        variance_reduction=_unwrap(np.where(short, np.nan, reduction)),
        adjusted=adjusted,
        unadjusted=unadjusted,
        status=_unwrap(status),
    )


def _finite_sums(arm: SufficientStats) -> Any:
    """True where every sum of the arm is finite (elementwise for arrays of experiments)."""
    return np.logical_and.reduce(
        np.broadcast_arrays(
            *[np.isfinite(np.asarray(getattr(arm, f.name), float)) for f in fields(arm)]
        )
    )


def pooled_theta(*arms: SufficientStats) -> Any:
    """Within-arm pooled ``cov(y, x) / var(x)``; NaN when the covariate has no spread."""
    cov = sum((np.asarray(a.n, float) - 1) * np.nan_to_num(a.covariance_xy) for a in arms)
    var_x = sum((np.asarray(a.n, float) - 1) * np.nan_to_num(a.variance_x) for a in arms)
    with np.errstate(divide="ignore", invalid="ignore"):
        return _unwrap(np.where(var_x > 0, cov / var_x, np.nan))


def _adjusted_moments(arm: SufficientStats, theta: Any, x_all: Any) -> tuple[Any, Any]:
    """``mean_y - theta (mean_x - x_all)`` and ``var_y - 2 theta cov + theta^2 var_x``."""
    mean = np.asarray(arm.mean) - theta * (np.asarray(arm.mean_x) - x_all)
    var = np.asarray(arm.variance) - 2 * theta * np.asarray(arm.covariance_xy)
    var = var + theta**2 * np.asarray(arm.variance_x)
    return mean, np.maximum(var, 0.0)


def _lift_variance(n_c: Any, v_c: Any, n_t: Any, v_t: Any) -> Any:
    return np.asarray(v_c) / n_c + np.asarray(v_t) / n_t


def _coefficients(fit: Any, alpha: float) -> tuple[Coefficient, ...]:
    crit = st.norm.ppf(1 - alpha / 2)
    rows = []
    for name in fit.params.index:
        b, se = float(fit.params[name]), float(fit.bse[name])
        lo, hi = b - crit * se, b + crit * se
        rows.append(
            Coefficient(
                name=str(name),
                coef=b,
                std_err=se,
                z=float(fit.tvalues[name]),
                p_value=float(fit.pvalues[name]),
                ci_low=lo,
                ci_high=hi,
                odds_ratio=math.exp(b),
                or_ci_low=_safe_exp(lo),
                or_ci_high=_safe_exp(hi),
            )
        )
    return tuple(rows)


def _safe_exp(value: float) -> float:
    return math.exp(value) if value < 700 else math.inf


def _failed_logit(status: str, reason: str, n_obs: int) -> LogitResult:
    return LogitResult(status, reason, n_obs, (), False, math.nan, math.nan)
