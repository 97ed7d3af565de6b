"""Ratio metrics (delta method) and capped means, on hand-worked examples and in A/A runs.

A ratio metric divides two per-unit sums (revenue per order: the orders are not the
randomization unit, so they are not independent draws). Its variance is the delta method's
over the units. A capped mean winsorizes each unit's value at a cap fixed on the pooled arms
(``include.metric_library``: an absolute value or a percentile), then is tested like any mean.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats as st

from include.stats import SufficientStats, build_readout
from include.stats.frequentist import compare, delta_method_ztest

N_EXPERIMENTS = 10_000


def _arm(pairs):
    y, d = zip(*pairs, strict=True)
    return SufficientStats.from_values(list(y), d=list(d))


# control units (revenue, orders): 60 in all over 4 orders, R = 15 per order
CONTROL = [(10.0, 1), (0.0, 0), (30.0, 2), (20.0, 1)]
# treatment: 80 over 4 orders, R = 20
TREATMENT = [(40.0, 2), (0.0, 0), (25.0, 1), (15.0, 1)]


def test_ratio_variance_term_by_term():
    arm = _arm(CONTROL)
    assert (arm.n, arm.sum, arm.sum_d, arm.sum_d_sq, arm.sum_yd) == (4, 60.0, 4.0, 6.0, 90.0)
    # means 15 and 1; deviations of y: -5, -15, 15, 5; of d: 0, -1, 1, 0
    s_y2 = (25 + 225 + 225 + 25) / 3  # 166.67
    s_d2 = (0 + 1 + 1 + 0) / 3  # 0.667
    s_yd = (0 + 15 + 15 + 0) / 3  # 10
    r, mean_d = 15.0, 1.0
    by_terms = (s_y2 - 2 * r * s_yd + r**2 * s_d2) / mean_d**2  # 166.67 - 300 + 150 = 16.67
    # the same number as the variance of the linearisation y - R d: -5, 0, 0, 5
    linearised = (25 + 0 + 0 + 25) / 3
    assert by_terms == pytest.approx(linearised)
    assert arm.ratio == 15.0
    assert arm.ratio_variance == pytest.approx(50 / 3)


def test_delta_method_ztest_by_hand():
    res = delta_method_ztest(_arm(CONTROL), _arm(TREATMENT))
    # treatment: y - 20 d = 0, 0, 5, -5: variance 50/3 as well; Var(R) = (50/3) / 4 per arm
    se = math.sqrt(2 * (50 / 3) / 4)  # 2.887
    z = 5.0 / se  # sqrt(3) = 1.732
    assert res.test == "delta_method_z" and res.status == "ok"
    assert (res.control_mean, res.treatment_mean, res.abs_lift) == (15.0, 20.0, 5.0)
    assert res.std_error == pytest.approx(se)
    assert res.statistic == pytest.approx(math.sqrt(3))
    assert res.p_value == pytest.approx(2 * (1 - st.norm.cdf(z)))  # 0.0833
    half = st.norm.ppf(0.975) * se
    assert (res.abs_ci_low, res.abs_ci_high) == pytest.approx((5 - half, 5 + half))
    assert res.rel_lift == pytest.approx(20 / 15 - 1)
    assert compare(_arm(CONTROL), _arm(TREATMENT), "ratio").p_value == res.p_value


def test_an_arm_without_a_denominator_has_no_ratio():
    res = delta_method_ztest(_arm([(0.0, 0), (0.0, 0), (0.0, 0)]), _arm(TREATMENT))
    assert res.status == "insufficient_data"
    assert math.isnan(res.p_value) and math.isnan(res.abs_lift)


def test_a_ratio_row_in_the_readout():
    cells = [("aov", "control", "overall", _arm(CONTROL)),
             ("aov", "treatment", "overall", _arm(TREATMENT))]  # fmt: skip
    config = {"metrics": {"aov": {"type": "ratio", "role": "secondary", "higher_is_better": True}}}
    (row,) = build_readout(cells, config)
    assert (row["metric_type"], row["test"], row["status"]) == ("ratio", "delta_method_z", "ok")
    assert (row["control_mean"], row["variant_mean"]) == (15.0, 20.0)
    # the posterior of a mean on the ratio and its delta-method variance (flat prior)
    se = math.sqrt(2 * (50 / 3) / 4)
    assert row["prob_beat_control"] == pytest.approx(st.norm.cdf(5 / se))
    # the MDE at 80 % power from the same standard error (the closed form leaves out the
    # chance of rejecting in the wrong tail, a few parts in a million here)
    mde = (st.norm.ppf(0.975) + st.norm.ppf(0.8)) * se
    assert row["mde_abs"] == pytest.approx(mde, rel=1e-5)


def _rates(res, true_diff=0.0):
    p = np.asarray(res.p_value)
    lo, hi = np.asarray(res.abs_ci_low), np.asarray(res.abs_ci_high)
    assert not np.isnan(p).any()
    return float(np.mean(p < 0.05)), float(np.mean((lo <= true_diff) & (true_diff <= hi)))


def _orders_and_revenue(rng, n, value_scale):
    """Per unit: orders ~ Poisson(0.4), each order's value gamma(2, scale): revenue per order
    is 2 * scale in expectation, and a unit's orders share the unit (one sum per unit)."""
    orders = rng.poisson(0.4, (N_EXPERIMENTS, n))
    revenue = rng.gamma(2.0 * np.maximum(orders, 1e-12), value_scale) * (orders > 0)
    return revenue, orders


