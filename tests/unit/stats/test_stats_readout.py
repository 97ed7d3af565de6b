"""Cumulative-by-day results, MRR impact, the flat readout rows and the verdict."""

from __future__ import annotations

import math

import numpy as np
import pytest

from include.stats import (
    RECORD_FIELDS,
    Cell,
    SufficientStats,
    build_readout,
    cumulative_by_day,
    decide,
    mrr_impact,
    run_trust_checks,
    two_proportion_ztest,
    welch_ttest,
)
from include.stats.multiple import benjamini_hochberg, holm

DAYS = [f"2024-06-0{d}" for d in range(1, 6)]
CONFIG = {
    "experiment": "homepage_cta_test",
    "control": "control",
    "metrics": {
        "converted": {"type": "conversion", "role": "primary"},
        "nb_mrr": {"type": "revenue", "role": "guardrail"},
        "refund_rate": {"type": "conversion", "role": "guardrail", "higher_is_better": False},
    },
    "mc_draws": 20_000,
}


def _day_counts(rng: np.random.Generator, n: int, p: float) -> SufficientStats:
    return SufficientStats.from_counts(n, int(rng.binomial(n, p)))


def test_cumulative_by_day_equals_test_on_running_totals() -> None:
    rng = np.random.default_rng(1)
    days = [(d, _day_counts(rng, 500, 0.10), _day_counts(rng, 500, 0.12)) for d in DAYS]
    rows = cumulative_by_day(days, "conversion")
    assert [r["day"] for r in rows] == DAYS
    for k, row in enumerate(rows, start=1):
        c = sum(day[1] for day in days[:k])
        t = sum(day[2] for day in days[:k])
        ref = two_proportion_ztest(c, t)
        assert row["control_n"] == 500 * k
        assert row["p_value"] == pytest.approx(ref.p_value, rel=1e-12)
        assert row["abs_ci_low"] == pytest.approx(ref.abs_ci_low, rel=1e-12)
    assert (
        rows[-1]["abs_ci_high"] - rows[-1]["abs_ci_low"]
        < rows[0]["abs_ci_high"] - rows[0]["abs_ci_low"]
    )


def test_cumulative_handles_empty_first_day_and_no_days() -> None:
    days = [
        ("d1", SufficientStats(), SufficientStats()),
        ("d2", *[_day_counts(np.random.default_rng(2), 50, 0.2)] * 2),
    ]
    rows = cumulative_by_day(days, "revenue")
    assert rows[0]["status"] == "insufficient_data" and rows[0]["p_value"] is None
    assert rows[1]["status"] == "ok"
    assert cumulative_by_day([], "conversion") == []


def test_mrr_impact_scales_the_per_user_interval() -> None:
    rng = np.random.default_rng(3)
    control = SufficientStats.from_values((rng.random(4000) < 0.05) * rng.gamma(2, 50, 4000))
    treatment = SufficientStats.from_values((rng.random(4000) < 0.06) * rng.gamma(2, 50, 4000))
    res = mrr_impact(control, treatment, n_total_users=10_000)
    ref = welch_ttest(control, treatment)
    assert res.per_user.estimate == pytest.approx(ref.abs_lift)
    assert res.treatment_arm_monthly.low == pytest.approx(ref.abs_ci_low * 4000)
    assert res.full_traffic_monthly.high == pytest.approx(ref.abs_ci_high * 10_000)
    assert res.full_traffic_annual.estimate == pytest.approx(ref.abs_lift * 10_000 * 12)
    assert res.treatment_arm_annual.low == pytest.approx(ref.abs_ci_low * 4000 * 12)
    record = res.to_dict()
    assert record["full_traffic_annual_high"] == pytest.approx(ref.abs_ci_high * 120_000)
    assert mrr_impact(control, treatment).n_total_users == 8000
    empty = mrr_impact(SufficientStats(), treatment)
    assert empty.status == "insufficient_data" and math.isnan(empty.per_user.estimate)


