"""readouts.experiment pure helpers on hand-made gold.{experiment}_aggregated rows (no Spark)."""

from __future__ import annotations

import math

import pytest

from include.experiments import parse_experiment
from spark_jobs.readouts import experiment as job

SPEC = parse_experiment(
    {
        "name": "cta_demo",
        "funnel": "saas",
        "hypothesis": "A clearer CTA lifts activation.",
        "variants": [{"name": "control", "weight": 0.5}, {"name": "treatment", "weight": 0.5}],
        "control": "control",
        "start_date": "2024-01-01",
        "end_date": "2024-01-31",
        "metrics": [
            {"name": "activation", "type": "conversion", "role": "primary"},
            {"name": "new_booking", "type": "conversion", "role": "guardrail"},
            {"name": "nb_mrr", "type": "revenue", "role": "primary"},
        ],
        "segments": ["region", "device_type"],
    }
)


def agg_row(
    variant,
    users,
    activations,
    mrr,
    mrr_sq,
    *,
    segment="overall",
    value="all",
    bookings=None,
    sum_x=0.0,
    sum_x_sq=0.0,
    xy=0.0,
    contaminated=0,
    duplicates=0,
    ds="2024-01-10",
):
    """One aggregated row as the gold job writes it (sums on the clean cohort)."""
    bookings = activations // 2 if bookings is None else bookings
    row = {
        "experiment": "cta_demo",
        "variant": variant,
        "segment": segment,
        "segment_value": value,
        "exposed_rows": users + contaminated + duplicates,
        "contaminated_rows": contaminated,
        "duplicate_rows": duplicates,
        "ineligible_rows": 0,
        "users": users,
        "activations": activations,
        "conversions": bookings,
        "new_bookings": bookings,
        "total_new_mrr": mrr,
        "sum_x": sum_x,
        "sum_x_sq": sum_x_sq,
        "ds": ds,
    }
    for metric, s, sq in (
        ("activation", activations, activations),
        ("new_booking", bookings, bookings),
        ("nb_mrr", mrr, mrr_sq),
    ):
        row.update(
            {
                f"{metric}_n": users,
                f"{metric}_sum": float(s),
                f"{metric}_sum_sq": float(sq),
                f"{metric}_sum_xy": xy,
            }
        )
    return row


ROWS = [
    agg_row("control", 2000, 200, 5000.0, 250_000.0, sum_x=4000.0, sum_x_sq=12_000.0, xy=900.0),
    agg_row(
        "treatment",
        2010,
        260,
        6500.0,
        330_000.0,
        sum_x=4100.0,
        sum_x_sq=12_500.0,
        xy=1200.0,
        contaminated=10,
    ),
    agg_row("control", 1200, 120, 3000.0, 150_000.0, segment="region", value="emea"),
    agg_row("treatment", 1190, 150, 3900.0, 200_000.0, segment="region", value="emea"),
    agg_row("control", 800, 80, 2000.0, 100_000.0, segment="device_type", value="mobile"),
    agg_row("treatment", 820, 110, 2600.0, 130_000.0, segment="device_type", value="mobile"),
]


def test_cells_cover_every_metric_variant_and_segment():
    cells = job.cells_from_rows(ROWS, SPEC)
    keys = {(c["metric"], c["variant"], c["segment"]) for c in cells}
    assert len(cells) == len(keys) == 3 * 2 * 3
    act = next(
        c
        for c in cells
        if c["metric"] == "activation" and c["variant"] == "treatment" and c["segment"] == "overall"
    )
    assert act == {
        "metric": "activation",
        "variant": "treatment",
        "segment": "overall",
        "n": 2010.0,
        "sum": 260.0,
        "sum_sq": 260.0,
        "sum_x": 4100.0,
        "sum_x_sq": 12_500.0,
        "sum_xy": 1200.0,
        # no ratio metric here: no denominator sums
        "sum_d": 0.0,
        "sum_d_sq": 0.0,
        "sum_yd": 0.0,
    }
    assert {c["segment"] for c in cells} == {"overall", "region=emea", "device_type=mobile"}


def test_cells_keep_only_requested_segments():
    cells = job.cells_from_rows(ROWS, SPEC, segments=("region",))
    assert {c["segment"] for c in cells} == {"overall", "region=emea"}


