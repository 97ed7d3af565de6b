"""A/A simulations: with no true effect, 5% of tests reject and 95% of intervals cover 0.

Each simulation runs 10,000 experiments in one vectorised call (sufficient stats as
arrays). With 10,000 experiments the Monte Carlo standard error of a 5% rate is 0.22
points, so the [4%, 6%] and [94%, 96%] acceptance bands are ~4.5 standard errors wide on
each side: a correct implementation fails them essentially never, a miscalibrated one
(e.g. a pooled-variance t-test under unequal variances) fails them reliably. Seeds are
fixed, so the figures are reproducible.
"""

from __future__ import annotations

import numpy as np
import pytest

from include.stats import (
    SufficientStats,
    mde_for_se,
    two_proportion_ztest,
    welch_ttest,
)

N_EXPERIMENTS = 10_000
ALPHA = 0.05


def _rates(res: object, true_diff: float = 0.0) -> tuple[float, float]:
    p = np.asarray(res.p_value)  # type: ignore[attr-defined]
    lo, hi = np.asarray(res.abs_ci_low), np.asarray(res.abs_ci_high)  # type: ignore[attr-defined]
    assert not np.isnan(p).any()
    return float(np.mean(p < ALPHA)), float(np.mean((lo <= true_diff) & (true_diff <= hi)))


def _binary_arms(rng: np.random.Generator, n: int, p: float) -> SufficientStats:
    return SufficientStats.from_counts(np.full(N_EXPERIMENTS, n), rng.binomial(n, p, N_EXPERIMENTS))


def test_aa_ztest_false_positive_rate_and_coverage() -> None:
    rng = np.random.default_rng(2024)
    res = two_proportion_ztest(_binary_arms(rng, 1500, 0.08), _binary_arms(rng, 1500, 0.08))
    fpr, coverage = _rates(res)
    assert 0.04 <= fpr <= 0.06, fpr
    assert 0.94 <= coverage <= 0.96, coverage


@pytest.mark.parametrize(("p_c", "lift"), [(0.08, 0.10), (0.01, 0.10), (0.05, 0.0)])
def test_relative_interval_covers_the_true_relative_lift(p_c: float, lift: float) -> None:
    # Fieller's interval; at a 1 % baseline the delta-method one covered 93.1 % (seed 5).
    rng = np.random.default_rng(round(p_c * 1000) + round(lift * 100))
    control, treatment = _binary_arms(rng, 1500, p_c), _binary_arms(rng, 1500, p_c * (1 + lift))
    res = two_proportion_ztest(control, treatment)
    lo, hi = np.asarray(res.rel_ci_low), np.asarray(res.rel_ci_high)
    bounded = ~np.isnan(lo)  # unbounded (NaN bounds) only when the control rate is near 0
    assert bounded.mean() > 0.999
    coverage = float(np.mean(~bounded | ((lo <= lift) & (lift <= hi))))
    assert 0.94 <= coverage <= 0.96, coverage


@pytest.mark.parametrize(
    ("n_c", "sd_c", "n_t", "sd_t"),
    [(300, 1.0, 300, 1.0), (200, 1.0, 400, 3.0)],  # equal arms; small noisy arm vs big one
)
def test_aa_welch_normal_false_positive_rate_and_coverage(
    n_c: int, sd_c: float, n_t: int, sd_t: float
) -> None:
    rng = np.random.default_rng(n_c + n_t)
    control = SufficientStats.from_values(rng.normal(10.0, sd_c, (N_EXPERIMENTS, n_c)))
    treatment = SufficientStats.from_values(rng.normal(10.0, sd_t, (N_EXPERIMENTS, n_t)))
    fpr, coverage = _rates(welch_ttest(control, treatment))
    assert 0.04 <= fpr <= 0.06, fpr
    assert 0.94 <= coverage <= 0.96, coverage


def test_aa_welch_skewed_revenue_false_positive_rate_and_coverage() -> None:
    # Revenue-like: most users book nothing, bookers' MRR is gamma-distributed.
    rng = np.random.default_rng(11)
    shape = (N_EXPERIMENTS, 400)

    def revenue() -> np.ndarray:
        return (rng.random(shape) < 0.3) * rng.gamma(3.0, 20.0, shape)

    fpr, coverage = _rates(
        welch_ttest(SufficientStats.from_values(revenue()), SufficientStats.from_values(revenue()))
    )
    assert 0.04 <= fpr <= 0.06, fpr
    assert 0.94 <= coverage <= 0.96, coverage


def test_power_at_the_mde_is_the_promised_eighty_percent() -> None:
    # Simulate at the computed MDE: the z-test should reject ~80% of the time. The MDE
    # assumes the baseline variance in both arms, so n is large enough (MDE ~ 5% relative)
    # for the treatment arm's slightly larger variance not to matter.
    rng = np.random.default_rng(99)
    n, p0 = 50_000, 0.10
    mde = mde_for_se(np.sqrt(p0 * (1 - p0) * 2 / n), ALPHA, 0.8)
    res = two_proportion_ztest(_binary_arms(rng, n, p0), _binary_arms(rng, n, p0 + mde))
    rejected = float(np.mean(np.asarray(res.p_value) < ALPHA))
    assert 0.78 <= rejected <= 0.82, rejected
