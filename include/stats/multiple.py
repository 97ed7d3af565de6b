"""Multiple-testing corrections across metrics, segments and variants.

* Holm (1979) step-down, controls the family-wise error rate:
  ``p_(i)^adj = max_{j <= i} min(1, (m - j + 1) p_(j))``.
* Benjamini-Hochberg (1995) step-up, controls the false discovery rate:
  ``p_(i)^adj = min_{j >= i} min(1, m p_(j) / j)``.

NaN p-values (tests that could not run) are left out of the family and stay NaN, so an
undefined test neither counts towards ``m`` nor gets a made-up adjusted value.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
from numpy.typing import ArrayLike

METHODS = ("holm", "bh", "none")


def holm(p_values: ArrayLike) -> np.ndarray:
    """Holm step-down adjusted p-values (same order as the input)."""
    return _adjust(p_values, _holm_sorted)


def benjamini_hochberg(p_values: ArrayLike) -> np.ndarray:
    """Benjamini-Hochberg step-up adjusted p-values (same order as the input)."""
    return _adjust(p_values, _bh_sorted)


def adjust(p_values: Sequence[float] | np.ndarray, method: str) -> np.ndarray:
    """Dispatch by name: ``"holm"``, ``"bh"`` or ``"none"``."""
    if method == "holm":
        return holm(p_values)
    if method == "bh":
        return benjamini_hochberg(p_values)
    if method == "none":
        return np.asarray(p_values, dtype=float).copy()
    raise ValueError(f"unknown correction {method!r}; expected one of {METHODS}")


def _holm_sorted(p: np.ndarray) -> np.ndarray:
    m = p.size
    factors = m - np.arange(m)
    return np.minimum(np.maximum.accumulate(factors * p), 1.0)


def _bh_sorted(p: np.ndarray) -> np.ndarray:
    m = p.size
    scaled = p * m / np.arange(1, m + 1)
    return np.minimum(np.minimum.accumulate(scaled[::-1])[::-1], 1.0)


def _adjust(p_values: ArrayLike, rule: Callable[[np.ndarray], np.ndarray]) -> np.ndarray:
    p = np.asarray(p_values, dtype=float).ravel()
    out = np.full(p.shape, np.nan)
    valid = np.flatnonzero(~np.isnan(p))
    if valid.size:
        order = valid[np.argsort(p[valid], kind="stable")]
        out[order] = rule(p[order])
    return out