def test_empty_arm_becomes_zero_cells_and_insufficient_data():
    rows = [r for r in ROWS if not (r["variant"] == "treatment" and r["segment"] == "region")]
    cells = job.cells_from_rows(rows, SPEC)
    empty = [c for c in cells if c["variant"] == "treatment" and c["segment"] == "region=emea"]
    assert len(empty) == 3 and all(c["n"] == 0 and c["sum"] == 0 for c in empty)
    result = job.build_result(SPEC, job.ReadoutParams("cta_demo", 0.05, ("region",)), rows, {})
    region = [r for r in result["records"] if r["segment"] == "region=emea"]
    assert {r["status"] for r in region} == {"insufficient_data"}
    assert all(r["p_value"] is None for r in region)


def test_no_rows_at_all_keeps_running():
    result = job.build_result(SPEC, job.ReadoutParams("cta_demo", 0.05, ()), [], {})
    assert result["verdict"].verdict == "keep_running"
    # no units: nothing to judge yet, which is a warning, not a pass
    assert result["trust"].status == "warn"
    assert "cannot be judged" in " ".join(result["trust"].reasons)
    assert result["counts"] == {"control": 0.0, "treatment": 0.0}
    assert all(r["status"] == "insufficient_data" for r in result["records"])


def test_build_result_trust_stats_cuped_and_mrr():
    result = job.build_result(
        SPEC,
        job.ReadoutParams("cta_demo", 0.05, SPEC.segments),
        ROWS,
        {"silver_fct_website_events": "pass"},
    )
    t = result["trust"]
    checks = {c.name: c for c in t.checks}
    assert checks["contamination_rate"].value == pytest.approx(10 / 4020)
    assert checks["sample_ratio_mismatch"].status == "pass"
    assert "quality_gate:silver_fct_website_events" in checks
    overall = {r["metric"]: r for r in result["records"] if r["segment"] == "overall"}
    assert overall["activation"]["control_mean"] == pytest.approx(0.1)
    assert overall["activation"]["variant_mean"] == pytest.approx(260 / 2010)
    assert overall["activation"]["correction"] == "holm"
    assert set(result["cuped"]) == {
        "activation · treatment",
        "new_booking · treatment",
        "nb_mrr · treatment",
    }
    mrr = result["mrr"]["treatment"]
    assert mrr.per_user.estimate == pytest.approx(6500 / 2010 - 5000 / 2000)
    assert mrr.n_total_users == 4010
    assert result["funnel"]["exposed"] == {"control": 2000.0, "treatment": 2010.0}


def test_srm_against_configured_weights_fails_the_verdict():
    rows = [agg_row("control", 2000, 200, 0.0, 0.0), agg_row("treatment", 2600, 260, 0.0, 0.0)]
    result = job.build_result(SPEC, job.ReadoutParams("cta_demo", 0.05, ()), rows, {})
    assert result["trust"].status == "fail"
    assert result["verdict"].verdict == "invalid"


def test_failed_quality_gate_is_invalid():
    gates = job.gate_statuses(
        [
            {"suite": "s", "success": True, "severity": "block"},
            {"suite": "s", "success": False, "severity": "block"},
            {"suite": "w", "success": False, "severity": "warn"},
        ]
    )
    assert gates == {"s": "fail", "w": "warn"}
    result = job.build_result(SPEC, job.ReadoutParams("cta_demo", 0.05, ()), ROWS, gates)
    assert result["verdict"].verdict == "invalid"


def test_only_the_gates_of_the_readouts_inputs_count():
    rows = [
        {"suite": "silver_fct_website_events", "success": True, "severity": "block"},
        {"suite": "gold_mrr_bridge", "success": False, "severity": "block"},
        {"suite": f"gold_experiment_outcomes__{SPEC.name}_outcomes", "success": False,
         "severity": "warn"},
        {"suite": "gold_experiment_outcomes__other_outcomes", "success": False,
         "severity": "block"},
    ]
    gates = job.gate_statuses(rows, job.gate_suites(SPEC))
    expected = {"silver_fct_website_events": "pass"}
    if SPEC.funnel == "saas":
        expected[f"gold_experiment_outcomes__{SPEC.name}_outcomes"] = "warn"
    assert gates == expected  # an unrelated failed bridge does not invalidate the readout


