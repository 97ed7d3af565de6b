"""One decision family, one alpha (hand-worked).

The verdict rests on the primary metrics x treatment arms of the overall segment; Holm
corrects over those only (segment cells are exploratory, corrected among themselves), and
power and MDE are computed at the level the corrected test runs at (alpha / m).
"""

from __future__ import annotations

import math

import pytest
from scipy import stats as st

from include.stats import SufficientStats, build_readout
from include.stats.readout import family_alpha, family_of

CONFIG = {
    "experiment": "x",
    "alpha": 0.05,
    "correction": "holm",
    "effect_of_interest_rel": 0.10,
    "metrics": {
        "a": {"type": "conversion", "role": "primary"},
        "b": {"type": "conversion", "role": "primary"},
        "g": {"type": "conversion", "role": "guardrail"},
    },
}


def _cells():
    out = []
    # overall: a 10 % vs 12 % (z = 2.86, p = 0.0043), b and g flat, on 4,000 per arm
    for metric, (c, t) in {"a": (400, 480), "b": (800, 800), "g": (200, 200)}.items():
        out += [(metric, "control", "overall", SufficientStats.from_counts(4000, c)),
                (metric, "treatment", "overall", SufficientStats.from_counts(4000, t))]  # fmt: skip
    # 20 segment cells of metric a (10 values x 2 arms is 10 rows), all flat
    flat = SufficientStats.from_counts(400, 40)
    for i in range(10):
        out += [("a", "control", f"region={i}", flat), ("a", "treatment", f"region={i}", flat)]
    return out


def test_families_and_their_levels():
    assert family_of("primary", "overall") == "decision"
    assert family_of("guardrail", "overall") == "guardrail"
    assert family_of("secondary", "overall") == "secondary"
    assert family_of("primary", "region=emea") == "exploratory"
    assert family_alpha(0.05, "holm", 2) == 0.025
    assert family_alpha(0.05, "bh", 4) == 0.0125
    assert family_alpha(0.05, "none", 4) == 0.05 and family_alpha(0.05, "holm", 1) == 0.05


def test_holm_over_the_decision_family_only():
    rows = {(r["metric"], r["segment"]): r for r in build_readout(_cells(), CONFIG)}
    a, b = rows[("a", "overall")], rows[("b", "overall")]
    # Holm over {a, b} (m = 2): the smaller p-value times 2, the larger times 1, monotone
    p_a, p_b = a["p_value"], b["p_value"]
    assert p_a < 0.005 and p_b == pytest.approx(1.0)
    assert a["p_value_adjusted"] == pytest.approx(2 * p_a)
    assert b["p_value_adjusted"] == pytest.approx(max(2 * p_a, p_b))
    assert a["significant"] is True
    # before, the 10 segment rows joined the family: m = 13 would have multiplied p_a by 13
    assert 13 * p_a > 0.05
    # the guardrail is alone in its family; segment rows are corrected among themselves
    assert rows[("g", "overall")]["p_value_adjusted"] == pytest.approx(
        rows[("g", "overall")]["p_value"]
    )
    seg = [r for (m, s), r in rows.items() if s != "overall"]
    assert len(seg) == 10 and all(r["p_value_adjusted"] == pytest.approx(1.0) for r in seg)


def test_power_and_mde_at_the_corrected_level():
    rows = {(r["metric"], r["segment"]): r for r in build_readout(_cells(), CONFIG)}
    a = rows[("a", "overall")]
    # power for the effect of interest (10 % of the 10 % baseline = 1 pp), worked out from
    # the normal approximation at alpha / 2 = 0.025 (two-sided: z = 2.2414)
    se = math.sqrt(0.1 * 0.9 * (1 / 4000 + 1 / 4000))
    z = st.norm.ppf(1 - 0.025 / 2)
    shift = 0.01 / se
    expected = st.norm.cdf(shift - z) + st.norm.cdf(-shift - z)
    assert a["power"] == pytest.approx(expected, rel=1e-9)
    unadjusted = st.norm.cdf(shift - st.norm.ppf(0.975)) + st.norm.cdf(-shift - st.norm.ppf(0.975))
    assert a["power"] < unadjusted  # the uncorrected level overstated it
    # MDE at 80 % power: (z_{1-0.0125} + z_{0.8}) se, to the root finder's precision
    assert a["mde_abs"] == pytest.approx((z + st.norm.ppf(0.8)) * se, rel=1e-3)
    # the guardrail (a family of 1) keeps alpha = 0.05
    g = rows[("g", "overall")]
    se_g = math.sqrt(0.05 * 0.95 * (2 / 4000))
    shift_g = 0.005 / se_g
    z_g = st.norm.ppf(0.975)
    assert g["power"] == pytest.approx(st.norm.cdf(shift_g - z_g) + st.norm.cdf(-shift_g - z_g))
