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
    )
    assert len(rows) == 2 and {r["metric"] for r in rows} == {"signup_rate", "purchase_rate"}
    signup = next(r for r in rows if r["metric"] == "signup_rate")
    assert abs(signup["abs_lift"] - 0.05) < 1e-12 and signup["p_value"] < 0.01
    assert summaries["e"]["verdict"].verdict == "ship"  # +5 pp on 1000/arm: p = 0.0014
    df = spark.createDataFrame(rows, READOUTS.spark_schema())
    assert df.count() == 2 and df.first().input_versions == {"t": 3}


def test_verdicts_wait_for_sample_and_stop_on_contamination():
    flat = [
        {
            "experiment": "e",
            "variant": v,
            "segment": "overall",
            "metric": m,
            "n": 1000.0,
            "sum": 100.0,
            "sum_sq": 100.0,
        }
        for m in ("signup_rate", "purchase_rate")
        for v in ("control", "treatment")
    ]
    _, s = build_rows(flat, [{"experiment": "e", "contaminated": 0}], {}, DS, {})
    assert s["e"]["verdict"].verdict == "keep_running"  # 1000 of the planned 5000 per arm
    _, s = build_rows(flat, [{"experiment": "e", "contaminated": 300}], {}, DS, {})
    assert s["e"]["verdict"].verdict == "invalid"  # 300 / 2300 = 13% > 5% maximum