def test_readout_rows_carry_slice_versions_and_verdict():
    result = job.build_result(SPEC, job.ReadoutParams("cta_demo", 0.05, ()), ROWS, {})
    rows = job.readout_rows(SPEC, "2024-01-10", result, {"gold.cta_demo_aggregated": 7})
    assert {r["readout"] for r in rows} == {"experiment_cta_demo"}
    assert {r["readout_id"] for r in rows} == {"experiment_cta_demo:2024-01-10"}
    assert rows[0]["input_versions"] == {"gold.cta_demo_aggregated": 7}
    assert rows[0]["verdict"] == result["verdict"].verdict
    from include.table_catalog import READOUTS
    from include.tables import partition_predicate

    assert partition_predicate(READOUTS, "2024-01-10", {"readout": rows[0]["readout"]}) == (
        "ds = '2024-01-10' AND readout = 'experiment_cta_demo'"
    )


def test_stats_config_from_the_experiment_config():
    cfg = job.stats_config(SPEC, 0.01)
    assert cfg["alpha"] == 0.01 and cfg["control"] == "control"
    # both higher-is-better in the metric library (metrics/metrics.yaml)
    # both higher-is-better and uncapped in the metric library (metrics/metrics.yaml)
    assert cfg["metrics"]["nb_mrr"] == {
        "type": "revenue", "role": "primary", "higher_is_better": True, "cap": None,
        "window_days": None, "unit": "usd"}  # fmt: skip
    assert cfg["metrics"]["new_booking"] == {
        "type": "conversion", "role": "guardrail", "higher_is_better": True,
        "cap": None, "window_days": None, "unit": None}  # fmt: skip
    assert job.verdict_rules(SPEC)["min_sample_per_arm"] == 1000


@pytest.mark.parametrize(
    "params, message",
    [
        ({"experiment": "cta_demo", "alpha": 0.5}, "alpha must be in"),
        ({"experiment": "cta_demo", "alpha": "x"}, "alpha must be a number"),
        ({"experiment": "cta_demo", "alpha": 0}, "alpha must be in"),
        ({"experiment": "cta_demo", "segments": ["plan"]}, "unknown segments"),
        ({"experiment": "other"}, "config 'cta_demo'"),
        ({"experiment": "cta_demo", "colour": 1}, "unknown params"),
    ],
)
def test_params_are_validated(params, message):
    with pytest.raises(ValueError, match=message):
        job.parse_params(params, SPEC)


def test_params_defaults_and_comma_separated_segments():
    assert job.parse_params({"experiment": "cta_demo"}, SPEC) == job.ReadoutParams(
        "cta_demo", 0.05, ("region", "device_type")
    )
    run = job.parse_params(
        {"experiment": "cta_demo", "alpha": "0.1", "segments": "device_type, region"}, SPEC
    )
    assert run == job.ReadoutParams("cta_demo", 0.1, ("device_type", "region"))


def test_cumulative_series_from_as_of_partitions():
    """Differenced as-of states, re-accumulated, give back each day's cumulative state."""
    days = {
        "2024-01-01": [
            agg_row("control", 100, 10, 0.0, 0.0, ds="2024-01-01"),
            agg_row("treatment", 100, 12, 0.0, 0.0, ds="2024-01-01"),
        ],
        "2024-01-03": [
            agg_row("control", 300, 30, 0.0, 0.0, ds="2024-01-03"),
            agg_row("treatment", 310, 40, 0.0, 0.0, ds="2024-01-03"),
        ],
        "2024-01-02": [agg_row("control", 200, 20, 0.0, 0.0, ds="2024-01-02")],  # empty arm
    }
    series = job.cumulative_series(days, SPEC, 0.05)["activation"]["treatment"]
    assert [r["day"] for r in series] == ["2024-01-01", "2024-01-02", "2024-01-03"]
    assert [r["control_n"] for r in series] == [100, 200, 300]
    assert [r["treatment_n"] for r in series] == [100, 0, 310]
    assert series[2]["treatment_mean"] == pytest.approx(40 / 310)
    assert series[1]["status"] == "insufficient_data"
    assert not math.isnan(series[2]["p_value"])


def test_window_start_and_readout_name():
    assert job.window_start(SPEC, "2023-12-31") is None
    assert job.window_start(SPEC, "2024-02-10") == "2024-01-01"
    assert job.readout_name("cta_demo") == "experiment_cta_demo"
    with pytest.raises(ValueError):
        job.readout_name("x" * 60)