def _cells(lift: float = 0.02, n: int = 20_000, guardrail_drop: float = 0.0) -> list:
    rng = np.random.default_rng(4)
    cells: list = []
    for segment, share in (("overall", 1.0), ("mobile", 0.4), ("desktop", 0.6)):
        m = int(n * share)
        for variant, p in (("control", 0.10), ("treatment", 0.10 + lift)):
            cells.append(
                ("converted", variant, segment, SufficientStats.from_counts(m, int(m * p)))
            )
            mrr = (rng.random(m) < p) * rng.gamma(2, 40, m)
            if variant == "treatment":
                mrr = mrr - guardrail_drop
            cells.append(Cell("nb_mrr", variant, segment, SufficientStats.from_values(mrr)))
            cells.append(
                {
                    "metric": "refund_rate",
                    "variant": variant,
                    "segment": segment,
                    "n": m,
                    "sum": int(m * 0.01),
                    "sum_sq": int(m * 0.01),
                }
            )
    return cells


def test_build_readout_rows() -> None:
    rows = build_readout(_cells(), CONFIG)
    assert len(rows) == 3 * 3  # metrics x segments, one treatment variant
    assert all(list(r) == list(RECORD_FIELDS) for r in rows)
    row = next(r for r in rows if r["metric"] == "converted" and r["segment"] == "overall")
    assert row["experiment"] == "homepage_cta_test" and row["role"] == "primary"
    assert row["control_n"] == 20_000 and isinstance(row["control_n"], int)
    assert row["variant_mean"] == pytest.approx(0.12)
    assert row["test"] == "two_proportion_z" and row["bayes_method"] == "beta_binomial"
    assert row["significant"] is True and row["prob_beat_control"] > 0.999
    assert 0 < row["power"] <= 1 and row["mde_abs"] > 0
    # corrections are within each family: the decision family (the one primary metric on
    # the overall segment: nothing to correct), the two overall guardrails, and the six
    # segment cells (exploratory); never across the whole readout
    families = {
        "decision": [r for r in rows if r["segment"] == "overall" and r["role"] == "primary"],
        "guardrail": [r for r in rows if r["segment"] == "overall" and r["role"] == "guardrail"],
        "exploratory": [r for r in rows if r["segment"] != "overall"],
    }
    assert [len(f) for f in families.values()] == [1, 2, 6]
    assert families["decision"][0]["p_value_holm"] == families["decision"][0]["p_value"]
    for members in families.values():
        p = [r["p_value"] for r in members]
        np.testing.assert_allclose([r["p_value_holm"] for r in members], holm(p))
        np.testing.assert_allclose([r["p_value_bh"] for r in members], benjamini_hochberg(p))
    revenue = next(r for r in rows if r["metric"] == "nb_mrr" and r["segment"] == "overall")
    assert revenue["test"] == "welch_t" and revenue["bayes_method"] == "normal_means"
    for r in rows:  # no NaN leaks into the table: undefined values are None
        assert not any(isinstance(v, float) and not math.isfinite(v) for v in r.values())


def test_build_readout_degenerate_cells() -> None:
    cells = [
        ("converted", "control", "overall", SufficientStats.from_counts(10, 0)),
        ("converted", "treatment", "overall", SufficientStats.from_counts(10, 0)),
        ("converted", "treatment", "tiny", SufficientStats.from_counts(1, 1)),
        ("converted", "control", "tiny", SufficientStats()),
        ("converted", "treatment", "orphan", SufficientStats.from_counts(5, 1)),
    ]
    rows = {r["segment"]: r for r in build_readout(cells, CONFIG)}
    assert rows["overall"]["status"] == "zero_variance"
    assert rows["overall"]["p_value"] == 1.0 and rows["overall"]["abs_ci_low"] == 0.0
    assert rows["overall"]["rel_lift"] is None  # control rate 0: ratio undefined
    assert rows["tiny"]["status"] == "insufficient_data" and rows["tiny"]["p_value"] is None
    assert rows["tiny"]["significant"] is None
    assert rows["orphan"]["status"] == "missing_control" and rows["orphan"]["variant_n"] == 5


def test_per_day_cells_are_merged() -> None:
    days = [
        ("converted", v, "overall", SufficientStats.from_counts(100, 10))
        for v in ("control", "treatment", "control", "treatment")
    ]
    (row,) = build_readout(days, CONFIG)
    assert row["control_n"] == 200 and row["variant_n"] == 200


