"""readouts.web_experiments: units, contamination, sufficient statistics, rows, by hand."""

from __future__ import annotations

import datetime as dt

from include.table_catalog import FCT_WEBSITE_EVENTS, READOUTS
from spark_jobs.readouts.web_experiments import (
    build_rows,
    sufficient_stats,
    trust_counts,
    unit_outcomes,
)

DS = "2024-01-05"


def _ev(unit, action, minute, variant=None, exp="homepage_cta_test"):
    props = {"experiment": exp, "variant": variant} if variant else {}
    return (
        None,
        unit,
        "www.learnlake.io",
        "US",
        "apple",
        action,
        dt.datetime(2024, 1, 5, 10, minute),
        props,
        DS,
    )


def _events(spark):
    rows = [
        # unit 1: control, signs up after exposure
        _ev(1, "page_view", 0),
        _ev(1, "experiment_exposure", 1, "control"),
        _ev(1, "signup", 2),
        # unit 2: treatment, signed up BEFORE exposure only -> not a conversion
        _ev(2, "signup", 0),
        _ev(2, "experiment_exposure", 1, "treatment"),
        _ev(2, "page_view", 3),
        # unit 3: treatment, signs up and purchases after exposure
        _ev(3, "experiment_exposure", 0, "treatment"),
        _ev(3, "signup", 1),
        _ev(3, "purchase", 2),
        # unit 4: saw both variants -> contaminated, excluded from the comparison
        _ev(4, "experiment_exposure", 0, "control"),
        _ev(4, "experiment_exposure", 1, "treatment"),
        _ev(4, "signup", 2),
    ]
    return spark.createDataFrame(rows, FCT_WEBSITE_EVENTS.spark_schema())


def test_unit_outcomes_follow_exposure_order(spark):
    out = {r.logged_out_user_id: r for r in unit_outcomes(_events(spark)).collect()}
    assert (out[1].variant, out[1].signup_rate, out[1].purchase_rate) == ("control", 1, 0)
    assert (out[2].variant, out[2].signup_rate) == ("treatment", 0)
    assert out[2].events_after_exposure == 1.0  # the page_view; exposures do not count
    assert (out[3].signup_rate, out[3].purchase_rate, out[3].events_after_exposure) == (1, 1, 2.0)
    assert out[4].n_variants == 2 and out[4].variant == "control"  # first exposure wins


def test_sufficient_stats_exclude_contaminated_units(spark):
    outcomes = unit_outcomes(_events(spark))
    cells = {(r.metric, r.variant, r.segment): r for r in sufficient_stats(outcomes).collect()}
    signup_t = cells[("signup_rate", "treatment", "overall")]
    assert (signup_t.n, signup_t.sum, signup_t.sum_sq) == (2.0, 1.0, 1.0)
    signup_c = cells[("signup_rate", "control", "overall")]
    assert (signup_c.n, signup_c.sum) == (1.0, 1.0)
    events_t = cells[("events_after_exposure", "treatment", "overall")]
    assert (events_t.sum, events_t.sum_sq) == (3.0, 5.0)  # 1 + 2, 1 + 4
    assert ("signup_rate", "treatment", "dim_device_brand=apple") in cells
    (trust,) = trust_counts(outcomes).collect()
    assert (trust.contaminated, trust.units) == (1, 4)


def test_build_rows_fit_the_readouts_contract(spark):
    cells = [
        {
            "experiment": "e",
            "variant": v,
            "segment": "overall",
            "metric": m,
            "n": 1000.0,
            "sum": s,
            "sum_sq": s,
        }
        for m in ("signup_rate", "purchase_rate")
        for v, s in (("control", 100.0), ("treatment", 150.0))
    ]
    rows, summaries = build_rows(
        cells,
        [{"experiment": "e", "contaminated": 0}],
        {"silver_fct_website_events": "pass"},
        DS,
        {"t": 3},
        {"e": _spec("control", 0.5)},
    )
    assert len(rows) == 2 and {r["metric"] for r in rows} == {"signup_rate", "purchase_rate"}
    signup = next(r for r in rows if r["metric"] == "signup_rate")
    assert abs(signup["abs_lift"] - 0.05) < 1e-12 and signup["p_value"] < 0.01
    # +5 pp on 1000/arm (p = 0.0014) is not a ship from the daily page: it has no verdict
    assert summaries["e"]["verdict"].verdict == "monitor"
    assert {r["verdict"] for r in rows} == {"monitor"}
    assert summaries["e"]["verdict"].reasons[0] == (
        "daily monitor, no verdict: the decision is the experiment readout: "
        "experiments/e/2024-01-05/readout.html"
    )
    df = spark.createDataFrame(rows, READOUTS.spark_schema())
    assert df.count() == 2 and df.first().input_versions == {"t": 3}