# --------------------------------------------------------------------------- logistic model
def test_logistic_model_from_user_outcomes_patterns(spark, lakehouse_env):
    """Seed 002's model for a shop experiment: the readout groups the clean cohort of
    gold.user_outcomes by (variant, engagement_intensity) and fits on the patterns; the
    estimates equal statsmodels' Logit on the user rows themselves."""
    import numpy as np
    import pandas as pd
    import statsmodels.api as sm

    from include.experiments import load_experiment
    from include.table_catalog_experiments import USER_OUTCOMES
    from include.tables import write_partition
    from spark_jobs.readouts.experiment import _logit_patterns, logistic_result

    spec = load_experiment("pdp_redesign")
    ds = "2024-01-20"
    rng = np.random.default_rng(5)
    n = 2000
    treated = rng.integers(0, 2, n)
    intensity = rng.poisson(3, n) + 1
    p = 1 / (1 + np.exp(-(-2.5 + 0.3 * treated + 0.25 * intensity)))
    bought = (rng.random(n) < p).astype(int)
    variant = np.where(treated == 1, "treatment", "control")
    base = {"experiment": spec.name, "first_exposure_at": None, "window_end_at": None,
            "orders": 0, "revenue": None, "device_type": "desktop",
            "country": "US", "utm_source": "google", "ds": ds}
    rows = [
        {**base, "person_id": f"u{i}", "variant": variant[i], "window_complete": True,
         "purchased": int(bought[i]), "browsing_events": int(intensity[i]),
         # seed 002's intensity counts the purchase's own steps too: not the model's input
         "engagement_intensity": int(intensity[i]) + 4 * int(bought[i]),
         "contamination_flag": "Not Contaminated"}
        for i in range(n)
    ]
    # left out of the model: a contaminated user, an open window, another experiment
    rows += [
        {**base, "person_id": "x1", "variant": "treatment", "window_complete": True,
         "purchased": 1, "browsing_events": 50, "contamination_flag": "Multiple Variants"},
        {**base, "person_id": "x2", "variant": "treatment", "window_complete": False,
         "purchased": 1, "browsing_events": 50, "contamination_flag": "Not Contaminated"},
        {**base, "experiment": "other_test", "person_id": "x3", "variant": "treatment",
         "window_complete": True, "purchased": 1, "browsing_events": 50,
         "contamination_flag": "Not Contaminated"},
    ]
    df = spark.createDataFrame(rows, USER_OUTCOMES.spark_schema())
    for name in (spec.name, "other_test"):
        last = write_partition(spark, df.where(f"experiment = '{name}'"), USER_OUTCOMES, ds,
                               lakehouse_env, {"experiment": name})["version"]
    versions: dict = {}
    patterns = _logit_patterns(spark, spec, ds, lakehouse_env, versions)
    assert versions == {"gold.user_outcomes": last}  # pinned and recorded
    assert sum(p["n"] for p in patterns) == n and len(patterns) < 40
    res = logistic_result(patterns, spec, 0.05)

    users = pd.DataFrame({"purchase": bought, "treatment": treated.astype(float),
                          "browsing_events": intensity.astype(float)})
    ref = sm.Logit(users["purchase"],
                   sm.add_constant(users[["treatment", "browsing_events"]])).fit(disp=0)
    assert res.status == "ok" and res.n_obs == n
    for name in ("const", "treatment", "browsing_events"):
        assert res.coefficient(name).coef == pytest.approx(ref.params[name], rel=1e-9)
        assert res.coefficient(name).p_value == pytest.approx(ref.pvalues[name], rel=1e-8)
    assert res.coefficient("treatment").odds_ratio == pytest.approx(
        np.exp(ref.params["treatment"]), rel=1e-9)


