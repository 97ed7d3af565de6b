"""Seed 002's logistic model and CUPED variance reduction."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from scipy import stats as st

from include.stats import SufficientStats, cuped, logistic_regression, welch_ttest
from include.stats.regression import pooled_theta


def _purchases(n: int = 3000, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    treatment = rng.integers(0, 2, n)
    engagement = rng.poisson(4, n).astype(float)
    logit = -3.0 + 0.15 * treatment + 0.35 * engagement
    purchase = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    return pd.DataFrame(
        {"purchase": purchase, "treatment": treatment, "engagement_intensity": engagement}
    )


def test_logit_matches_statsmodels() -> None:
    frame = _purchases()
    res = logistic_regression(frame)
    ref = _reference_logit(frame)
    _assert_matches(res, ref, 3000)
    ci = ref.conf_int(0.05)
    for name in ("const", "treatment", "engagement_intensity"):
        c = res.coefficient(name)
        assert c.odds_ratio == pytest.approx(math.exp(ref.params[name]), rel=1e-12)
        assert c.or_ci_low == pytest.approx(math.exp(ci.loc[name, 0]), rel=1e-9)
    assert res.coefficient("engagement_intensity").p_value < 1e-10


def _reference_logit(frame: pd.DataFrame):
    """statsmodels' Logit on the user rows: the reference for both of our fits."""
    design = sm.add_constant(frame[["treatment", "engagement_intensity"]])
    return sm.Logit(frame["purchase"], design).fit(disp=0, tol=1e-12)


def _assert_matches(res, ref, n_obs: int) -> None:
    ci = ref.conf_int(0.05)
    assert res.status == "ok" and res.n_obs == n_obs
    for name in ("const", "treatment", "engagement_intensity"):
        c = res.coefficient(name)
        assert c.coef == pytest.approx(ref.params[name], rel=1e-9)
        assert c.std_err == pytest.approx(ref.bse[name], rel=1e-9)
        assert c.p_value == pytest.approx(ref.pvalues[name], rel=1e-9)
        assert (c.ci_low, c.ci_high) == pytest.approx(tuple(ci.loc[name]), rel=1e-9)


def test_single_binary_regressor_recovers_the_2x2_odds_ratio() -> None:
    # Golden: logit(y ~ treatment) has b = log OR and se = sqrt(1/a + 1/b + 1/c + 1/d).
    a, b, c, d = 130, 870, 100, 900  # treated buy/no-buy, control buy/no-buy
    frame = pd.DataFrame(
        {
            "purchase": [1] * a + [0] * b + [1] * c + [0] * d,
            "treatment": [1] * (a + b) + [0] * (c + d),
        }
    )
    res = logistic_regression(frame, predictors=("treatment",))
    coef = res.coefficient("treatment")
    assert coef.odds_ratio == pytest.approx((a / b) / (c / d), rel=1e-8)
    assert coef.std_err == pytest.approx(math.sqrt(1 / a + 1 / b + 1 / c + 1 / d), rel=1e-8)


def test_logit_degenerate_inputs_report_instead_of_raising() -> None:
    frame = _purchases(200)
    assert logistic_regression(frame.assign(purchase=0)).status == "insufficient_data"
    assert logistic_regression(frame.head(2)).status == "insufficient_data"
    separated = frame.assign(purchase=frame["treatment"])
    res = logistic_regression(separated, predictors=("treatment",))
    assert res.status == "failed" and res.reason
    constant = logistic_regression(frame.assign(treatment=1))
    assert constant.status == "failed"


def _cuped_arms(seed: int = 3, effect: float = 0.5) -> tuple[np.ndarray, ...]:
    rng = np.random.default_rng(seed)
    x_c, x_t = rng.normal(20, 5, 2000), rng.normal(20, 5, 2100)
    y_c = 2 + 0.8 * x_c + rng.normal(0, 2, 2000)
    y_t = 2 + effect + 0.8 * x_t + rng.normal(0, 2, 2100)
    return y_c, x_c, y_t, x_t


def test_cuped_matches_direct_computation_on_units() -> None:
    y_c, x_c, y_t, x_t = _cuped_arms()
    res = cuped(SufficientStats.from_values(y_c, x_c), SufficientStats.from_values(y_t, x_t))
    # theta pooled within arms, computed directly from the units.
    cov = np.cov(x_c, y_c)[0, 1] * 1999 + np.cov(x_t, y_t)[0, 1] * 2099
    var = x_c.var(ddof=1) * 1999 + x_t.var(ddof=1) * 2099
    theta = cov / var
    x_bar = np.concatenate([x_c, x_t]).mean()
    adj_c, adj_t = y_c - theta * (x_c - x_bar), y_t - theta * (x_t - x_bar)
    ref = st.ttest_ind(adj_t, adj_c, equal_var=False)
    assert res.status == "ok"
    assert res.theta == pytest.approx(theta, rel=1e-9)
    assert res.adjusted.abs_lift == pytest.approx(adj_t.mean() - adj_c.mean(), rel=1e-9)
    assert res.adjusted.p_value == pytest.approx(ref.pvalue, rel=1e-6)
    # y = 0.8 x + noise(sd 2), var(x) = 25: rho^2 = 16 / 20 = 0.8 of the variance goes away.
    assert res.variance_reduction == pytest.approx(0.8, abs=0.03)
    assert res.adjusted.std_error < res.unadjusted.std_error