def test_non_binary_sums_for_a_conversion_metric_are_rejected() -> None:
    bad = [
        ("converted", v, "overall", SufficientStats.from_values([0.0, 2.0]))
        for v in ("control", "treatment")
    ]
    with pytest.raises(ValueError, match="not 0/1"):
        build_readout(bad, CONFIG)


FAIR = {"control": 20_000, "treatment": 20_000}
WEIGHTS = {"control": 0.5, "treatment": 0.5}
VERDICT_CFG = {"min_sample_per_arm": 5000}


def test_verdict_ship() -> None:
    verdict = decide(build_readout(_cells(), CONFIG), run_trust_checks(FAIR, WEIGHTS), VERDICT_CFG)
    assert verdict.verdict == "ship" and verdict.variant == "treatment"
    assert any("significantly better" in r for r in verdict.reasons)


def test_verdict_invalid_on_srm() -> None:
    trust = run_trust_checks({"control": 20_800, "treatment": 19_200}, WEIGHTS)
    verdict = decide(build_readout(_cells(), CONFIG), trust, VERDICT_CFG)
    assert verdict.verdict == "invalid"
    assert any("sample ratio mismatch" in r for r in verdict.reasons)


def test_verdict_keep_running_below_minimum_sample() -> None:
    rows = build_readout(_cells(n=2000), CONFIG)
    verdict = decide(
        rows, run_trust_checks({"control": 2000, "treatment": 2000}, WEIGHTS), VERDICT_CFG
    )
    assert verdict.verdict == "keep_running"
    assert any("minimum sample" in r for r in verdict.reasons)


def test_verdict_do_not_ship_on_harmed_guardrail() -> None:
    rows = build_readout(_cells(guardrail_drop=3.0), CONFIG)
    verdict = decide(rows, run_trust_checks(FAIR, WEIGHTS), VERDICT_CFG)
    assert verdict.verdict == "do_not_ship"
    assert any("guardrail" in r and "nb_mrr" in r for r in verdict.reasons)


def test_verdict_flat_result_depends_on_planned_sample() -> None:
    rows = build_readout(_cells(lift=0.0), CONFIG)
    trust = run_trust_checks(FAIR, WEIGHTS)
    reached = decide(rows, trust, {**VERDICT_CFG, "planned_sample_per_arm": 20_000})
    assert reached.verdict == "do_not_ship"
    running = decide(rows, trust, {**VERDICT_CFG, "planned_sample_per_arm": 50_000})
    assert running.verdict == "keep_running"
    # no planned sample in the config: the power for the effect of interest decides
    (primary,) = [r for r in rows if r["role"] == "primary" and r["segment"] == "overall"]
    by_power = decide(rows, trust, VERDICT_CFG).verdict
    assert by_power == ("do_not_ship" if primary["power"] >= 0.8 else "keep_running")


def test_verdict_do_not_ship_when_primary_significantly_worse() -> None:
    rows = build_readout(_cells(lift=-0.02), CONFIG)
    verdict = decide(rows, run_trust_checks(FAIR, WEIGHTS), VERDICT_CFG)
    assert verdict.verdict == "do_not_ship"
    assert any("significantly worse" in r for r in verdict.reasons)


def test_verdict_without_primary_rows_keeps_running() -> None:
    verdict = decide([], run_trust_checks(FAIR, WEIGHTS), VERDICT_CFG)
    assert verdict.verdict == "keep_running"


def _primary(metric: str, *, lift: float, significant: bool, power: float, n: int = 20_000) -> dict:
    return {
        "segment": "overall", "role": "primary", "variant": "treatment", "metric": metric,
        "p_value": 0.001 if significant else 0.4, "p_value_adjusted": 0.002 if significant else 1.0,
        "significant": significant, "abs_lift": lift, "rel_lift": lift, "higher_is_better": True,
        "control_n": n, "variant_n": n, "power": power,
    }  # fmt: skip


