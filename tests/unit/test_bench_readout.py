"""The readout benchmark's synthetic users are what it says: contract tables, the stated
shares outside the clean cohort, rows consistent with seed 001 / 002's rules."""

from __future__ import annotations

from datetime import date, datetime

from bench.bench_readout import CONTAMINATED, DUPLICATE, INELIGIBLE, synth_saas, synth_shop
from include.experiments import load_experiment
from include.table_catalog_experiments import USER_OUTCOMES, details_contract, outcomes_contract
from include.tables import check_schema

DS = "2024-02-15"
ROWS = 4000


def test_saas_outcomes_and_details_follow_their_contracts_and_the_funnel(spark):
    from pyspark.sql import functions as F

    spec = load_experiment("homepage_cta_test")
    outcomes, details = synth_saas(spark, spec, DS, ROWS, seed=3)
    check_schema(outcomes, outcomes_contract(spec.name))  # raises on any column / type gap
    check_schema(details, details_contract(spec.name))
    rows = [r.asDict() for r in outcomes.collect()]
    assert len(rows) == ROWS
    assert {r["variant"] for r in rows} == {"control", "treatment"}
    assert {r["ds"] for r in rows} == {DS}
    start, end = spec.start_date, date.fromisoformat(DS)
    for r in rows:
        assert start <= r["exposure_date"] <= end
        # the funnel's order: converted -> activated, booked -> converted, dates not before
        assert r["is_converted"] <= r["is_activated"] and r["new_booking_flag"] <= r["is_converted"]
        if r["is_activated"]:
            assert r["exposure_date"] <= r["activation_date"] <= end
        if r["is_converted"]:
            assert r["activation_date"] <= r["conversion_date"] <= end
        assert (float(r["nb_mrr"]) > 0) == bool(r["new_booking_flag"])
    clean = [
        r for r in rows
        if r["is_eligible_visitor"] == 1 and r["duplication_rank"] == 1
        and r["contamination_flag"] == "Not Contaminated"
    ]  # fmt: skip
    expected = ROWS * (1 - CONTAMINATED) * (1 - DUPLICATE) * (1 - INELIGIBLE)
    assert abs(len(clean) - expected) < 4 * (ROWS * 0.05) ** 0.5  # binomial, ~4 sd
    # details: exactly the clean cohort, one row each, usage only where there is an account
    assert details.count() == len(clean)
    assert details.where(F.col("user_id").isNull() & F.col("logins").isNotNull()).count() == 0
    assert (
        details.where(F.col("is_converted") == 0).where(F.col("converted_at").isNotNull()).count()
        == 0
    )


def test_shop_user_outcomes_follow_the_contract_and_the_window_rule(spark):
    spec = load_experiment("pdp_redesign")
    df = synth_shop(spark, spec, DS, ROWS, seed=5)
    check_schema(df, USER_OUTCOMES)
    rows = [r.asDict() for r in df.collect()]
    assert len(rows) == ROWS
    known_until = datetime(2024, 2, 16)  # end of ds (naive UTC, as Spark returns it)
    for r in rows:
        assert (r["window_end_at"] - r["first_exposure_at"]).days == spec.outcome_window_days
        assert r["window_complete"] == (r["window_end_at"] <= known_until)
        assert (r["orders"] > 0) == bool(r["purchased"]) == (float(r["revenue"]) > 0)
        assert r["engagement_intensity"] == r["browsing_events"] + 4 * r["orders"]
        assert r["reached_checkout"] == r["purchased"] <= r["added_to_cart"]
    closed = sum(r["window_complete"] for r in rows)
    assert 0 < closed < ROWS  # both closed and still-open windows, as on a real day