def test_cuped_without_covariate_is_a_no_op() -> None:
    c, t = SufficientStats.from_values([1.0, 2.0, 3.0]), SufficientStats.from_values([2.0, 4.0])
    res = cuped(c, t)
    assert res.status == "no_covariate_variance"
    assert res.variance_reduction == 0.0
    # repr: field by field, NaN equal to NaN (n 3 vs 2: the relative interval is unbounded)
    assert repr(res.adjusted) == repr(res.unadjusted) == repr(welch_ttest(c, t))
    assert math.isnan(res.adjusted.rel_ci_low) and res.adjusted.rel_lift == 0.5
    assert math.isnan(pooled_theta(c, t))
    short = cuped(SufficientStats.from_values([1.0], [1.0]), t)
    assert short.status == "insufficient_data"


def test_cuped_aa_false_positive_rate_and_coverage() -> None:
    # 4,000 A/A experiments in one vectorised call. Band [4%, 6%] is ~3 Monte Carlo
    # standard errors each side.
    rng = np.random.default_rng(8)
    shape = (4000, 300)
    x_c, x_t = rng.normal(10, 3, shape), rng.normal(10, 3, shape)
    res = cuped(
        SufficientStats.from_values(x_c + rng.normal(0, 1, shape), x_c),
        SufficientStats.from_values(x_t + rng.normal(0, 1, shape), x_t),
    )
    adj = res.adjusted
    fpr = np.mean(adj.p_value < 0.05)
    coverage = np.mean((adj.abs_ci_low <= 0) & (adj.abs_ci_high >= 0))
    assert 0.04 <= fpr <= 0.06, fpr
    assert 0.94 <= coverage <= 0.96, coverage
    assert np.mean(res.variance_reduction) == pytest.approx(0.9, abs=0.01)
    assert set(res.status) == {"ok"}


def test_cuped_vectorised_equals_scalar() -> None:
    y_c, x_c, y_t, x_t = _cuped_arms()
    one = cuped(SufficientStats.from_values(y_c, x_c), SufficientStats.from_values(y_t, x_t))
    two = cuped(
        SufficientStats.from_values(np.stack([y_c, y_c]), np.stack([x_c, x_c])),
        SufficientStats.from_values(np.stack([y_t, y_t]), np.stack([x_t, x_t])),
    )
    assert two.theta[1] == pytest.approx(one.theta, rel=1e-12)
    assert two.adjusted.p_value[0] == pytest.approx(one.adjusted.p_value, rel=1e-12)


def test_grouped_logit_equals_the_per_user_logit() -> None:
    """Counts per (treatment, engagement) pattern give the per-user model: statsmodels'
    Logit on the 3,000 user rows is the reference."""
    from include.stats import logistic_regression_grouped

    frame = _purchases()
    groups = (
        frame.groupby(["treatment", "engagement_intensity"])["purchase"]
        .agg(n="count", purchases="sum").reset_index()
    )
    assert len(groups) < 60  # a few dozen patterns stand for 3,000 users
    res = logistic_regression_grouped(groups)
    ref = _reference_logit(frame)
    _assert_matches(res, ref, 3000)
    assert res.log_likelihood == pytest.approx(ref.llf, rel=1e-9)
    # McFadden: statsmodels fits the null model iteratively (agrees to ~1e-9); the null
    # log-likelihood has a closed form, k log p0 + (n - k) log(1 - p0)
    k, n = frame["purchase"].sum(), len(frame)
    llnull = k * math.log(k / n) + (n - k) * math.log(1 - k / n)
    assert res.pseudo_r2 == pytest.approx(1 - ref.llf / llnull, rel=1e-9)
    assert res.pseudo_r2 == pytest.approx(ref.prsquared, rel=1e-8)


def test_grouped_logit_degenerate_inputs() -> None:
    from include.stats import logistic_regression_grouped

    none_bought = pd.DataFrame({"treatment": [0, 1], "engagement_intensity": [1, 2],
                                "n": [50, 50], "purchases": [0, 0]})
    assert logistic_regression_grouped(none_bought).status == "insufficient_data"
    one_user = pd.DataFrame({"treatment": [1], "engagement_intensity": [3], "n": [1],
                             "purchases": [1]})
    assert logistic_regression_grouped(one_user).status == "insufficient_data"
    empty = none_bought.iloc[:0]
    assert logistic_regression_grouped(empty).status == "insufficient_data"
    # treatment perfectly separates buyers: reported, not raised
    separated = pd.DataFrame({"treatment": [0, 1, 0, 1], "engagement_intensity": [1, 1, 2, 2],
                              "n": [40, 40, 40, 40], "purchases": [0, 40, 0, 40]})
    assert logistic_regression_grouped(separated).status == "failed"
    with pytest.raises(ValueError, match="between 0 and n"):
        logistic_regression_grouped(none_bought.assign(purchases=[60, 0]))