def test_verdict_weighs_every_primary_metric_not_only_the_last() -> None:
    trust = run_trust_checks(FAIR, WEIGHTS)
    better_then_flat = [
        _primary("activation", lift=0.02, significant=True, power=0.9),
        _primary("nb_mrr", lift=0.0, significant=False, power=0.1),
    ]
    verdict = decide(better_then_flat, trust, VERDICT_CFG)
    assert verdict.verdict == "ship" and verdict.variant == "treatment"
    assert any("activation significantly better" in r for r in verdict.reasons)
    worse_then_flat = [
        _primary("activation", lift=-0.02, significant=True, power=0.9),
        _primary("nb_mrr", lift=0.0, significant=False, power=0.95),
    ]
    verdict = decide(worse_then_flat, trust, VERDICT_CFG)
    assert verdict.verdict == "do_not_ship"
    assert any("primary significantly worse: activation" in r for r in verdict.reasons)
    # better on one primary, worse on another: never ship
    mixed = [better_then_flat[0], {**worse_then_flat[0], "metric": "conversion"}]
    assert decide(mixed, trust, VERDICT_CFG).verdict == "do_not_ship"


def test_verdict_flat_and_underpowered_keeps_running_until_powered_or_window_end() -> None:
    trust = run_trust_checks(FAIR, WEIGHTS)
    rows = [
        _primary("activation", lift=-0.004, significant=False, power=0.09, n=1086),
        _primary("nb_mrr", lift=0.0, significant=False, power=float("nan"), n=1086),
    ]
    cfg = {"min_sample_per_arm": 1000}
    running = decide(rows, trust, cfg)
    assert running.verdict == "keep_running"
    assert any("activation" in r and "underpowered" in r and "power 9%" in r
               for r in running.reasons)  # fmt: skip
    assert any("nb_mrr" in r and "power undefined" in r for r in running.reasons)
    ended = decide(rows, trust, {**cfg, "window_ended": True})
    assert ended.verdict == "do_not_ship"
    assert any("no significant effect at the planned end" in r for r in ended.reasons)
    powered = [{**r, "power": 0.85} for r in rows]
    verdict = decide(powered, trust, cfg)
    assert verdict.verdict == "do_not_ship"
    assert any("with the test powered" in r for r in verdict.reasons)
    # one primary powered, the other not: still running
    assert decide([powered[0], rows[1]], trust, cfg).verdict == "keep_running"


def test_p_beat_and_the_expected_loss_follow_the_metric_s_direction() -> None:
    """One lower-is-better mean, by hand: control n 10,000, mean 0.10, variance 0.09
    (sum 1,000, sum of squares 0.09 x 9,999 + 1,000 x 0.10 = 1,000 + 899.91 / 10); the
    variant 10,000 at mean 0.09, variance 0.09 (sum 900, sum of squares 0.09 x 9,999 + 900
    x 0.09). The posterior of variant - control is about normal, mean -0.01, sd sqrt(2 x
    0.09 / 10,000) = 0.004243: P(variant below control) = Phi(0.01 / 0.004243) = Phi(2.357)
    = 0.9908. Lower is better, so that is the variant's chance to beat the control, and
    shipping it costs E[max(variant - control, 0)] = sd phi(z) - 0.01 Phi(-z) =
    0.004243 x 0.02494 - 0.01 x 0.00921 = 1.37e-5."""
    from scipy.stats import norm

    n, var = 10_000, 0.09
    cells = [
        {"metric": "tickets", "variant": v, "segment": "overall", "n": n, "sum": n * mean,
         "sum_sq": var * (n - 1) + n * mean**2}
        for v, mean in (("control", 0.10), ("treatment", 0.09))
    ]  # fmt: skip
    sd = math.sqrt(2 * var / n)
    z = 0.01 / sd
    assert z == pytest.approx(2.357, abs=1e-3)
    rows = {}
    for better in (False, True):
        config = {**CONFIG, "metrics": {"tickets": {
            "type": "revenue", "role": "guardrail", "higher_is_better": better}}}  # fmt: skip
        (rows[better],) = build_readout(cells, config)
    lower = rows[False]
    assert lower["prob_beat_control"] == pytest.approx(norm.cdf(z), abs=0.002)  # 0.9908
    expected_loss = sd * norm.pdf(z) - 0.01 * norm.cdf(-z)
    assert lower["expected_loss"] == pytest.approx(expected_loss, rel=0.05)  # 1.37e-5
    assert lower["expected_loss_control"] == pytest.approx(expected_loss + 0.01, rel=0.01)
    # the same posterior read the other way for a higher-is-better metric
    assert rows[True]["prob_beat_control"] == pytest.approx(1 - lower["prob_beat_control"])
    assert rows[True]["expected_loss"] == pytest.approx(lower["expected_loss_control"])
