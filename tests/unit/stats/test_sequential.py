"""Daily readouts without peeking: the group sequential test behind every decision.

The boundaries are checked against published values and against a Monte Carlo of the
Brownian motion they assume (independent of the recursion); then the issue's simulation:
A/A experiments read every day for 30 days (400 units per arm a day, 10 % conversion),
decided by the project's own z-test and ``decide()`` at every look, stop on a significant
verdict about 5 % of the time with the sequential test, and about 23 % without it.
"""

from __future__ import annotations

import numpy as np
import pytest

from include.stats import SufficientStats, decide, run_trust_checks, two_proportion_ztest
from include.stats.sequential import boundaries, obf_spending, sequential_test

LOOKS = 30
PER_DAY = 400
TIMES = [k / LOOKS for k in range(1, LOOKS + 1)]


def test_boundaries_match_the_published_obrien_fleming_spending_values():
    # Lan-DeMets O'Brien-Fleming spending, two-sided alpha 0.05, 5 equally spaced looks:
    # 4.8769, 3.3569, 2.6803, 2.2898, 2.0310 (rpact / gsDesign, "asOF"); 2 looks: 2.9626,
    # 1.9686; one look is the fixed-horizon test, z_0.975 = 1.95996
    np.testing.assert_allclose(
        boundaries([0.2, 0.4, 0.6, 0.8, 1.0], 0.05),
        [4.8769, 3.3569, 2.6803, 2.2898, 2.0310],
        atol=2e-4,
    )
    np.testing.assert_allclose(boundaries([0.5, 1.0], 0.05), [2.9626, 1.9686], atol=2e-4)
    assert boundaries([1.0], 0.05)[0] == pytest.approx(1.959964, abs=1e-6)
    assert obf_spending(1.0, 0.05) == pytest.approx(0.05)
    assert obf_spending(0.5, 0.05) < 0.006  # almost nothing spent at half-time


def test_the_boundaries_spend_alpha_on_brownian_paths():
    """200,000 Brownian paths at the 30 looks (not the recursion): the share that ever
    crosses is 5 % within Monte Carlo error (s.e. 0.05 pp)."""
    rng = np.random.default_rng(20261207)
    t = np.array(TIMES)
    steps = rng.normal(size=(200_000, LOOKS)) * np.sqrt(np.diff(np.concatenate([[0], t])))
    z = np.cumsum(steps, axis=1) / np.sqrt(t)
    crossed = (np.abs(z) >= boundaries(TIMES, 0.05)).any(axis=1).mean()
    assert crossed == pytest.approx(0.05, abs=0.0015)


def test_sequential_test_reports_the_first_crossing():
    res = sequential_test([0.5, 1.0], [3.1, 1.0], 0.05)  # 3.1 > 2.9626 at the first look
    assert (res.crossed_at, res.significant, res.looks) == (1, True, 2)
    assert res.boundary == pytest.approx(1.9686, abs=2e-4)
    assert sequential_test([0.5, 1.0], [2.9, 1.9], 0.05).significant is False
    with pytest.raises(ValueError, match="increase strictly"):
        sequential_test([0.5, 0.5], [1.0, 1.0], 0.05)


def _z_paths(rng, experiments: int, p_control: float, p_treatment: float):
    """z statistics of the project's z-test at each daily look: (experiments, looks)."""
    c = rng.binomial(PER_DAY, p_control, size=(experiments, LOOKS)).cumsum(axis=1)
    t = rng.binomial(PER_DAY, p_treatment, size=(experiments, LOOKS)).cumsum(axis=1)
    n = PER_DAY * np.arange(1, LOOKS + 1)
    res = two_proportion_ztest(
        SufficientStats.from_counts(np.broadcast_to(n, c.shape), c),
        SufficientStats.from_counts(np.broadcast_to(n, t.shape), t),
    )
    return np.asarray(res.statistic), np.asarray(res.p_value), np.asarray(res.abs_lift)


def _first_decision(z, p, lift, significant_at) -> str:
    """decide() at every daily look until it stops: 'ship', 'do_not_ship' or 'flat'."""
    trust = run_trust_checks({"control": 1, "treatment": 1}, {"control": 0.5, "treatment": 0.5})
    for k in range(LOOKS):
        n = PER_DAY * (k + 1)
        row = {"segment": "overall", "role": "primary", "metric": "conversion",
               "variant": "treatment", "higher_is_better": True, "control_n": n,
               "variant_n": n, "p_value": float(p[k]), "p_value_adjusted": float(p[k]),
               "significant": bool(significant_at(k)), "abs_lift": float(lift[k]),
               "rel_lift": float(lift[k]) / 0.1, "power": None}  # fmt: skip
        cfg = {"min_sample_per_arm": 100, "planned_sample_per_arm": PER_DAY * LOOKS,
               "window_ended": k == LOOKS - 1}  # fmt: skip
        verdict = decide([row], trust, cfg)
        if verdict.verdict == "ship" or (
            verdict.verdict == "do_not_ship" and "significantly worse" in verdict.reasons[-1]
        ):
            return verdict.verdict
        if verdict.verdict == "do_not_ship":
            return "flat"
    return "flat"


def test_aa_experiments_read_daily_stop_falsely_about_five_percent_of_the_time():
    rng = np.random.default_rng(7)
    experiments = 10_000
    z, p, lift = _z_paths(rng, experiments, 0.10, 0.10)
    c = boundaries(TIMES, 0.05)
    crossed = np.maximum.accumulate(np.abs(z) >= c, axis=1)  # a decision, once made, stands
    outcomes = [
        _first_decision(z[e], p[e], lift[e], lambda k, e=e: crossed[e, k])
        for e in range(experiments)
    ]
    false_rate = np.mean([o != "flat" for o in outcomes])
    assert 0.04 <= false_rate <= 0.06, false_rate
    # both directions, about half each
    ships = np.mean([o == "ship" for o in outcomes])
    assert 0.015 <= ships <= 0.035

    # the same experiments decided by the fixed-horizon test at every look: the peeking
    # problem the sequential test removes (about 23 % in the run)
    fixed = [
        _first_decision(z[e], p[e], lift[e], lambda k, e=e: p[e, k] < 0.05)
        for e in range(2_000)
    ]
    assert np.mean([o != "flat" for o in fixed]) > 0.15


def test_power_at_the_planned_sample_next_to_the_fixed_horizon_test():
    """A true lift of 10 % -> 11 % (12,000 units per arm at the planned end): the fixed-
    horizon test at the end and the sequential test over 30 daily looks (which may stop
    earlier) find it about as often; O'Brien-Fleming spending costs little power."""
    rng = np.random.default_rng(11)
    z, p, _ = _z_paths(rng, 4_000, 0.10, 0.11)
    fixed_power = np.mean(p[:, -1] < 0.05)
    sequential_power = np.mean((np.abs(z) >= boundaries(TIMES, 0.05)).any(axis=1))
    print(f"power at 12,000 per arm: fixed horizon {fixed_power:.3f}, "
          f"sequential (30 looks) {sequential_power:.3f}")  # fmt: skip
    assert 0.7 < fixed_power < 0.9
    assert sequential_power >= fixed_power - 0.03
