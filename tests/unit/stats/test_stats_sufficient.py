"""Sufficient statistics: moments from sums, and exact merging across days."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as hs

from include.stats import SufficientStats, merge_all, welch_ttest

values = hs.lists(
    hs.floats(min_value=-1e3, max_value=1e3, allow_nan=False, allow_infinity=False),
    min_size=0,
    max_size=40,
)


def test_moments_match_numpy() -> None:
    rng = np.random.default_rng(0)
    y, x = rng.gamma(2.0, 3.0, 300), rng.normal(5, 1, 300)
    s = SufficientStats.from_values(y, x)
    assert s.n == 300
    assert s.mean == pytest.approx(y.mean(), rel=1e-12)
    assert s.variance == pytest.approx(y.var(ddof=1), rel=1e-10)
    assert s.variance_mle == pytest.approx(y.var(ddof=0), rel=1e-10)
    assert s.variance_x == pytest.approx(x.var(ddof=1), rel=1e-10)
    assert s.covariance_xy == pytest.approx(np.cov(x, y, ddof=1)[0, 1], rel=1e-9)


def test_from_counts_is_the_binary_case() -> None:
    s = SufficientStats.from_counts(50, 7)
    raw = SufficientStats.from_values(np.r_[np.ones(7), np.zeros(43)])
    assert s.is_binary_compatible
    assert (s.n, s.sum, s.sum_sq) == (raw.n, raw.sum, raw.sum_sq)
    assert s.variance_mle == pytest.approx(0.14 * 0.86)


def test_constant_values_have_exactly_zero_variance() -> None:
    # 0.1 is not representable: sum_sq - sum^2/n leaves rounding noise, which must not
    # masquerade as a tiny positive variance.
    s = SufficientStats.from_values(np.full(997, 10.1))
    assert s.variance == 0.0


def test_empty_and_single_unit_are_defined() -> None:
    empty, one = SufficientStats(), SufficientStats.from_values([3.0])
    assert np.isnan(empty.mean) and np.isnan(empty.variance)
    assert one.mean == 3.0 and np.isnan(one.variance)


def test_mapping_round_trip_and_sum_builtin() -> None:
    a = SufficientStats.from_values([1.0, 2.0], [0.5, 0.5])
    b = SufficientStats.from_mapping({"n": 1, "sum": 4.0, "sum_sq": 16.0})
    assert SufficientStats.from_mapping(a.to_dict()) == a
    assert sum([a, b]) == a + b == merge_all([a, b])
    assert merge_all([]) == SufficientStats()


def test_two_dimensional_input_gives_one_experiment_per_row() -> None:
    y = np.arange(12.0).reshape(3, 4)
    s = SufficientStats.from_values(y)
    np.testing.assert_array_equal(s.n, [4, 4, 4])
    np.testing.assert_allclose(s.mean, y.mean(axis=1))
    np.testing.assert_allclose(s.variance, y.var(axis=1, ddof=1))


@settings(max_examples=60, deadline=None)
@given(days=hs.lists(values, min_size=1, max_size=6))
def test_merging_days_equals_computing_on_concatenated_data(days: list[list[float]]) -> None:
    merged = merge_all(SufficientStats.from_values(d) for d in days)
    concat = SufficientStats.from_values(np.concatenate([np.asarray(d, float) for d in days]))
    assert merged.n == concat.n
    for field in ("sum", "sum_sq"):
        assert getattr(merged, field) == pytest.approx(getattr(concat, field), rel=1e-9, abs=1e-6)
    if concat.n >= 2:
        scale = max(1.0, float(np.max(np.abs(np.concatenate(days)))) ** 2)
        assert merged.variance == pytest.approx(concat.variance, rel=1e-7, abs=1e-9 * scale)


@settings(max_examples=30, deadline=None)
@given(
    day1=hs.lists(hs.integers(0, 500).map(float), min_size=2, max_size=30),
    day2=hs.lists(hs.integers(0, 500).map(float), min_size=2, max_size=30),
    day3=hs.lists(hs.integers(0, 500).map(float), min_size=2, max_size=30),
)
def test_merged_test_result_equals_concatenated(
    day1: list[float], day2: list[float], day3: list[float]
) -> None:
    # Integer-valued data: sums are exact, so the merged readout is bit-for-bit identical.
    control = SufficientStats.from_values(day1) + SufficientStats.from_values(day2)
    treatment = SufficientStats.from_values(day3) + SufficientStats.from_values(day1)
    merged = welch_ttest(control, treatment)
    direct = welch_ttest(
        SufficientStats.from_values(day1 + day2), SufficientStats.from_values(day3 + day1)
    )
    np.testing.assert_equal(vars(merged), vars(direct))  # NaN == NaN here
