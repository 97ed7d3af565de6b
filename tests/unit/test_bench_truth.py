"""The truth run's checks and its world, on hand-made readout rows and manifests.

The run itself (12 generated days through the daily DAG's jobs, about half an hour on 2
cores) is ``bench/bench_truth.py``; these tests pin what it calls a pass and a miss.
"""

from __future__ import annotations

from datetime import date

import pytest

from include.generator.worlds import compact_world, truth_world
from include.truth_check import compare, judge, planted_verdict, realised_lifts
from tests.unit.experiments.helpers import spec

SHOP = {
    "name": "pdp_redesign",
    "funnel": "shop",
    "exposure_event": "product_view",
    "start_date": "2024-01-01",
    "end_date": "2024-01-03",
    "metrics": [
        {"name": "purchase", "type": "conversion", "role": "primary"},
        {"name": "revenue", "type": "revenue", "role": "guardrail"},
        {"name": "engagement_intensity", "type": "count", "role": "secondary"},
    ],
    "segments": ["device_type"],
    "activation_lookback_days": 0,
}


def _row(metric, role, low, high, verdict, lift=None, status="ok"):
    return {"metric": metric, "role": role, "variant": "treatment", "control_n": 2000,
            "variant_n": 2000, "rel_lift": lift, "rel_ci_low": low, "rel_ci_high": high,
            "p_value": 0.001, "significant": True, "status": status,
            "verdict": verdict}  # fmt: skip


def test_the_planted_verdict_is_ship_only_for_a_win_with_no_loss():
    assert planted_verdict({"activation:treatment": 0.8, "conversion:treatment": 0.8}) == "ship"
    assert planted_verdict({"purchase:treatment": -0.5}) == "do_not_ship"
    assert planted_verdict({"purchase:treatment": 0.0}) == "do_not_ship"  # flat
    assert planted_verdict({"a:treatment": 0.2, "b:treatment": -0.1}) == "do_not_ship"


def test_a_planted_loss_inside_its_interval_with_the_planted_verdict_passes():
    s = spec(**SHOP)
    planted = {"purchase": {"treatment": -0.5}, "revenue": {"treatment": -0.5}}
    rows = [_row("purchase", "primary", -0.62, -0.31, "do_not_ship", -0.47),
            _row("revenue", "guardrail", -0.70, -0.20, "do_not_ship", -0.45),
            _row("engagement_intensity", "secondary", -0.1, 0.1, "do_not_ship")]  # fmt: skip
    res = compare(s, planted, {}, rows)
    assert res["passed"] and res["verdict"] == res["planted_verdict"] == "do_not_ship"
    assert res["decision_day"] == "2024-01-12"  # 01-03 + 7-day window + 2 late days
    # primary and guardrail rows are compared; the secondary metric is not
    assert [(m["metric"], m["inside"]) for m in res["metrics"]] == [
        ("purchase", True), ("revenue", True)]


def test_a_primary_lift_outside_its_interval_or_another_verdict_fails():
    s = spec(**SHOP)
    planted = {"purchase": {"treatment": -0.5}}
    outside = [_row("purchase", "primary", -0.30, -0.05, "do_not_ship"),
               _row("revenue", "guardrail", -0.3, 0.1, "do_not_ship")]  # fmt: skip
    res = compare(s, planted, {}, outside)
    assert not res["passed"] and res["misses"] == [
        "purchase (treatment): planted -50.0% outside [-30.0%, -5.0%]"]
    wrong = [_row("purchase", "primary", -0.6, -0.3, "keep_running"),
             _row("revenue", "guardrail", -0.3, 0.1, "keep_running")]  # fmt: skip
    res = compare(s, planted, {}, wrong)
    assert res["misses"] == ["verdict keep_running, planted do_not_ship"]
    # a guardrail's interval missing its planted lift is reported, not a miss
    guard = [_row("purchase", "primary", -0.6, -0.3, "do_not_ship"),
             _row("revenue", "guardrail", -0.3, 0.1, "do_not_ship")]  # fmt: skip
    res = compare(s, {"purchase": {"treatment": -0.5}, "revenue": {"treatment": -0.5}}, {},
                  guard)  # fmt: skip
    assert res["passed"] and res["metrics"][1]["inside"] is False