def test_logit_design_codes_each_non_control_arm():
    from dataclasses import replace

    from include.experiments import Variant, load_experiment
    from spark_jobs.readouts.experiment import logistic_result, logit_design

    spec = load_experiment("pdp_redesign")
    three = replace(spec, variants=(*spec.variants, Variant("bold", 0.0)))
    patterns = [
        {"variant": "control", "browsing_events": 2, "n": 10, "purchases": 1},
        {"variant": "treatment", "browsing_events": 2, "n": 10, "purchases": 3},
        {"variant": "bold", "browsing_events": 4, "n": 5, "purchases": 2},
        {"variant": "ghost", "browsing_events": 4, "n": 5, "purchases": 2},  # not an arm
    ]
    frame, predictors = logit_design(patterns, three)
    assert predictors == ("treatment_treatment", "treatment_bold", "browsing_events")
    assert frame[["treatment_treatment", "treatment_bold"]].values.tolist() == [
        [0.0, 0.0], [1.0, 0.0], [0.0, 1.0]]
    frame2, predictors2 = logit_design(patterns, spec)
    assert predictors2 == ("treatment", "browsing_events")
    assert frame2["treatment"].tolist() == [0.0, 1.0] and frame2["n"].sum() == 20
    # a saas experiment has no logistic model
    assert logistic_result(patterns, load_experiment("homepage_cta_test"), 0.05) is None


# --------------------------------------------------------------------------- deep dive
def _details_rows(spec, ds):
    """Six visitors by hand: 4 converted (2 per arm), M1/M2 retention known or not yet."""
    base = {"experiment": spec.name, "person_id": None, "user_id": None,
            "first_exposure_at": None, "exposure_date": None, "signup_at": None,
            "converted_at": None, "conversion_date": None, "logins": 0, "emails_sent": 0,
            "features_adopted": 0, "tenure_days": 0, "ds": ds}
    rows = [
        # unit, variant, cohort, tenure, converted, promo, m1, m2, usage days, window complete
        ("c1", "control", "2023-12", "14-29d", 1, None, 1, 1, 20, True),
        ("c2", "control", "2023-12", "14-29d", 1, "WELCOME20", 0, None, 3, True),
        ("c3", "control", "2024-01", "0-13d", 0, None, None, None, 0, True),
        ("t1", "treatment", "2023-12", "14-29d", 1, None, 1, None, 10, True),
        ("t2", "treatment", "2024-01", "0-13d", 1, None, None, None, 2, False),
        ("t3", "treatment", "2024-01", "0-13d", 0, None, None, None, 0, True),
    ]
    keys = ("unit_id", "variant", "signup_cohort", "tenure_bucket", "is_converted",
            "promo_type", "m1_retained", "m2_retained", "usage_days", "usage_window_complete")
    return [{**base, **dict(zip(keys, r, strict=True))} for r in rows]


def test_deep_dive_from_the_details_table_by_hand(spark, lakehouse_env):
    import math

    from include.experiments import load_experiment
    from include.table_catalog_experiments import contract_for
    from include.tables import write_partition
    from spark_jobs.readouts.experiment import _details_aggregates, deep_dive_details

    spec = load_experiment("homepage_cta_test")
    ds = "2024-02-20"
    contract = contract_for(spec.name, "details")
    df = spark.createDataFrame(_details_rows(spec, ds), contract.spark_schema())
    version = write_partition(spark, df, contract, ds, lakehouse_env)["version"]
    versions: dict = {}
    agg = _details_aggregates(spark, spec, ds, lakehouse_env, versions)
    assert versions == {contract.qualified_name: version}
    details = deep_dive_details(spec, ds, agg, 0.05)

    ret = {(r.variant, r.period): (r.rate, r.users) for r in details.retention.itertuples()}
    # control M1: c1 yes, c2 no -> 1/2; M2: only c1 known -> 1/1; treatment M1: t1 -> 1/1
    assert ret == {("control", 1): (0.5, 2), ("control", 2): (1.0, 1),
                   ("treatment", 1): (1.0, 1)}
    coh = {(r.variant, r.cohort, r.period): r.rate for r in details.cohorts.itertuples()}
    assert coh == {("control", "2023-12", 1): 0.5, ("control", "2023-12", 2): 1.0,
                   ("treatment", "2023-12", 1): 1.0}
    seg = {(r.dimension, r.segment, r.variant): r for r in details.segments.itertuples()}
    # tenure 14-29d: control 2/2 converted, treatment 1/1; 0-13d: control 0/1, treatment 1/2
    assert (seg[("tenure_bucket", "14-29d", "control")].n,
            seg[("tenure_bucket", "14-29d", "control")].mean) == (2, 1.0)
    t = seg[("tenure_bucket", "0-13d", "treatment")]
    assert (t.n, t.mean) == (2, 0.5)
    assert math.isnan(t.rel_lift)  # control converted nobody in 0-13d: no relative lift
    # usage level over complete windows only (t2's is open): c1 heavy, c2 light, c3 none,
    # t1 regular, t3 none
    usage = {(k[1], k[2]): (r.n, r.mean) for k, r in seg.items() if k[0] == "usage_level"}
    assert usage == {("heavy (15+ days)", "control"): (1, 1.0),
                     ("light (1-4 days)", "control"): (1, 1.0),
                     ("none (0 days)", "control"): (1, 0.0),
                     ("regular (5-14 days)", "treatment"): (1, 1.0),
                     ("none (0 days)", "treatment"): (1, 0.0)}
    assert any("WELCOME20 25%" in n and "no promo 75%" in n for n in details.notes)


