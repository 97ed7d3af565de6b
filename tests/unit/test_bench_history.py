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


def test_day_n_is_compared_with_day_1_before_and_after_it():
    from bench.bench_pipeline import history_summary

    def day(seconds, jobs):
        return {"seconds": seconds, "jobs": [{"task": t, "job": j, "seconds": s}
                                             for t, j, s in jobs]}  # fmt: skip

    exp = ("experiments.homepage_cta_test.base_outcomes", "gold.experiments.base")
    web = ("bronze.web_events", "bronze.web_events")
    first = day(100.0, [(*exp, 10.0), (*web, 40.0)])
    last = day(150.0, [(*exp, 30.0), (*web, 60.0)])
    again = day(120.0, [(*exp, 12.0), (*web, 60.0)])  # the machine slowed: web 40 -> 60 s
    out = history_summary(10, 20_000, first, [day(110.0, [])], last, again)
    assert (out["dayN_over_day1"], out["day1_jobs_seconds"], out["dayN_jobs_seconds"]) == (
        1.5, 50.0, 90.0
    )
    assert out["largest_job_growth"][0] == {"job": "/".join(exp), "day1": 10.0, "day10": 30.0}
    assert out["middle_days_seconds"] == [110.0]
    control = out["control_day1"]
    assert (control["day1_seconds"], control["dayN_over_control_day1"]) == (120.0, 1.25)
    assert control["by_kind"]["daily"]["dayN_over_day1"] == 1.0  # flat against the control
    assert control["by_kind"]["experiment_to_date"]["dayN_over_day1"] == 2.5
    assert "control_day1" not in history_summary(10, 20_000, first, [], last)


def test_middle_days_trend_leaves_out_the_warm_up_day_and_fits_a_slope():
    from bench.bench_pipeline import middle_trend

    def day(exp, daily):
        return {"seconds": exp + daily, "jobs": [
            {"task": "experiments.pdp_redesign.user_exposure_user_outcomes_aggregated",
             "job": "gold.experiments.user_exposure", "seconds": exp},
            {"task": "bronze.web_events", "job": "bronze.web_events",
             "seconds": daily}]}  # fmt: skip

    # day 2 warms the JVM up (left out); then experiment jobs 10, 11, 12, 13 s: +1 s a day
    trend = middle_trend([day(30.0, 90.0), day(10.0, 50.0), day(11.0, 52.0), day(12.0, 48.0),
                          day(13.0, 50.0)])  # fmt: skip
    assert trend["fitted_days"] == 4
    assert trend["per_day"][0] == {"experiment_to_date": 30.0, "finance_history": 0,
                                   "daily": 90.0, "all": 120.0}  # fmt: skip
    assert trend["experiment_to_date"] == {
        "mean_seconds": 11.5, "slope_seconds_per_day": 1.0, "slope_over_mean_per_day": 0.087
    }
    # 50 52 48 50 at x = 0..3: sum (x - 1.5)(y - 50) = -2, sum (x - 1.5)^2 = 5: noise, flat
    assert trend["daily"]["slope_seconds_per_day"] == -0.4
    assert "all" in trend and "daily" not in middle_trend([day(1.0, 1.0)] * 3)


def test_checkpoint_days_stay_in_the_series_but_not_in_the_slope():
    """Days 2..13: experiment jobs cost the day's number in seconds (+1 s a day), but day 10
    (every once-a-day table's 10th commit: a Delta checkpoint) costs 100 s. Fitted over days
    3..13 without 10 the slope is exactly 1; with day 10 in it, it would be about 2.9."""
    from bench.bench_pipeline import middle_trend

    def day(n):
        seconds = 100.0 if n == 10 else float(n)
        return {"seconds": seconds, "jobs": [
            {"task": "experiments.pdp_redesign.user_exposure_user_outcomes_aggregated",
             "job": "gold.experiments.user_exposure", "seconds": seconds}]}  # fmt: skip

    trend = middle_trend([day(n) for n in range(2, 14)])
    assert trend["left_out_days"] == [2, 10] and trend["fitted_days"] == 10
    assert trend["per_day"][8]["experiment_to_date"] == 100.0  # day 10 still reported
    assert trend["experiment_to_date"]["slope_seconds_per_day"] == 1.0
    assert trend["experiment_to_date"]["mean_seconds"] == 7.8  # (88 - 10) / 10


def test_the_bench_skips_a_concluded_experiment_as_the_daily_dag_does():
    """pdp_redesign's final day is 2024-03-09 (end 02-29 + 7-day window + 2 late days),
    homepage_cta_test's 2024-06-01: their tasks and readouts stop the day after."""
    from bench.bench_pipeline import experiment_readouts, runs_on

    pdp = {"task": "experiments.pdp_redesign.x", "jobs": [],
           "params": {"experiment": "pdp_redesign"}}
    web = {"task": "bronze.web_events", "jobs": [], "params": {}}
    assert runs_on(pdp, "2024-03-09") and not runs_on(pdp, "2024-03-10")
    assert runs_on(web, "2030-01-01")
    names = {d: {t["params"]["experiment"] for t in experiment_readouts(d)}
             for d in ("2024-03-09", "2024-03-10", "2024-06-02")}  # fmt: skip
    assert names == {
        "2024-03-09": {"pdp_redesign", "homepage_cta_test"},
        "2024-03-10": {"homepage_cta_test"},
        "2024-06-02": set(),
    }


def test_a_job_day_n_skipped_counts_zero_on_day_n_and_its_seconds_on_day_1():
    from bench.bench_pipeline import history_summary

    def day(jobs, skipped=()):
        return {"seconds": sum(s for _, _, s in jobs), "skipped_tasks": list(skipped),
                "jobs": [{"task": t, "job": j, "seconds": s} for t, j, s in jobs]}  # fmt: skip

    pdp = ("experiments.pdp_redesign.user_exposure_user_outcomes_aggregated",
           "gold.experiments.user_exposure")  # fmt: skip
    home = ("experiments.homepage_cta_test.base_outcomes", "gold.experiments.base")
    first = day([(*pdp, 4.0), (*home, 6.0)])
    last = day([(*home, 7.0)], skipped=[pdp[0]])
    out = history_summary(3, 20_000, first, [], last)
    # experiment-to-date: day 1 4 + 6 = 10 s, day N 0 + 7 = 7 s
    kind = out["by_kind"]["experiment_to_date"]
    assert (kind["jobs"], kind["day1_seconds"], kind["dayN_seconds"]) == (2, 10.0, 7.0)
    assert {"job": "/".join(pdp), "day1": 4.0, "day3": 0.0} in out["every_job"]
    assert out["skipped_tasks"] == {"day1": [], "dayN": [pdp[0]]}