def test_aa_ratio_false_positive_rate_and_coverage():
    rng = np.random.default_rng(36)
    control = SufficientStats(**_sums(*_orders_and_revenue(rng, 400, 25.0)))
    treatment = SufficientStats(**_sums(*_orders_and_revenue(rng, 400, 25.0)))
    fpr, coverage = _rates(delta_method_ztest(control, treatment))
    assert 0.04 <= fpr <= 0.06, fpr
    assert 0.94 <= coverage <= 0.96, coverage


def test_ratio_interval_covers_a_planted_lift():
    rng = np.random.default_rng(37)
    control = SufficientStats(**_sums(*_orders_and_revenue(rng, 400, 25.0)))
    treatment = SufficientStats(**_sums(*_orders_and_revenue(rng, 400, 30.0)))
    _, coverage = _rates(delta_method_ztest(control, treatment), true_diff=2 * 30.0 - 2 * 25.0)
    assert 0.94 <= coverage <= 0.96, coverage


def _sums(y, d):
    s = SufficientStats.from_values(y, d=d)
    return {k: getattr(s, k) for k in ("n", "sum", "sum_sq", "sum_d", "sum_d_sq", "sum_yd")}


def capped(values: np.ndarray, pooled: np.ndarray, percentile: float) -> np.ndarray:
    """Winsorize each experiment's values at the percentile of its pooled arms (linear
    interpolation: Spark's ``percentile``)."""
    cap = np.percentile(pooled, percentile * 100, axis=-1, keepdims=True)
    return np.minimum(values, cap)


def test_a_cap_by_hand():
    pooled = np.array([1.0, 2.0, 3.0, 4.0, 100.0])
    # the 75th percentile of 5 values: position 0.75 * 4 = 3 -> 4.0; at 0.9: 3.6 -> 4 + 0.6 * 96
    assert capped(pooled, pooled, 0.75).tolist() == [1.0, 2.0, 3.0, 4.0, 4.0]
    assert capped(pooled, pooled, 0.9)[-1] == pytest.approx(61.6)


def test_aa_capped_mean_false_positive_rate_and_coverage():
    rng = np.random.default_rng(99)
    shape = (N_EXPERIMENTS, 400)

    def heavy():  # 30 % buyers, lognormal spend with a heavy tail
        return (rng.random(shape) < 0.3) * rng.lognormal(3.0, 1.5, shape)

    c, t = heavy(), heavy()
    pooled = np.concatenate([c, t], axis=1)
    res = compare(SufficientStats.from_values(capped(c, pooled, 0.99)),
                  SufficientStats.from_values(capped(t, pooled, 0.99)), "revenue")  # fmt: skip
    fpr, coverage = _rates(res)
    assert 0.04 <= fpr <= 0.06, fpr
    assert 0.94 <= coverage <= 0.96, coverage


def test_heavy_tail_the_capped_metric_finds_the_lift_the_uncapped_misses():
    # One world: the treatment lifts every buyer's spend by 25 %; a handful of whales
    # (0.2 % of units, spend ~ 200x) land at random in either arm. Across 2,000 such
    # experiments the uncapped test finds the lift far less often than the capped one.
    rng = np.random.default_rng(7)
    n, sims = 2000, 2000
    shape = (sims, n)

    def spend(lift):
        base = (rng.random(shape) < 0.3) * rng.gamma(2.0, 20.0, shape) * (1 + lift)
        whales = (rng.random(shape) < 0.002) * rng.gamma(2.0, 4000.0, shape)
        return base + whales

    c, t = spend(0.0), spend(0.25)
    pooled = np.concatenate([c, t], axis=1)
    raw = compare(SufficientStats.from_values(c), SufficientStats.from_values(t), "revenue")
    cap = compare(SufficientStats.from_values(capped(c, pooled, 0.99)),
                  SufficientStats.from_values(capped(t, pooled, 0.99)), "revenue")  # fmt: skip
    power_raw = float(np.mean(np.asarray(raw.p_value) < 0.05))
    power_cap = float(np.mean(np.asarray(cap.p_value) < 0.05))
    assert power_raw < 0.5 < 0.8 < power_cap, (power_raw, power_cap)
