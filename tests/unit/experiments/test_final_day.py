"""An experiment's final day: the last ds any of its gold rules reads a new partition.

After it, nothing of the experiment can change, so the daily DAG skips it and its jobs refuse
the day: a concluded experiment costs nothing however long the lakehouse's history grows.
Every date below is worked out by hand from the rules in ``ExperimentSpec.final_day``.
"""

from __future__ import annotations

from datetime import date

import pytest

from include.experiments import add_months
from spark_jobs.gold.experiments.details import read_bounds
from spark_jobs.gold.experiments.user_outcomes import read_bound
from tests.unit.experiments.helpers import spec

SHOP = {
    "name": "pdp_redesign",
    "funnel": "shop",
    "exposure_event": "product_view",
    "start_date": "2024-01-01",
    "end_date": "2024-02-29",
    "metrics": [{"name": "purchase", "type": "conversion", "role": "primary"}],
    "segments": ["device_type"],
    "activation_lookback_days": 0,
}


def test_saas_final_day_is_the_month_2_retention_read_after_the_end():
    # end 2024-03-31: end + 1 = 04-01 (late exposures); outcome windows 03-31 + 7 + 2 = 04-09;
    # usage 03-31 + 30 = 04-30; month-2 retention add_months(03-31, 2) = 05-31, + 1 late day
    s = spec()
    assert s.outcomes_last_day == date(2024, 4, 9)
    assert s.final_day == date(2024, 6, 1)
    # a December end: February is clamped to its last day (2025 is not a leap year)
    assert spec(end_date="2024-12-31").final_day == date(2025, 3, 1)
    # a 90-day outcome window outlasts retention: 06-15 + 92 = 09-15 > 08-15 + 1
    assert spec(end_date="2024-06-15", outcome_window_days=90).final_day == date(2024, 9, 15)


def test_the_decision_day_is_when_the_decision_metrics_are_final():
    # SaaS: activation and conversion count up to the end date (seed 001), so the last look
    # is 2024-03-31 + 1 late day = 04-01, two months before the final day (06-01)
    assert spec().decision_day == date(2024, 4, 1)
    assert spec(end_date="2024-01-08").decision_day == date(2024, 1, 9)
    # shop: the last outcome window closes on the final day, 02-29 + 7 + 2 = 03-09
    assert spec(**SHOP).decision_day == date(2024, 3, 9)



def test_a_windowed_guardrail_holds_the_decision_until_the_last_window_closes():
    """support_tickets_14d (14 days from the exposure date) as a guardrail: the last
    eligible exposure is on the end date 01-08, its 14 days end 01-08 + 13 = 01-21, and its
    late tickets land a day later: 01-22. As a secondary metric it never decides, so the
    decision day stays at 01-08 + 1 = 01-09; conversion_14d as a primary holds it too."""
    tickets = [{"name": "activation", "role": "primary"},
               {"name": "support_tickets_14d", "role": "guardrail"}]  # fmt: skip
    assert spec(end_date="2024-01-08", metrics=tickets).decision_day == date(2024, 1, 22)
    tickets[1]["role"] = "secondary"
    assert spec(end_date="2024-01-08", metrics=tickets).decision_day == date(2024, 1, 9)
    conv14 = [{"name": "conversion_14d", "role": "primary"}]
    assert spec(end_date="2024-01-08", metrics=conv14).decision_day == date(2024, 1, 22)
    # the repository's experiment: 03-31 + 13 + 1 = 04-14, before the final day (06-01)
    from include.experiments import load_experiment

    homepage = load_experiment("homepage_cta_test")
    assert (homepage.decision_day, homepage.final_day) == (date(2024, 4, 14), date(2024, 6, 1))


def test_shop_final_day_is_the_last_outcome_window_partition():
    # 2024-02-29 + 7 + 2 = 2024-03-09; no retention or usage follow-up in the shop funnel
    s = spec(**SHOP)
    assert s.final_day == s.outcomes_last_day == date(2024, 3, 9)
    assert read_bound(s, "2024-12-31") == ("2024-01-01", "2024-03-09")
    assert read_bound(s, "2024-02-10") == ("2024-01-01", "2024-02-10")


def test_no_read_goes_past_the_final_day():
    s = spec()
    # base reads from start - 90 days look-back; its upper bound stops at the final day
    assert s.read_range("2024-02-10") == ("2023-10-03", "2024-02-10")
    assert s.read_range("2025-01-01") == ("2023-10-03", "2024-06-01")
    # details' own bounds end on or before it (billing exactly on it, usage on 04-30)
    assert read_bounds(s, "2025-01-01") == {
        "billing": ("2024-01-01", "2024-06-01"),
        "usage": ("2024-01-01", "2024-04-30"),
    }
    assert add_months(date(2024, 1, 31), 1) == date(2024, 2, 29)


def test_concluded_is_strictly_after_the_final_day():
    s = spec()
    assert not s.is_concluded("2024-01-01")
    assert not s.is_concluded("2024-06-01")
    assert s.is_concluded("2024-06-02")
    s.require_open("2024-06-01")
    with pytest.raises(ValueError, match=r"concluded on 2024-06-01.*ds=2024-06-02 is after it"):
        s.require_open("2024-06-02")


@pytest.mark.parametrize(
    "job, experiment, day_after",
    [
        ("gold.experiments.base", "homepage_cta_test", "2024-06-02"),
        ("gold.experiments.outcomes", "homepage_cta_test", "2024-06-02"),
        ("gold.experiments.aggregated", "homepage_cta_test", "2024-06-02"),
        ("gold.experiments.details", "homepage_cta_test", "2024-06-02"),
        ("gold.experiments.user_exposure", "pdp_redesign", "2024-03-10"),
        ("gold.experiments.user_outcomes", "pdp_redesign", "2024-03-10"),
        ("gold.experiments.aggregated", "pdp_redesign", "2024-03-10"),
        ("readouts.experiment", "pdp_redesign", "2024-03-10"),
    ],
)
def test_every_experiment_job_refuses_a_day_after_the_final_day(job, experiment, day_after):
    """The refusal comes before any Spark work (no session is passed)."""
    import importlib

    from include.settings import load_settings
    from spark_jobs.run import job_module

    main = importlib.import_module(job_module(job)).main
    with pytest.raises(ValueError, match=f"experiment {experiment} concluded on"):
        main(None, day_after, load_settings(), {"experiment": experiment})