def _spec(control: str, control_weight: float):
    from include.experiments import parse_experiment

    other = "treatment" if control == "control" else "control"
    return parse_experiment({
        "name": "e", "funnel": "saas", "control": control, "start_date": "2024-01-01",
        "end_date": "2024-01-31", "exposure_event": "experiment_exposure",
        "variants": [{"name": control, "weight": control_weight},
                     {"name": other, "weight": round(1 - control_weight, 10)}],
        "metrics": [{"name": "conversion", "type": "conversion", "role": "primary"}],
    })  # fmt: skip


def _flat(n_control=1000.0, n_treatment=1000.0, experiment="e"):
    return [
        {"experiment": experiment, "variant": v, "segment": "overall", "metric": m, "n": n,
         "sum": n / 10, "sum_sq": n / 10}  # fmt: skip
        for m in ("signup_rate", "purchase_rate")
        for v, n in (("control", n_control), ("treatment", n_treatment))
    ]


def test_the_split_is_tested_against_the_configured_weights():
    """1000 / 1000 units: consistent with a 50/50 file, a sample-ratio mismatch for an
    80/20 one (expected 1600 / 400: chi2 = 600^2/1600 + 600^2/400 = 1125). Before, the
    daily page tested every split against equal weights."""
    trust = {"experiment": "e", "contaminated": 0}
    _, s = build_rows(_flat(), [trust], {}, DS, {}, {"e": _spec("control", 0.5)})
    assert s["e"]["trust"].status == "pass"
    _, s = build_rows(_flat(), [trust], {}, DS, {}, {"e": _spec("control", 0.8)})
    srm = next(c for c in s["e"]["trust"].checks if c.name == "sample_ratio_mismatch")
    assert srm.status == "fail" and srm.value < 1e-200
    assert s["e"]["verdict"].verdict == "monitor"  # shown, never decided on


def test_the_control_comes_from_the_file_and_an_unknown_experiment_is_not_compared():
    trust = {"experiment": "e", "contaminated": 0}
    # the file names 'treatment' as the control: lifts are control - treatment here
    rows, _ = build_rows(_flat(), [trust], {}, DS, {}, {"e": _spec("treatment", 0.5)})
    assert {(r["control_variant"], r["variant"]) for r in rows} == {("treatment", "control")}
    # no file for 'e': counts only, no comparison and no SRM test
    rows, s = build_rows(_flat(), [trust], {}, DS, {}, {})
    assert {r["status"] for r in rows} == {"missing_control"}
    assert all(r["p_value"] is None for r in rows)
    srm = next(c for c in s["e"]["trust"].checks if c.name == "sample_ratio_mismatch")
    assert (srm.status, srm.reason) == ("warn", "e: no configured weights, the split is not tested")
    assert "has no experiment file (experiments/e.yaml)" in s["e"]["verdict"].reasons[0]


def test_contamination_fails_the_trust_checks_of_the_monitor():
    _, s = build_rows(_flat(), [{"experiment": "e", "contaminated": 300}], {}, DS, {},
                      {"e": _spec("control", 0.5)})  # fmt: skip
    assert s["e"]["trust"].status == "fail"  # 300 / 2300 = 13% > 5% maximum
    assert s["e"]["verdict"].verdict == "monitor"
    assert any("contamination_rate 13.04% exceeds" in r for r in s["e"]["verdict"].reasons)


def test_a_guardrail_drop_is_a_line_of_the_daily_page():
    """Seed 003 guardrails: the drop the daily_growth gate warns on is written on the page,
    with both days' counts; an unflagged row writes nothing."""
    from include.quality_checks import guardrail_drop_rows
    from spark_jobs.readouts.web_experiments import guardrail_notes

    def day(hits, signups, purchases):
        return {"dim_hostname": "all", "website_hits": hits, "signups": signups,
                "purchases": purchases}  # fmt: skip

    # signups 10 -> 0 of 1,000 hits: -100 %, p = 0.5 ** 10 = 0.000977
    notes = guardrail_notes(guardrail_drop_rows([day(1000, 0, 0)], [day(1000, 10, 5)]))
    assert notes == [
        "guardrail signup_conversion_rate (all) down day over day: 0.0100 (10/1000) -> "
        "0.0000 (0/1000), -100.0%, one-sided p = 0.00098"
    ]
    assert guardrail_notes(guardrail_drop_rows([day(1000, 10, 5)], [day(1000, 10, 5)])) == []
    trust = {"experiment": "e", "contaminated": 0}
    _, s = build_rows(_flat(), [trust], {}, DS, {}, {"e": _spec("control", 0.5)}, notes)
    assert s["e"]["verdict"].reasons[-1] == notes[0]
    assert s["e"]["verdict"].verdict == "monitor"
