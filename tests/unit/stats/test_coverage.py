"""Missing days block the verdict: the data-coverage trust check and the blocked verdict.

An experiment-to-date table rebuilt from days of which one was rejected at its gate (or
never ran) lacks that day without a trace; the readout must know the days it covers.
"""

from __future__ import annotations

from include.stats import SufficientStats, build_readout, check_coverage, decide, run_trust_checks
from include.stats.trust import FAIL, PASS

SUITES = ("web", "assignments")
OK = {"web": "pass", "assignments": "warn"}  # a warning does not make a day incomplete


def test_every_day_passed_its_gates():
    got = check_coverage("2024-01-01", "2024-01-03", {d: OK for d in
                         ("2024-01-01", "2024-01-02", "2024-01-03")}, SUITES)  # fmt: skip
    assert (got.name, got.status, got.value) == ("data_coverage", PASS, 0.0)
    assert got.reason == (
        "data covers 2024-01-01..2024-01-03: 3 days, each passed its 2 source gates "
        "(web, assignments)"
    )


def test_a_failed_a_partial_and_a_missing_day_are_named():
    statuses = {
        "2024-01-01": OK,
        "2024-01-02": {"web": "fail", "assignments": "pass"},  # rejected at its gate
        "2024-01-03": {"web": "pass"},  # the assignments gate never ran
        # 2024-01-04: no gate result at all (the day never ran)
        "2024-01-05": OK,
        "2023-12-31": {"web": "fail"},  # outside the span: not judged
    }
    got = check_coverage("2024-01-01", "2024-01-05", statuses, SUITES)
    assert (got.status, got.value) == (FAIL, 3.0)
    assert got.reason == (
        "incomplete data: 3 of 5 days of 2024-01-01..2024-01-05 did not pass their gates: "
        "2024-01-02 (failed: web), 2024-01-03 (no gate result: assignments), "
        "2024-01-04 (no gate result: web, assignments)"
    )


def test_a_long_gap_lists_ten_days_and_counts_the_rest():
    got = check_coverage("2024-01-01", "2024-01-31", {"2024-01-01": OK}, SUITES)
    assert got.value == 30.0
    assert got.reason.startswith("incomplete data: 30 of 31 days of 2024-01-01..2024-01-31")
    assert "2024-01-11 (no gate result: web, assignments), and 20 more" in got.reason
    assert "2024-01-12" not in got.reason


def _decided(coverage):
    config = {"experiment": "x", "metrics": {"conv": {"type": "conversion", "role": "primary"}}}
    records = build_readout(
        [
            ("conv", "control", "overall", SufficientStats.from_counts(5000, 500)),
            ("conv", "treatment", "overall", SufficientStats.from_counts(5000, 650)),
        ],
        config,
    )
    trust = run_trust_checks({"control": 5000, "treatment": 5000},
                             {"control": 0.5, "treatment": 0.5}, coverage=coverage)  # fmt: skip
    return decide(records, trust, {"min_sample_per_arm": 100})


def test_incomplete_data_blocks_a_verdict_that_would_ship():
    # complete: 10 % vs 13 % on 5,000 per arm ships (z = 4.7)
    complete = check_coverage("2024-01-01", "2024-01-02", {"2024-01-01": OK, "2024-01-02": OK},
                              SUITES)  # fmt: skip
    shipped = _decided(complete)
    assert (shipped.verdict, shipped.variant) == ("ship", "treatment")
    assert complete.reason in shipped.reasons  # the verdict says what it covered

    gap = check_coverage("2024-01-01", "2024-01-02", {"2024-01-01": OK}, SUITES)
    blocked = _decided(gap)
    assert (blocked.verdict, blocked.variant) == ("blocked", None)
    assert blocked.reasons == (gap.reason,)
    assert "2024-01-02 (no gate result: web, assignments)" in blocked.reasons[0]
