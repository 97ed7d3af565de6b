"""Holm and Benjamini–Hochberg against statsmodels' multipletests."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as hs
from statsmodels.stats.multitest import multipletests

from include.stats import adjust, benjamini_hochberg, holm

P = np.array([0.001, 0.04, 0.03, 0.2, 0.012, 0.04, 0.9, 0.0005])


def test_holm_matches_statsmodels() -> None:
    np.testing.assert_allclose(holm(P), multipletests(P, method="holm")[1], rtol=1e-12)


def test_bh_matches_statsmodels() -> None:
    np.testing.assert_allclose(
        benjamini_hochberg(P), multipletests(P, method="fdr_bh")[1], rtol=1e-12
    )


@settings(max_examples=50, deadline=None)
@given(hs.lists(hs.floats(0, 1), min_size=1, max_size=30))
def test_property_matches_statsmodels(p: list[float]) -> None:
    arr = np.array(p)
    np.testing.assert_allclose(holm(arr), multipletests(arr, method="holm")[1], atol=1e-12)
    np.testing.assert_allclose(
        benjamini_hochberg(arr), multipletests(arr, method="fdr_bh")[1], atol=1e-12
    )


def test_nan_p_values_stay_out_of_the_family() -> None:
    with_nan = np.array([0.01, np.nan, 0.04, 0.03])
    out = holm(with_nan)
    assert np.isnan(out[1])
    np.testing.assert_allclose(out[[0, 2, 3]], multipletests([0.01, 0.04, 0.03], method="holm")[1])
    assert np.isnan(benjamini_hochberg([np.nan])).all()
    assert holm([]).size == 0


def test_adjust_dispatch() -> None:
    np.testing.assert_array_equal(adjust(P, "none"), P)
    np.testing.assert_array_equal(adjust(P, "bh"), benjamini_hochberg(P))
    with pytest.raises(ValueError):
        adjust(P, "bonferroni-ish")