def test_deep_dive_lift_matches_the_stats_engine():
    from include.experiments import load_experiment
    from include.stats import SufficientStats, compare
    from spark_jobs.readouts.experiment import deep_dive_details

    spec = load_experiment("homepage_cta_test")
    agg = {"segments": [
        {"dimension": "tenure_bucket", "segment": "0-13d", "variant": "control", "n": 1000,
         "conversions": 100},
        {"dimension": "tenure_bucket", "segment": "0-13d", "variant": "treatment", "n": 980,
         "conversions": 120},
    ]}
    details = deep_dive_details(spec, "2024-02-20", agg, 0.05)
    row = details.segments[details.segments["variant"] == "treatment"].iloc[0]
    ref = compare(SufficientStats.from_counts(1000, 100), SufficientStats.from_counts(980, 120),
                  "conversion", 0.05)
    assert (row.rel_lift, row.rel_ci_low, row.rel_ci_high) == pytest.approx(
        (ref.rel_lift, ref.rel_ci_low, ref.rel_ci_high), rel=1e-12)
    assert details.retention is None and details.cohorts is None
    assert deep_dive_details(spec, "2024-02-20", {}, 0.05) is None


def test_an_empty_readout_says_so_in_one_line_without_numbers():
    """The shop experiment's first day: visitors exposed, none with a closed 7-day window.
    One state (when the first units are due, and why), no figure from the prior alone."""
    from include.experiments import load_experiment
    from include.report.render import render_html, render_markdown

    spec = load_experiment("pdp_redesign")  # starts 2024-01-01, 7-day outcome windows
    run = job.parse_params({"experiment": spec.name}, spec)
    open_rows = [
        {"experiment": spec.name, "variant": v, "segment": "overall", "segment_value": "all",
         "exposed_rows": 40, "contaminated_rows": 0, "open_window_rows": 40, "users": 0,
         "ds": "2024-01-01"}  # fmt: skip
        for v in ("control", "treatment")
    ]
    result = job.build_result(spec, run, open_rows, {}, "2024-01-01")
    assert result["empty_state"] == (
        "80 exposed visitors so far, none with a closed outcome window. A shop visitor "
        "counts once the 7-day window after their first product view has closed (seed "
        "002), so the first units are due from 2024-01-07 (exposures of 2024-01-01, the "
        "start date, close then at the earliest)."
    )
    assert result["verdict"].verdict == "keep_running"
    # no Bayesian or power figure comes from the prior alone
    assert all(r["prob_beat_control"] is None and r["expected_loss"] is None
               and r["power"] is None for r in result["records"])  # fmt: skip
    bundle = job.bundle_for(spec, "2024-01-01", result, {}, {})
    html = render_html(bundle)
    assert "No units yet" in html and "due from 2024-01-07" in html
    assert "P(beat control)" not in html and "Lift by metric" not in html
    assert "No units yet" in render_markdown(bundle) and "| Metric |" not in render_markdown(bundle)

    # with one unit in an arm the page shows the tables again
    open_rows[0] |= {"users": 1}
    assert job.build_result(spec, run, open_rows, {}, "2024-01-08")["empty_state"] is None


def test_an_empty_saas_readout_before_and_after_the_start():
    assert job.empty_state(SPEC, "2023-12-30", {"control": 0, "treatment": 0}, 0) == (
        "The experiment starts on 2024-01-01; its first exposures are due that day."
    )
    state = job.empty_state(SPEC, "2024-01-02", {"control": 0, "treatment": 0}, 3)
    assert state.startswith("3 exposed ids so far, none an eligible visitor of the clean cohort")


