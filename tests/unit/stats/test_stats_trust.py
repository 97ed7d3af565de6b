"""Trust checks: SRM against scipy, rate limits, quality gates, combined status."""

from __future__ import annotations

import pytest
from scipy import stats as st

from include.stats import check_rate, run_trust_checks, srm_test

WEIGHTS = {"control": 0.5, "treatment": 0.5}


def test_srm_matches_scipy_chisquare() -> None:
    observed, weights = [5050, 4890, 2610], [0.4, 0.4, 0.2]
    res = srm_test(observed, weights)
    total = sum(observed)
    ref = st.chisquare(observed, [total * w for w in weights])
    assert res.statistic == pytest.approx(ref.statistic, rel=1e-12)
    assert res.p_value == pytest.approx(ref.pvalue, rel=1e-9)
    assert res.p_value == pytest.approx(st.chi2.sf(ref.statistic, 2), rel=1e-12)
    assert res.df == 2


def test_srm_detects_a_52_48_split_at_large_n() -> None:
    trust = run_trust_checks({"control": 52_000, "treatment": 48_000}, WEIGHTS)
    srm = trust.checks[0]
    assert srm.status == "fail" and srm.value < 1e-30
    assert trust.status == "fail" and not trust.passed
    assert any("sample ratio mismatch" in r for r in trust.reasons)


def test_srm_passes_a_fair_split() -> None:
    trust = run_trust_checks({"control": 50_100, "treatment": 49_900}, WEIGHTS)
    assert trust.status == "pass" and trust.passed and trust.reasons == ()
    assert trust.checks[0].value == pytest.approx(st.chisquare([50_100, 49_900]).pvalue)


def test_srm_respects_unequal_weights_and_warn_band() -> None:
    ok = run_trust_checks({"control": 9_000, "treatment": 1_000}, {"control": 9, "treatment": 1})
    assert ok.status == "pass"
    # chi2 ~ 4.2 -> p ~ 0.04: between the warn (0.05) and fail (0.001) thresholds.
    warn = run_trust_checks(
        {"control": 5_103, "treatment": 4_897}, WEIGHTS, config={"srm_warn_alpha": 0.05}
    )
    assert warn.status == "warn" and warn.passed


def test_srm_variant_names_must_match() -> None:
    trust = run_trust_checks({"control": 10, "b": 10}, WEIGHTS)
    assert trust.status == "fail" and "differ" in trust.reasons[0]


def test_srm_empty_and_invalid_inputs() -> None:
    assert srm_test([0, 0], [1, 1]).p_value == 1.0
    empty = run_trust_checks({"control": 0, "treatment": 0}, WEIGHTS)
    srm = next(c for c in empty.checks if c.name == "sample_ratio_mismatch")
    assert (srm.status, srm.value) == ("warn", None) and empty.status == "warn"
    with pytest.raises(ValueError):
        srm_test([10], [1])
    with pytest.raises(ValueError):
        srm_test([10, 10], [1, 0])


@pytest.mark.parametrize(
    ("bad", "total", "status"), [(10, 1000, "pass"), (30, 1000, "warn"), (60, 1000, "fail")]
)
def test_rate_thresholds(bad: int, total: int, status: str) -> None:
    res = check_rate("contamination_rate", bad, total, warn_at=0.02, fail_at=0.05)
    assert res.status == status and res.value == pytest.approx(bad / total)


def test_rate_without_units_passes() -> None:
    assert check_rate("duplicate_rate", 0, 0, 0.02, 0.05).status == "pass"


def test_combined_status_is_the_worst_with_all_reasons() -> None:
    trust = run_trust_checks(
        {"control": 5_000, "treatment": 5_000},
        WEIGHTS,
        contaminated=600,  # 600 / 10,700 rows = 5.6% > 5%
        duplicates=100,
        quality_gates={"silver_outcomes": "pass", "gold_aggregates": "warn"},
    )
    statuses = {c.name: c.status for c in trust.checks}
    assert statuses == {
        "sample_ratio_mismatch": "pass",
        "contamination_rate": "fail",
        "duplicate_rate": "pass",
        "quality_gate:silver_outcomes": "pass",
        "quality_gate:gold_aggregates": "warn",
    }
    assert trust.status == "fail"
    assert len(trust.reasons) == 2


def test_failed_or_unknown_quality_gate_fails() -> None:
    counts = {"control": 100, "treatment": 100}
    assert run_trust_checks(counts, WEIGHTS, quality_gates={"g": "FAIL"}).status == "fail"
    assert run_trust_checks(counts, WEIGHTS, quality_gates={"g": "skipped"}).status == "fail"
