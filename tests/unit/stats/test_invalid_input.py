"""NaN never becomes a number: every statistics entry point checks its input.

Before, a NaN sum reached ``frequentist._assemble``, whose standard error read as 0: the
test said ``zero_variance`` with p = 0, the row was significant and the verdict read DO NOT
SHIP. ``check_srm`` passed with a NaN weight and crashed on a NaN count, CUPED dropped an
arm holding a NaN, and values near 1e7 with a spread of 1 were called zero variance. Each
case below is worked out by hand; the expected answer is an explicit invalid status (or,
where the sums do resolve the variance, the variance computed by hand).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from include.stats import (
    SufficientStats,
    build_readout,
    check_srm,
    cuped,
    decide,
    run_trust_checks,
    two_proportion_ztest,
    welch_ttest,
)
from include.stats.sufficient import invalid_reason
from include.stats.trust import DEFAULT_TRUST_CONFIG, FAIL, srm_test

NAN, INF = float("nan"), float("inf")
GOOD = SufficientStats(n=100, sum=50.0, sum_sq=80.0)  # mean 0.5, variance (80-25)/99


@pytest.mark.parametrize(
    "bad",
    [
        SufficientStats(n=100, sum=NAN, sum_sq=80.0),
        SufficientStats(n=100, sum=50.0, sum_sq=INF),
        SufficientStats(n=NAN, sum=50.0, sum_sq=80.0),
        SufficientStats(n=-3, sum=1.0, sum_sq=1.0),
    ],
)
def test_welch_on_garbage_is_invalid_not_p_zero(bad):
    for res in (welch_ttest(GOOD, bad), welch_ttest(bad, GOOD)):
        assert res.status == "invalid_input"
        assert math.isnan(res.p_value) and math.isnan(res.abs_lift)
        assert math.isnan(res.abs_ci_low) and math.isnan(res.std_error)


def test_the_z_test_on_a_nan_conversion_count_is_invalid():
    res = two_proportion_ztest(SufficientStats.from_counts(100, 10), SufficientStats(100, NAN, NAN))
    assert res.status == "invalid_input" and math.isnan(res.p_value)


def test_vectorised_tests_flag_only_the_bad_experiment():
    control = SufficientStats(n=np.array([100, 100]), sum=np.array([50.0, 50.0]),
                              sum_sq=np.array([80.0, 80.0]))  # fmt: skip
    treatment = SufficientStats(n=np.array([100, 100]), sum=np.array([NAN, 60.0]),
                                sum_sq=np.array([80.0, 90.0]))  # fmt: skip
    res = welch_ttest(control, treatment)
    assert list(res.status) == ["invalid_input", "ok"]
    assert math.isnan(res.p_value[0]) and 0 < res.p_value[1] < 1


def test_invalid_reason_names_the_problem():
    assert invalid_reason(GOOD) is None
    assert invalid_reason(SufficientStats(n=10, sum=NAN, sum_sq=1.0)) == "sum is nan"
    assert invalid_reason(SufficientStats(n=10, sum=1.0, sum_sq=1.0, sum_xy=INF)) == "sum_xy is inf"
    assert invalid_reason(SufficientStats(n=2.5, sum=1.0, sum_sq=1.0)) == (
        "n = 2.5 is not a unit count"
    )
    assert invalid_reason(SufficientStats(n=2, sum=1.0, sum_sq=-1.0)) == (
        "a sum of squares is negative"
    )


def _offset_arm(offset: float, shift: float, m: int) -> SufficientStats:
    """``m`` copies of offset + shift + (-1, 0, 1): mean offset + shift, variance
    2m / (3m - 1) (sum of squared deviations 2m over 3m - 1)."""
    values = offset + shift + np.tile([-1.0, 0.0, 1.0], m)
    return SufficientStats.from_values(values)


def test_a_large_offset_with_a_small_spread_is_not_zero_variance():
    m = 400
    # at 1e7 the centered sum (2m = 800) is 1e-14 of sum_sq (1.2e17): inside the rounding
    # band, so the sums cannot tell the variance (2m/(3m-1) = 0.667) from 0
    big_c, big_t = _offset_arm(1e7, 0.0, m), _offset_arm(1e7, 0.5, m)
    assert "below the rounding error" in invalid_reason(big_c)
    rows = build_readout(
        [("spend", "control", "overall", big_c), ("spend", "treatment", "overall", big_t)],
        {"metrics": {"spend": {"type": "revenue", "role": "primary"}}},
    )
    assert rows[0]["status"] == "invalid_input"
    assert rows[0]["p_value"] is None and rows[0]["significant"] is None
    assert rows[0]["control_n"] == 3 * m
    # at 1e3 the same spread is resolved: the variance is the one worked out above
    small = _offset_arm(1e3, 0.0, m)
    assert invalid_reason(small) is None
    assert small.variance == pytest.approx(2 * m / (3 * m - 1), rel=1e-9)
    # a constant that binary floating point cannot hold (10.1) stays exactly zero variance
    assert invalid_reason(SufficientStats.from_values(np.full(997, 10.1))) is None


def test_a_nan_cell_blocks_the_verdict_naming_the_metric():
    config = {
        "experiment": "x",
        "metrics": {
            "conversion": {"type": "conversion", "role": "primary"},
            "revenue": {"type": "revenue", "role": "secondary"},
        },
    }
    cells = [
        ("conversion", "control", "overall", SufficientStats.from_counts(5000, 500)),
        ("conversion", "treatment", "overall", SufficientStats.from_counts(5000, 650)),
        ("revenue", "control", "overall", SufficientStats(5000, 1000.0, 5000.0)),
        ("revenue", "treatment", "overall", SufficientStats(5000, NAN, 5000.0)),
    ]
    rows = {r["metric"]: r for r in build_readout(cells, config)}
    assert rows["revenue"]["status"] == "invalid_input"
    assert rows["revenue"]["p_value"] is None and rows["revenue"]["variant_n"] == 5000
    assert rows["conversion"]["significant"] is True  # 10 % vs 13 %: the good row is kept
    trust = run_trust_checks({"control": 5000, "treatment": 5000},
                             {"control": 0.5, "treatment": 0.5})  # fmt: skip
    verdict = decide(list(rows.values()), trust, {"min_sample_per_arm": 100})
    assert verdict.verdict == "invalid"
    assert verdict.reasons == ("invalid input, not tested: revenue (treatment, overall)",)


@pytest.mark.parametrize(
    ("counts", "weights", "reason"),
    [
        ({"a": 500, "b": 500}, {"a": 0.5, "b": NAN}, "variant b: weight nan is not a positive"),
        ({"a": NAN, "b": 500}, {"a": 0.5, "b": 0.5}, "variant a: unit count nan is not a count"),
        ({"a": 500.5, "b": 500}, {"a": 0.5, "b": 0.5}, "unit count 500.5 is not a count"),
        ({"a": 500, "b": 500}, {"a": 0.5, "b": "half"}, "weight 'half' or count 500"),
    ],
)
def test_srm_on_garbage_fails_with_the_reason(counts, weights, reason):
    check = check_srm(counts, weights, DEFAULT_TRUST_CONFIG)
    assert check.status == FAIL and check.value is None
    assert check.reason.startswith("invalid input: ") and reason in check.reason


def test_srm_test_refuses_non_finite_input():
    with pytest.raises(ValueError, match="finite"):
        srm_test([500, 500], [0.5, NAN])


def test_cuped_with_a_nan_arm_is_invalid_not_the_other_arm_alone():
    rng = np.random.default_rng(7)
    x = rng.normal(5, 1, 200)
    control = SufficientStats.from_values(x + rng.normal(0, 1, 200), x)
    treatment = SufficientStats.from_values(x + rng.normal(0, 1, 200), x)
    assert cuped(control, treatment).status == "ok"
    broken = SufficientStats(**{**treatment.to_dict(), "sum_xy": NAN})
    res = cuped(control, broken)
    assert res.status == "invalid_input"
    assert math.isnan(res.theta) and math.isnan(res.variance_reduction)
    assert res.adjusted.status == "invalid_input" and math.isnan(res.adjusted.p_value)