def test_decisions_come_from_the_sequential_test_over_the_daily_looks():
    """ROWS (2024-01-10): activation 200/2000 vs 260/2010, pooled 460/4010, z = 0.02935 /
    sqrt(0.11471 * 0.88529 * (1/2000 + 1/2010)) = 2.92, p = 0.0035:
    significant for one fixed-horizon look. cta_demo runs 2024-01-01 to 2024-01-31; its
    decision metrics count outcomes up to the end date, so its last look is the decision
    day 2024-02-01 (end + the late day), not its final day 2024-04-01 (month-2 retention,
    a deep dive): 32 days of information time, so 2024-01-10 is t = 10/32 and
    O'Brien-Fleming spending allows almost nothing yet (first boundary: spent = 4 (1 -
    Phi(2.4977 / sqrt(10/32))) = 1.6e-5, c = Phi^-1(1 - 7.9e-6) = 4.32): the decision waits."""
    from datetime import date

    from include.stats.sequential import boundaries

    assert SPEC.final_day == date(2024, 4, 1)
    assert SPEC.decision_day == date(2024, 2, 1)
    assert job.information_time(SPEC, "2024-01-10") == pytest.approx(10 / 32)
    assert job.information_time(SPEC, "2024-03-15") == 1.0
    run = job.ReadoutParams("cta_demo", 0.05, ())
    fixed = job.build_result(SPEC, run, ROWS, {})  # no ds: the fixed-horizon rows as built
    act = next(r for r in fixed["records"] if r["metric"] == "activation"
               and r["segment"] == "overall")  # fmt: skip
    assert act["significant"] is True and act["statistic"] == pytest.approx(2.92, abs=0.005)

    result = job.build_result(SPEC, run, ROWS, {}, "2024-01-10")
    act = next(r for r in result["records"] if r["metric"] == "activation"
               and r["segment"] == "overall")  # fmt: skip
    # the decision family: 2 primary metrics x 1 arm -> each test at alpha / 2
    c = boundaries([10 / 32], 0.025)[0]
    assert act["sequential"] == {
        "look": 1, "time": pytest.approx(10 / 32), "z": pytest.approx(act["statistic"]),
        "boundary": pytest.approx(c), "alpha": 0.025, "alpha_spent": pytest.approx(
            2 * (2 - 2 * __import__("scipy").stats.norm.cdf(2.4977 / (10 / 32) ** 0.5)),
            rel=1e-3), "crossed_at": None,
    }  # fmt: skip
    assert c == pytest.approx(4.32, abs=0.01) and act["significant"] is False
    assert result["verdict"].verdict == "keep_running"
    assert any("sequential test z=2.92 within the boundary" in r
               for r in result["verdict"].reasons)  # fmt: skip
    # the fixed-horizon numbers stay in the row
    assert act["p_value"] == pytest.approx(0.0035, abs=0.0002)

    # a path of daily looks whose decision-day look crosses: that look (t = 1) spends the
    # rest. A readout after the decision day (2024-03-15, the follow-up still runs) keeps
    # the decision-day look as its last: the later day's statistic is no look at all.
    series = {"activation": {"treatment": [
        {"day": "2024-01-16", "status": "ok", "statistic": 1.2, "control_n": 4000,
         "treatment_n": 4000},
        {"day": "2024-02-01", "status": "ok", "statistic": 2.88, "control_n": 6000,
         "treatment_n": 6000},
        {"day": "2024-03-15", "status": "ok", "statistic": 0.4, "control_n": 6000,
         "treatment_n": 6000},
    ]}}  # fmt: skip
    for ds in ("2024-02-01", "2024-03-15"):
        rows = [dict(r, ds=ds) for r in ROWS]
        final = job.build_result(SPEC, run, rows, {}, ds, None, series)
        act = next(r for r in final["records"] if r["metric"] == "activation"
                   and r["segment"] == "overall")  # fmt: skip
        times = [16 / 32, 1.0]
        assert act["sequential"]["look"] == 2 and act["sequential"]["z"] == 2.88, ds
        assert act["sequential"]["boundary"] == pytest.approx(boundaries(times, 0.025)[1])
        assert act["sequential"]["boundary"] < 2.88 and act["sequential"]["crossed_at"] == 2
        assert act["significant"] is True and final["verdict"].verdict == "ship"
    # the decision day ends the window: a flat result is conclusive from it on
    assert job.verdict_rules(SPEC, "2024-01-31")["window_ended"] is False
    assert job.verdict_rules(SPEC, "2024-02-01")["window_ended"] is True