def test_a_metric_without_an_interval_is_reported_not_judged_and_rows_must_agree():
    s = spec(end_date="2024-01-08")  # the SaaS helper: activation, conversion primary...
    primaries = [m.name for m in s.metrics if m.role == "primary"]
    planted = {m: {"treatment": 0.8} for m in primaries}
    rows = [_row(m.name, m.role, None, None, "ship", status="zero_variance")
            for m in s.metrics]  # fmt: skip
    rows[0] = _row(primaries[0], "primary", 0.3, 1.2, "ship", 0.7)
    res = compare(s, planted, {}, rows)
    assert res["passed"], res["misses"]
    assert [m["inside"] for m in res["metrics"] if m["role"] == "primary"] == [True] + [None] * (
        len(primaries) - 1)
    rows[1] = dict(rows[1], verdict="keep_running")
    with pytest.raises(ValueError, match="disagree on the verdict"):
        compare(s, planted, {}, rows)
    with pytest.raises(ValueError, match="no readout row"):
        compare(s, planted, {}, [rows[0]])


def test_realised_lifts_sum_the_daily_cohorts_of_the_manifests():
    # day 1: control 10/100, treatment 15/100; day 2: control 10/100, treatment 21/100
    # -> control 20/200 = 0.10, treatment 36/200 = 0.18: +80 %; no purchases at all -> None
    manifests = [
        {"experiments": {"x": {"exposed_today": {
            "control": {"exposed": 100, "realized_activations_by_end": 10},
            "treatment": {"exposed": 100, "realized_activations_by_end": 15}}}}},
        {"experiments": {"x": {"exposed_today": {
            "control": {"exposed": 100, "realized_activations_by_end": 10},
            "treatment": {"exposed": 100, "realized_activations_by_end": 21}}}}},
        {"experiments": {}},
    ]  # fmt: skip
    out = realised_lifts("saas", manifests, "x", "control")
    assert out["activation"]["treatment"] == pytest.approx(0.8)
    assert out["conversion"] == {"treatment": None}


def test_the_truth_world_decides_both_experiments_within_its_days(tmp_path):
    world = truth_world()
    specs = world.specs()
    assert specs["homepage_cta_test"].decision_day == date(2024, 1, 9)  # 01-08 + 1 late day
    assert specs["pdp_redesign"].decision_day == date(2024, 1, 12)  # 01-03 + 7 + 2
    assert world.days()[0] == "2024-01-01" and world.days()[-1] == "2024-01-12"
    assert len(world.days()) == 12
    # the pipeline's files are the repository's, with the world's dates
    folder = world.write_experiments(tmp_path)
    text = (folder / "pdp_redesign.yaml").read_text()
    assert "start_date: '2024-01-01'" in text and "end_date: '2024-01-03'" in text
    assert "outcome_window_days: 7" in text
    gen = {e.name: e for e in world.generator.experiments}
    assert gen["homepage_cta_test"].effect("treatment", "activation") == 0.8
    assert gen["pdp_redesign"].effect("treatment", "purchase") == -0.5
    assert gen["pdp_redesign"].effect("control", "purchase") == 0.0


def test_the_truth_world_reports_the_14_day_guardrail_as_secondary(tmp_path):
    """A 14-day guardrail would hold the 8-day experiment's decision to 01-08 + 13 + 1 =
    01-22; the world names it secondary, so the decision stays on 01-09."""
    import yaml

    folder = truth_world().write_experiments(tmp_path)
    doc = yaml.safe_load((folder / "homepage_cta_test.yaml").read_text())
    roles = {m["name"]: m["role"] for m in doc["metrics"]}
    assert roles["support_tickets_14d"] == "secondary" and roles["new_booking"] == "guardrail"
    gen = {e.name: e for e in truth_world().generator.experiments}
    assert gen["homepage_cta_test"].effect("treatment", "support_tickets_14d") == -0.5


