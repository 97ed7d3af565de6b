"""seed 002 marts on a hand-built shop: user_exposure -> user_outcomes -> aggregated (no Delta).

The world (pdp_redesign, 7-day window, as of ds 2024-01-25):

- v1 (control, guest): first product view 2024-01-10 10:00; browses, buys (49.00) in the
  same session; a page view 1 microsecond before the window closes counts, one at exactly
  7 days does not, and neither does an order at exactly 7 days (99.00) nor a view before
  the exposure. browsing events = view + page view + late page view = 3; engagement
  intensity (every event, seed 002) = 3 + 4 funnel steps = 7. Its product crs_001 has two
  catalog rows: the later one (category "data") wins.
- v2 (treatment): a refunded order 1 second before the window closes (a purchase, no
  revenue) and a failed one (neither); intensity 1 (the exposure view); product crs_002
  ("bootcamp").
- person 9: cookies v3a (control, 09:00) and v3b (treatment, 10:00), both logged in as user
  9 -> one row, 'Multiple Variants', first exposure and variant of v3a; an event carrying
  user id 9 in a session no cookie links is still theirs.
- v4 exposed 2024-01-19 00:00:00: the window ends exactly at the end of ds -> complete; it
  adds to cart and leaves (funnel: cart, no checkout); intensity 2, browsing 1;
  v5 exposed one second later -> still open. Person 9's product crs_999 is not in the
  catalog; v4 / v5 name no product: product_category null ("unknown" as a segment).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import pytest
from chispa import assert_df_equality

from include.experiments import parse_experiment
from spark_jobs.gold.experiments import aggregated, user_exposure, user_outcomes

DS = "2024-01-25"


def pdp_spec():
    return parse_experiment(
        {
            "name": "pdp_redesign",
            "funnel": "shop",
            "variants": [
                {"name": "control", "weight": 0.5},
                {"name": "treatment", "weight": 0.5},
            ],
            "control": "control",
            "start_date": "2024-01-01",
            "end_date": "2024-02-29",
            "exposure_event": "product_view",
            "outcome_window_days": 7,
            "metrics": [
                {"name": "purchase", "type": "conversion", "role": "primary"},
                {"name": "revenue", "type": "revenue", "role": "secondary"},
                {"name": "engagement_intensity", "type": "count", "role": "secondary"},
            ],
            "segments": ["device_type", "product_category"],
        }
    )


def t(s: str) -> datetime:
    return datetime.fromisoformat(s)


def _assignments(spark):
    from include.table_catalog_sources import SILVER_EXPERIMENT_ASSIGNMENTS as C

    rows = [
        ("as1", "v1", None, "control", "2024-01-10 10:00:00"),
        ("as2", "v2", None, "treatment", "2024-01-10 12:00:00"),
        ("as3", "v3a", None, "control", "2024-01-11 09:00:00"),
        ("as4", "v3b", None, "treatment", "2024-01-11 10:00:00"),
        ("as5", "v4", None, "control", "2024-01-19 00:00:00"),
        ("as6", "v5", None, "control", "2024-01-19 00:00:01"),
    ]
    return spark.createDataFrame(
        [
            (aid, "pdp_redesign", var, uid, anon, anon, t(at), at[:10])
            for aid, anon, uid, var, at in rows
        ],
        C.spark_schema(),
    )


def _sessions(spark):
    from include.table_catalog_sources import SILVER_SESSIONS as C

    rows = [
        ("s1", None, "v1", "desktop", "2024-01-10 09:00:00"),
        ("s1b", None, "v1", "desktop", "2024-01-17 09:00:00"),
        ("s2", None, "v2", "mobile", "2024-01-10 12:00:00"),
        ("s3a", 9, "v3a", "mobile", "2024-01-11 09:00:00"),
        ("s3b", 9, "v3b", "tablet", "2024-01-11 10:00:00"),
        ("s4", None, "v4", "desktop", "2024-01-19 00:00:00"),
        ("s5", None, "v5", "desktop", "2024-01-19 00:00:01"),
    ]
    return spark.createDataFrame(
        [(sid, uid, anon, "shop", dev, t(st), t(st), st[:10]) for sid, uid, anon, dev, st in rows],
        C.spark_schema(),
    )


def _web(spark):
    from include.table_catalog import FCT_WEBSITE_EVENTS as C

    def exposure(anon, var):
        return {"experiment": "pdp_redesign", "variant": var, "anonymous_id": anon}

    rows = [
        # (session, user_id, action, time, extra properties, country)
        ("s1", None, "page_view", "2024-01-10 09:00:00", {}, "NL"),  # before exposure
        (
            "s1",
            None,
            "product_view",
            "2024-01-10 10:00:00",
            {**exposure("v1", "control"), "utm_source": "google", "product_id": "crs_001"},
            "NL",
        ),
        ("s1", None, "page_view", "2024-01-10 10:05:00", {}, "NL"),
        ("s1", None, "add_to_cart", "2024-01-10 10:06:00", {}, "NL"),
        ("s1", None, "checkout_start", "2024-01-10 10:07:00", {}, "NL"),
        ("s1", None, "checkout_complete", "2024-01-10 10:08:00", {}, "NL"),
        ("s1", None, "purchase", "2024-01-10 10:09:00", {}, "NL"),
        ("s1b", None, "page_view", "2024-01-17 09:59:59.999999", {}, "NL"),  # last instant
        ("s1b", None, "page_view", "2024-01-17 10:00:00", {}, "NL"),  # exactly 7 days: out
        (
            "s2",
            None,
            "product_view",
            "2024-01-10 12:00:00",
            {**exposure("v2", "treatment"), "product_id": "crs_002"},
            "DE",
        ),
        (
            "s3a",
            9,
            "product_view",
            "2024-01-11 09:00:00",
            {**exposure("v3a", "control"), "product_id": "crs_999"},
            "FR",
        ),
        ("s3b", 9, "product_view", "2024-01-11 10:00:00", exposure("v3b", "treatment"), "FR"),
        ("s3b", 9, "page_view", "2024-01-11 10:30:00", {}, "FR"),
        ("sx", 9, "page_view", "2024-01-12 08:00:00", {}, "FR"),  # by account id only
        ("s4", None, "product_view", "2024-01-19 00:00:00", exposure("v4", "control"), "NL"),
        ("s4", None, "add_to_cart", "2024-01-19 00:10:00", {}, "NL"),  # abandons the cart
        ("s5", None, "product_view", "2024-01-19 00:00:01", exposure("v5", "control"), "NL"),
    ]
    return spark.createDataFrame(
        [
            (
                uid,
                i,
                "shop.example.com",
                country,
                "Apple",
                action,
                t(ts),
                {**props, "session_id": sid},
                ts[:10],
            )
            for i, (sid, uid, action, ts, props, country) in enumerate(rows)
        ],
        C.spark_schema(),
    )


def _orders(spark):
    from include.table_catalog_sources import SILVER_ORDERS as C

    rows = [
        ("o1", "s1", "49.00", "completed", "2024-01-10 10:09:00"),
        ("o2", "s1b", "99.00", "completed", "2024-01-17 10:00:00"),  # exactly 7 days: out
        ("o3", "s2", "30.00", "refunded", "2024-01-17 11:59:59"),  # 1 s before the end: in
        ("o4", "s2", "30.00", "failed", "2024-01-12 10:00:00"),
    ]
    return spark.createDataFrame(
        [
            (oid, None, sid, "crs_001", 1, Decimal(a), st, t(at), at[:10])
            for oid, sid, a, st, at in rows
        ],
        C.spark_schema(),
    )


def _products(spark):
    from include.table_catalog_sources import SILVER_PRODUCTS as C

    rows = [
        ("crs_001", "SQL basics", "course", "49.00", "2024-01-01 00:00:00", "2024-01-01"),
        ("crs_001", "SQL basics", "data", "49.00", "2024-01-05 00:00:00", "2024-01-05"),
        ("crs_002", "Data bootcamp", "bootcamp", "30.00", "2024-01-01 00:00:00", "2024-01-01"),
    ]
    return spark.createDataFrame(
        [(pid, n, cat, Decimal(p), t(u), d) for pid, n, cat, p, u, d in rows], C.spark_schema()
    )


@pytest.fixture(scope="module")
def marts(spark):
    spec = pdp_spec()
    sessions = _sessions(spark)
    web = _web(spark)
    exposure = user_exposure.transform(
        spec, DS, _assignments(spark), sessions, web, _products(spark)
    ).cache()
    outcomes = user_outcomes.transform(spec, DS, exposure, web, sessions, _orders(spark)).cache()
    return spec, exposure, outcomes


def test_user_exposure_one_row_per_person(spark, marts):
    _, exposure, _ = marts
    cols = (
        "person_id",
        "unit_id",
        "unit_ids",
        "variant",
        "first_exposure_at",
        "exposure_ids",
        "variants_seen",
        "contamination_flag",
        "device_type",
        "country",
        "utm_source",
        "product_id",
        "product_category",
    )
    ok, multi = "Not Contaminated", "Multiple Variants"
    expected = spark.createDataFrame(
        [
            (
                "v1",
                "v1",
                ["v1"],
                "control",
                t("2024-01-10 10:00:00"),
                1,
                1,
                ok,
                "desktop",
                "NL",
                "google",
                "crs_001",
                "data",
            ),
            (
                "v2",
                "v2",
                ["v2"],
                "treatment",
                t("2024-01-10 12:00:00"),
                1,
                1,
                ok,
                "mobile",
                "DE",
                None,
                "crs_002",
                "bootcamp",
            ),
            (
                "9",
                "v3a",
                ["v3a", "v3b"],
                "control",
                t("2024-01-11 09:00:00"),
                2,
                2,
                multi,
                "mobile",
                "FR",
                None,
                "crs_999",
                None,
            ),
            (
                "v4",
                "v4",
                ["v4"],
                "control",
                t("2024-01-19 00:00:00"),
                1,
                1,
                ok,
                "desktop",
                "NL",
                None,
                None,
                None,
            ),
            (
                "v5",
                "v5",
                ["v5"],
                "control",
                t("2024-01-19 00:00:01"),
                1,
                1,
                ok,
                "desktop",
                "NL",
                None,
                None,
                None,
            ),
        ],
        exposure.select(*cols).schema,
    )
    assert_df_equality(
        exposure.select(*cols), expected, ignore_row_order=True, ignore_nullable=True
    )


def test_user_outcomes_window_edges_and_intensity(spark, marts):
    _, _, outcomes = marts
    cols = (
        "person_id",
        "variant",
        "window_end_at",
        "window_complete",
        "added_to_cart",
        "reached_checkout",
        "purchased",
        "orders",
        "revenue",
        "engagement_intensity",
        "browsing_events",
        "contamination_flag",
        "product_category",
    )
    ok, multi = "Not Contaminated", "Multiple Variants"
    end = t("2024-01-17 10:00:00"), t("2024-01-17 12:00:00"), t("2024-01-18 09:00:00")
    end4, end5 = t("2024-01-26 00:00:00"), t("2024-01-26 00:00:01")
    zero = Decimal("0.00")
    expected = spark.createDataFrame(
        [
            ("v1", "control", end[0], True, 1, 1, 1, 1, Decimal("49.00"), 7, 3, ok, "data"),
            ("v2", "treatment", end[1], True, 0, 0, 1, 1, zero, 1, 1, ok, "bootcamp"),
            ("9", "control", end[2], True, 0, 0, 0, 0, zero, 4, 4, multi, None),
            ("v4", "control", end4, True, 1, 0, 0, 0, zero, 2, 1, ok, None),
            ("v5", "control", end5, False, 0, 0, 0, 0, zero, 1, 1, ok, None),
        ],
        outcomes.select(*cols).schema,
    )
    assert_df_equality(
        outcomes.select(*cols), expected, ignore_row_order=True, ignore_nullable=True
    )


def test_shop_aggregated_excludes_contaminated_and_open_windows(spark, marts):
    spec, _, outcomes = marts
    agg = aggregated.transform(spec, outcomes, DS).where("segment = 'overall'")
    got = {r.variant: r.asDict() for r in agg.collect()}
    control, treatment = got["control"], got["treatment"]
    # control: v1 (cart, checkout, bought, x=7), v4 (cart only, x=2) clean; person 9
    # contaminated; v5 window open
    assert (control["exposed_rows"], control["contaminated_rows"]) == (4, 1)
    assert (control["open_window_rows"], control["users"], control["purchases"]) == (1, 2, 1)
    assert (control["carts"], control["checkouts"]) == (2, 1)
    assert control["total_revenue"] == Decimal("49.00")
    assert (
        control["purchase_n"],
        control["purchase_sum"],
        control["purchase_intensity_sum_xy"],
    ) == (2, 1.0, 7.0 * 1 + 2.0 * 0)
    assert (control["revenue_sum"], control["revenue_sum_sq"]) == (49.0, 49.0 * 49.0)
    assert (control["intensity_sum"], control["intensity_sum_sq"]) == (9.0, 7.0**2 + 2.0**2)
    assert "sum_x" not in control  # no pre-exposure covariate: the readout skips CUPED
    assert (control["engagement_intensity_sum"], control["engagement_intensity_sum_sq"]) == (
        9.0,
        53.0,
    )
    assert (treatment["users"], treatment["carts"], treatment["checkouts"]) == (1, 0, 0)
    assert (treatment["purchases"], treatment["total_revenue"]) == (1, Decimal("0.00"))
    segments = {
        (r.variant, r.segment_value): r.users
        for r in aggregated.transform(spec, outcomes, DS).where("segment = 'device_type'").collect()
    }
    assert segments == {
        ("control", "desktop"): 2,
        ("control", "mobile"): 0,
        ("treatment", "mobile"): 1,
    }
    by_category = {
        (r.variant, r.segment_value): (r.users, r.carts)
        for r in aggregated.transform(spec, outcomes, DS)
        .where("segment = 'product_category'")
        .collect()
    }
    # v1 "data"; v4 (clean), person 9 (contaminated) and v5 (open) "unknown"; v2 "bootcamp"
    assert by_category == {
        ("control", "data"): (1, 1),
        ("control", "unknown"): (1, 1),
        ("treatment", "bootcamp"): (1, 0),
    }


def test_read_bound_covers_the_last_window():
    spec = pdp_spec()
    assert user_outcomes.read_bound(spec, "2024-01-25") == ("2024-01-01", "2024-01-25")
    # end 2024-02-29, exposure may land on 03-01, its window closes 03-08, late rows +1 day
    assert user_outcomes.read_bound(spec, "2024-06-01") == ("2024-01-01", "2024-03-09")


def test_saas_experiment_is_refused():
    from tests.unit.experiments.helpers import spec

    with pytest.raises(ValueError, match="product_view"):
        user_exposure.require_shop(spec())


def test_contracts_follow_the_funnel():
    from include.table_catalog_experiments import contract_for

    shop = contract_for("pdp_redesign", "aggregated")
    assert {"purchases", "purchase_n", "revenue_intensity_sum_xy"} <= set(shop.columns)
    assert "sum_x" not in shop.columns
    with pytest.raises(ValueError, match="no base table"):
        contract_for("pdp_redesign", "base")
    details_c = contract_for("homepage_cta_test", "details")
    assert {"tenure_bucket", "m1_retained", "m2_retained", "promo_type"} <= set(details_c.columns)


def test_shop_segments_must_exist_on_user_outcomes():
    raw = {
        "name": "shop_x", "funnel": "shop", "control": "a", "start_date": "2024-01-01",
        "end_date": "2024-01-31",
        "variants": [{"name": "a", "weight": 0.5}, {"name": "b", "weight": 0.5}],
        "metrics": [{"name": "purchase", "type": "conversion", "role": "primary"}],
        "segments": ["region"],
    }
    with pytest.raises(ValueError, match="shop segments"):
        parse_experiment(raw)