def test_a_manual_run_is_kept_beside_the_daily_readout():
    assert job.readout_name("cta_demo") == "experiment_cta_demo"
    assert job.readout_name("cta_demo", "manual_0123456789") == (
        "experiment_cta_demo__manual_0123456789"
    )
    params = {"experiment": "cta_demo", "run": "manual_0123456789"}
    assert job.parse_params(params, SPEC).run == "manual_0123456789"
    with pytest.raises(ValueError, match="run must be 'daily' or manual_"):
        job.parse_params({"experiment": "cta_demo", "run": "manual_x; DROP"}, SPEC)
    result = job.build_result(SPEC, job.ReadoutParams("cta_demo", 0.05, ()), ROWS, {})
    rows = job.readout_rows(SPEC, "2024-01-10", result, {}, "manual_0123456789")
    assert {r["readout"] for r in rows} == {"experiment_cta_demo__manual_0123456789"}
    assert {r["readout_id"] for r in rows} == {"experiment_cta_demo__manual_0123456789:2024-01-10"}


def test_sample_ratio_cuped_and_mrr_results_are_rows_too():
    """ROWS: 2000 / 2010 clean users against 50/50: chi2 = (5^2 + 5^2) / 2005 = 0.02494,
    p = 0.8745; CUPED and MRR impact per treatment arm as the page shows them."""
    from include.table_catalog import READOUTS

    result = job.build_result(SPEC, job.ReadoutParams("cta_demo", 0.05, ()), ROWS, {})
    rows = job.readout_rows(SPEC, "2024-01-10", result, {"t": 1})
    diag = {(r["metric"], r["variant"]): r for r in rows if r["role"] == "diagnostic"}
    srm = diag[("sample_ratio", "all")]
    assert srm["statistic"] == pytest.approx(50 / 2005)
    assert srm["p_value"] == pytest.approx(0.8745, abs=1e-4)
    assert (srm["df"], srm["status"], srm["test"]) == (1.0, "pass", "chi2_goodness_of_fit")
    cuped = result["cuped"]["nb_mrr · treatment"].adjusted
    assert diag[("cuped:nb_mrr", "treatment")]["abs_lift"] == pytest.approx(cuped.abs_lift)
    assert diag[("cuped:nb_mrr", "treatment")]["p_value"] == pytest.approx(cuped.p_value)
    mrr = diag[("mrr_impact", "treatment")]
    assert mrr["abs_lift"] == pytest.approx(6500 / 2010 - 5000 / 2000)
    # every row fits the table's columns (no stray key, no NaN)
    names = set(READOUTS.columns)
    for r in rows:
        assert set(r) == names, set(r) ^ names
        assert not any(isinstance(v, float) and not math.isfinite(v) for v in r.values())


def test_a_windowed_metric_gets_no_covariate_over_other_units():
    """conversion_14d is summed over the units whose 14 days have passed; sum_x covers every
    clean unit. Its cell carries no covariate, so CUPED skips it, while activation keeps
    the shared one."""
    row = {"segment": "overall", "variant": "control", "sum_x": 4000.0, "sum_x_sq": 12_000.0,
           "conversion_14d_n": 300, "conversion_14d_sum": 12.0, "conversion_14d_sum_sq": 12.0,
           "conversion_14d_sum_xy": 50.0, "activation_n": 2000, "activation_sum": 200.0,
           "activation_sum_sq": 200.0, "activation_sum_xy": 900.0}  # fmt: skip
    windowed, plain = job.metric_sums(row, "conversion_14d"), job.metric_sums(row, "activation")
    assert (windowed["n"], windowed["sum"]) == (300, 12.0)
    assert (windowed["sum_x"], windowed["sum_x_sq"], windowed["sum_xy"]) == (0.0, 0.0, 0.0)
    assert (plain["sum_x"], plain["sum_x_sq"], plain["sum_xy"]) == (4000.0, 12_000.0, 900.0)
