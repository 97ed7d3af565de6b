"""The history benchmark's per-kind summary: which jobs count as reading history, and sums."""

from __future__ import annotations

from bench.bench_pipeline import by_kind, job_kind


def test_jobs_are_grouped_by_what_they_read_and_summed_per_day():
    growth = [
        ("experiments.pdp_redesign.user_exposure_user_outcomes_aggregated/gold.x", 2.0, 5.0),
        ("experiment_homepage_cta_test.readout/readouts.experiment", 1.0, 2.0),
        ("finance.marts/gold.finance.mrr_bridge", 3.0, 3.0),
        ("bronze.web_events/bronze.web_events", 10.0, 10.5),
        ("sources.gate/quality.gate", None, 1.0),  # not run on day 1: counts 0 there
    ]
    assert [job_kind(t) for t, _, _ in growth] == [
        "experiment_to_date", "experiment_to_date", "finance_history", "daily", "daily"
    ]
    kinds = by_kind(growth)
    assert {k: (v["jobs"], v["day1_seconds"], v["dayN_seconds"], v["dayN_over_day1"])
            for k, v in kinds.items()} == {  # fmt: skip
        "experiment_to_date": (2, 3.0, 7.0, 2.333),
        "finance_history": (1, 3.0, 3.0, 1.0),
        "daily": (2, 10.0, 11.5, 1.15),
    }
