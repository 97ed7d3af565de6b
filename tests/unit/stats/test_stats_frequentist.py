"""Golden numbers: our z-test and Welch test against scipy and statsmodels on the same data."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats as st
from statsmodels.stats.proportion import confint_proportions_2indep, proportions_ztest

from include.stats import (
    SufficientStats,
    compare,
    relative_lift_ci,
    two_proportion_ztest,
    welch_from_moments,
    welch_ttest,
)

TOL = 1e-9


@pytest.mark.parametrize(
    ("n_c", "x_c", "n_t", "x_t", "alpha"),
    [(1000, 100, 1000, 130, 0.05), (5321, 412, 4987, 401, 0.05), (80, 3, 95, 9, 0.10)],
)
def test_ztest_matches_statsmodels(n_c: int, x_c: int, n_t: int, x_t: int, alpha: float) -> None:
    res = two_proportion_ztest(
        SufficientStats.from_counts(n_c, x_c), SufficientStats.from_counts(n_t, x_t), alpha
    )
    z, p = proportions_ztest([x_t, x_c], [n_t, n_c])  # pooled variance under H0
    lo, hi = confint_proportions_2indep(x_t, n_t, x_c, n_c, method="wald", alpha=alpha)
    assert res.status == "ok"
    assert res.statistic == pytest.approx(z, rel=TOL)
    assert res.p_value == pytest.approx(p, rel=TOL)
    assert res.abs_lift == pytest.approx(x_t / n_t - x_c / n_c, rel=TOL)
    assert (res.abs_ci_low, res.abs_ci_high) == pytest.approx((lo, hi), rel=TOL)


def test_welch_matches_scipy() -> None:
    rng = np.random.default_rng(7)
    c, t = rng.gamma(2.0, 5.0, 400), rng.gamma(2.2, 5.0, 650)
    res = welch_ttest(SufficientStats.from_values(c), SufficientStats.from_values(t), 0.05)
    ref = st.ttest_ind(t, c, equal_var=False)
    lo, hi = ref.confidence_interval(0.95)
    assert res.statistic == pytest.approx(ref.statistic, rel=TOL)
    assert res.p_value == pytest.approx(ref.pvalue, rel=TOL)
    assert res.df == pytest.approx(ref.df, rel=TOL)
    assert (res.abs_ci_low, res.abs_ci_high) == pytest.approx((lo, hi), rel=TOL)


def test_welch_golden_numbers_by_hand() -> None:
    # n=(10, 12), means (5, 6), variances (4, 9): se^2 = 0.4 + 0.75 = 1.15,
    # df = 1.15^2 / (0.4^2/9 + 0.75^2/11) = 1.3225 / 0.068904... = 19.19...
    res = welch_from_moments(10, 5.0, 4.0, 12, 6.0, 9.0)
    df = 1.15**2 / (0.4**2 / 9 + 0.75**2 / 11)
    assert res.df == pytest.approx(df, rel=1e-12)
    assert res.statistic == pytest.approx(1 / np.sqrt(1.15), rel=1e-12)
    assert res.p_value == pytest.approx(2 * st.t.sf(1 / np.sqrt(1.15), df), rel=1e-12)


def test_relative_lift_fieller_interval_by_hand() -> None:
    # (m_t - rho m_c)^2 = z^2 (v_t + rho^2 v_c), v = var/n = 0.01 in both arms:
    # rho^2 (4 - 0.01 z^2) - 2 rho (5) + (6.25 - 0.01 z^2) = 0
    rel, lo, hi = relative_lift_ci(100, 2.0, 1.0, 100, 2.5, 1.0, alpha=0.05)
    k = 1.959963984540054**2
    a, b, c = 4 - 0.01 * k, 5.0, 6.25 - 0.01 * k
    root = np.sqrt(b * b - a * c)
    assert rel == pytest.approx(0.25)
    assert (lo, hi) == pytest.approx(((b - root) / a - 1, (b + root) / a - 1), rel=1e-12)
    assert (lo, hi) == pytest.approx((0.104023, 0.420219), abs=1e-6)  # worked out by hand
    # the bounds solve the quadratic: on them the Wald statistic equals the critical value
    for rho in (lo + 1, hi + 1):
        assert (2.5 - rho * 2.0) ** 2 == pytest.approx(k * (0.01 + rho**2 * 0.01), rel=1e-9)


def test_relative_interval_agrees_with_the_absolute_one_where_delta_method_did_not() -> None:
    # The demo's day-3 activation: 9 of 1,086 (control) vs 4 of 1,091. The z-test and the
    # absolute interval see no effect; the delta-method relative interval was
    # [-107.7 %, -3.8 %], excluding 0. Fieller's includes 0, as the absolute one does.
    res = two_proportion_ztest(SufficientStats.from_counts(1086, 9),
                               SufficientStats.from_counts(1091, 4))  # fmt: skip
    assert res.abs_ci_low < 0 < res.abs_ci_high and res.p_value > 0.05
    assert res.rel_ci_low < 0 < res.rel_ci_high
    assert res.rel_ci_low > -1  # a rate cannot fall by more than 100 %
    # too few control conversions to tell the control rate from 0: no finite interval
    few = two_proportion_ztest(SufficientStats.from_counts(1000, 2),
                               SufficientStats.from_counts(1000, 9))  # fmt: skip
    assert np.isnan(few.rel_ci_low) and np.isnan(few.rel_ci_high) and few.rel_lift == 3.5


def test_relative_interval_excludes_zero_exactly_when_the_absolute_one_does() -> None:
    rng = np.random.default_rng(17)
    n = 20_000
    c = SufficientStats.from_counts(np.full(n, 800), rng.binomial(800, 0.05, n))
    t = SufficientStats.from_counts(np.full(n, 800), rng.binomial(800, 0.065, n))
    values_c = SufficientStats.from_values(rng.gamma(2.0, 5.0, (n, 40)))
    values_t = SufficientStats.from_values(rng.gamma(2.0, 6.5, (n, 40)))
    for res in (two_proportion_ztest(c, t), welch_ttest(values_c, values_t)):
        bounded = ~np.isnan(np.asarray(res.rel_ci_low))
        assert bounded.mean() > 0.99
        abs_excludes = (np.asarray(res.abs_ci_low) > 0) | (np.asarray(res.abs_ci_high) < 0)
        rel_excludes = (np.asarray(res.rel_ci_low) > 0) | (np.asarray(res.rel_ci_high) < 0)
        assert 0.2 < abs_excludes[bounded].mean() < 0.9  # both outcomes are exercised
        assert np.array_equal(abs_excludes[bounded], rel_excludes[bounded])


def test_vectorised_equals_scalar_calls() -> None:
    rng = np.random.default_rng(3)
    y_c, y_t = rng.normal(1, 1, (5, 50)), rng.normal(1.2, 1, (5, 60))
    batch = welch_ttest(SufficientStats.from_values(y_c), SufficientStats.from_values(y_t))
    for i in range(5):
        one = welch_ttest(SufficientStats.from_values(y_c[i]), SufficientStats.from_values(y_t[i]))
        assert batch.p_value[i] == pytest.approx(one.p_value, rel=1e-12)
        assert batch.abs_ci_low[i] == pytest.approx(one.abs_ci_low, rel=1e-12)
        assert batch.status[i] == one.status == "ok"


def test_compare_dispatches_on_metric_type() -> None:
    c, t = SufficientStats.from_counts(100, 10), SufficientStats.from_counts(100, 20)
    assert compare(c, t, "conversion").test == "two_proportion_z"
    assert compare(c, t, "revenue").test == "welch_t"
    with pytest.raises(ValueError, match="unknown metric type"):
        compare(c, t, "median")


class TestDegenerateInputs:
    """Defined results, documented in the module docstring, never a crash."""

    def test_identical_zero_variance_arms(self) -> None:
        for res in (
            welch_ttest(
                SufficientStats.from_values([4.0] * 5), SufficientStats.from_values([4.0] * 8)
            ),
            two_proportion_ztest(
                SufficientStats.from_counts(20, 0), SufficientStats.from_counts(30, 0)
            ),
            two_proportion_ztest(
                SufficientStats.from_counts(20, 20), SufficientStats.from_counts(9, 9)
            ),
        ):
            assert res.status == "zero_variance"
            assert res.p_value == 1.0
            assert (res.abs_lift, res.abs_ci_low, res.abs_ci_high) == (0.0, 0.0, 0.0)
            assert res.statistic == 0.0

    def test_different_constants(self) -> None:
        res = welch_ttest(
            SufficientStats.from_values([4.0] * 5), SufficientStats.from_values([6.0] * 5)
        )
        assert res.status == "zero_variance" and res.p_value == 0.0
        assert (res.abs_lift, res.abs_ci_low, res.abs_ci_high) == (2.0, 2.0, 2.0)
        assert (res.rel_lift, res.rel_ci_low, res.rel_ci_high) == (0.5, 0.5, 0.5)

    def test_all_versus_none_converting(self) -> None:
        res = two_proportion_ztest(
            SufficientStats.from_counts(10, 0), SufficientStats.from_counts(10, 10)
        )
        assert res.status == "ok"
        assert res.p_value == pytest.approx(2 * st.norm.sf(np.sqrt(20)))  # z = 1/sqrt(.25*.2)
        assert (res.abs_ci_low, res.abs_ci_high) == (1.0, 1.0)  # unpooled se is 0
        assert np.isnan(res.rel_lift)  # ratio to a zero control rate is undefined

    @pytest.mark.parametrize("n_small", [0, 1])
    def test_empty_or_single_unit_arm(self, n_small: int) -> None:
        small = SufficientStats.from_values([2.0] * n_small)
        big = SufficientStats.from_values([1.0, 2.0, 3.0])
        res = welch_ttest(small, big)
        assert res.status == "insufficient_data"
        assert np.isnan(res.p_value) and np.isnan(res.abs_ci_low)
        z = two_proportion_ztest(
            SufficientStats.from_counts(0, 0), SufficientStats.from_counts(5, 1)
        )
        assert z.status == "insufficient_data" and np.isnan(z.p_value)

    @pytest.mark.filterwarnings("ignore:Precision loss:RuntimeWarning")
    def test_one_arm_constant_other_varies(self) -> None:
        c, t = np.array([3.0, 3.0, 3.0]), np.array([1.0, 4.0, 6.0, 2.0])
        res = welch_ttest(SufficientStats.from_values(c), SufficientStats.from_values(t))
        ref = st.ttest_ind(t, c, equal_var=False)
        assert res.status == "ok"
        assert res.p_value == pytest.approx(ref.pvalue, rel=TOL)

    def test_mixed_batch_keeps_statuses_apart(self) -> None:
        control = SufficientStats(
            n=np.array([0, 5, 50]),
            sum=np.array([0.0, 5.0, 20.0]),
            sum_sq=np.array([0.0, 5.0, 20.0]),
        )
        treatment = SufficientStats(
            n=np.array([5, 5, 50]),
            sum=np.array([1.0, 5.0, 25.0]),
            sum_sq=np.array([1.0, 5.0, 25.0]),
        )
        res = two_proportion_ztest(control, treatment)
        assert list(res.status) == ["insufficient_data", "zero_variance", "ok"]
        assert np.isnan(res.p_value[0]) and res.p_value[1] == 1.0 and 0 < res.p_value[2] < 1