def test_the_compact_world_decides_both_experiments_in_five_days(tmp_path):
    """make demo's world: homepage 01-01 .. 01-04, decided on 01-04 + 1 late day = 01-05;
    pdp_redesign 01-01 .. 01-02 with a 1-day outcome window, decided on 01-02 + 1 + 2 late
    days = 01-05; so five days, at the truth world's scale and lifts."""
    import yaml

    world = compact_world()
    specs = world.specs()
    assert specs["homepage_cta_test"].decision_day == date(2024, 1, 5)
    assert specs["pdp_redesign"].decision_day == date(2024, 1, 5)
    assert specs["pdp_redesign"].outcome_window_days == 1
    assert world.days() == [f"2024-01-0{d}" for d in range(1, 6)]
    assert world.generator.events_per_day == 50_000
    assert world.generator.funnel.signup_share == 0.4  # five times the default's signups
    doc = yaml.safe_load((world.write_experiments(tmp_path) / "pdp_redesign.yaml").read_text())
    assert (doc["end_date"], doc["outcome_window_days"]) == ("2024-01-02", 1)
    gen = {e.name: e for e in world.generator.experiments}
    assert gen["homepage_cta_test"].effect("treatment", "activation") == 0.8
    assert gen["pdp_redesign"].effect("treatment", "purchase") == -0.5


def test_a_world_cannot_give_a_role_to_a_metric_the_experiment_does_not_name():
    import dataclasses

    bad = dataclasses.replace(truth_world(), roles={"homepage_cta_test": {"refunds": "primary"}})
    message = r"world truth: homepage_cta_test has no metric \['refunds'\]"
    with pytest.raises(ValueError, match=message):
        bad.experiment_documents()


def test_judge_takes_the_planted_lifts_and_the_sample_from_the_manifests():
    s = spec(**SHOP)
    # day 1: control 10/100 purchases, treatment 5/100 -> the sample holds -50 %
    manifests = [{"experiments": {"pdp_redesign": {
        "planted_relative_lift": {"purchase": {"treatment": -0.5}},
        "exposed_today": {"control": {"exposed": 100, "realized_purchases": 10},
                          "treatment": {"exposed": 100, "realized_purchases": 5}}}}}]  # fmt: skip
    rows = [_row("purchase", "primary", -0.7, -0.2, "do_not_ship", -0.5),
            _row("revenue", "guardrail", -0.3, 0.1, "do_not_ship")]  # fmt: skip
    res = judge(s, manifests, rows)
    assert res["passed"] and res["metrics"][0]["realised"] == pytest.approx(-0.5)
    with pytest.raises(ValueError, match="no manifest plants anything"):
        judge(s, [{"experiments": {}}], rows)


def test_a_planted_secondary_metric_is_compared_and_reported():
    """revenue_per_order (secondary) with a planted lift is compared like a guardrail:
    reported inside or outside, never a miss; engagement_intensity (secondary, nothing
    planted) is not compared."""
    ratio = {"name": "revenue_per_order", "role": "secondary"}
    s = spec(**{**SHOP, "metrics": [*SHOP["metrics"], ratio]})
    planted = {"purchase": {"treatment": -0.5}, "revenue_per_order": {"treatment": 0.0}}
    rows = [_row("purchase", "primary", -0.62, -0.31, "do_not_ship", -0.47),
            _row("revenue", "guardrail", -0.70, -0.20, "do_not_ship", -0.45),
            _row("engagement_intensity", "secondary", -0.1, 0.1, "do_not_ship"),
            _row("revenue_per_order", "secondary", -0.08, 0.05, "do_not_ship", -0.01)]  # fmt: skip
    res = compare(s, planted, {}, rows)
    assert res["passed"]
    assert [(m["metric"], m["inside"]) for m in res["metrics"]] == [
        ("purchase", True), ("revenue", False), ("revenue_per_order", True)]  # fmt: skip
    rows[-1] = _row("revenue_per_order", "secondary", 0.02, 0.15, "do_not_ship", 0.08)
    outside = compare(s, planted, {}, rows)
    assert outside["passed"] and outside["metrics"][-1]["inside"] is False


def test_the_generator_plants_revenue_per_order_from_the_revenue_and_purchase_lifts():
    from include.generator.truth import experiment_section

    world = truth_world()
    section = experiment_section(world.generator, date(2024, 1, 2), None, None, {})
    # an order's amount moves by (1 - 0.5) / (1 - 0.5): revenue per order is flat
    assert section["pdp_redesign"]["planted_relative_lift"]["revenue_per_order"] == {
        "treatment": 0.0}  # fmt: skip
    from include.generator.config import GeneratorConfig

    default = GeneratorConfig().validate()  # purchase +5 %, revenue +5 %: flat as well
    lifted = experiment_section(default, date(2024, 1, 2), None, None, {})
    assert lifted["pdp_redesign"]["planted_relative_lift"]["revenue_per_order"] == {
        "treatment": pytest.approx(1.05 / 1.05 - 1)}  # fmt: skip
