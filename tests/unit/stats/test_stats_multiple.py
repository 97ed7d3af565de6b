"""Holm and Benjamini-Hochberg against statsmodels' multipletests."""

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


def _naive_holm(p: np.ndarray) -> np.ndarray:
    """Textbook definition, O(m^2): max over smaller-or-equal-ranked p of (m - j + 1) p_(j)."""
    m, order = p.size, np.argsort(p, kind="stable")
    ranked = np.empty(m)
    for i in range(m):
        ranked[i] = min(1.0, max((m - j) * p[order[j]] for j in range(i + 1)))
    out = np.empty(m)
    out[order] = ranked
    return out


def _naive_bh(p: np.ndarray) -> np.ndarray:
    """Textbook definition, O(m^2): min over larger-or-equal-ranked p of m p_(j) / j."""
    m, order = p.size, np.argsort(p, kind="stable")
    ranked = np.empty(m)
    for i in range(m):
        ranked[i] = min(1.0, min(m * p[order[j]] / (j + 1) for j in range(i, m)))
    out = np.empty(m)
    out[order] = ranked
    return out


# multipletests costs ~0.1 s a call, so the property test checks the textbook definitions
# and statsmodels is the golden reference on the fixed vectors.
@settings(max_examples=100, deadline=None)
@given(hs.lists(hs.floats(0, 1), min_size=1, max_size=30))
def test_property_matches_textbook_definitions(p: list[float]) -> None:
    arr = np.array(p)
    np.testing.assert_allclose(holm(arr), _naive_holm(arr), atol=1e-12)
    np.testing.assert_allclose(benjamini_hochberg(arr), _naive_bh(arr), atol=1e-12)
    assert np.all(holm(arr) >= benjamini_hochberg(arr) - 1e-12)


@pytest.mark.parametrize("p", [[0.5], [0.01, 0.01, 0.01], [1e-8, 0.3, 0.049, 0.051, 1.0]])
def test_edge_vectors_match_statsmodels(p: list[float]) -> None:
    np.testing.assert_allclose(holm(p), multipletests(p, method="holm")[1], rtol=1e-12)
    np.testing.assert_allclose(
        benjamini_hochberg(p), multipletests(p, method="fdr_bh")[1], rtol=1e-12
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
