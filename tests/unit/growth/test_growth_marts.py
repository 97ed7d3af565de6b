"""Growth marts (seed 003) and gold.agg_website_events on hand-made events."""

from __future__ import annotations

from datetime import datetime

import pytest
from chispa import assert_df_equality

from include.table_catalog import FCT_WEBSITE_EVENTS
from spark_jobs.gold import agg_website_events
from spark_jobs.gold.growth import daily_growth, traffic_breakdown

DS = "2024-01-10"
IO, COM = "www.learnlake.io", "www.learnlake.com"


def events(spark, rows):
    """rows: (hostname, action, country, brand, hour, referrer, utm_source)."""
    data = []
    for i, (host, action, country, brand, hour, ref, utm) in enumerate(rows):
        props = {"event_id": f"e{i}", "session_id": f"s{i}"}
        if ref is not None:
            props["referrer"] = ref
        if utm is not None:
            props["utm_source"] = utm
        data.append(
            (None, 1000 + i, host, country, brand, action, datetime(2024, 1, 10, hour, i), props,
             DS)
        )  # fmt: skip
    return spark.createDataFrame(data, FCT_WEBSITE_EVENTS.spark_schema())


ROWS = [
    (IO, "landing_page", "US", "apple", 9, "https://www.linkedin.com/feed", "linkedin"),
    (IO, "page_view", "US", "apple", 9, "https://www.linkedin.com/", "linkedin"),
    (IO, "page_view", "GB", "windows", 10, None, None),
    (IO, "signup", "GB", "windows", 10, None, None),
    (IO, "login", "US", "apple", 11, None, None),
    (IO, "purchase", "US", "apple", 11, None, None),
    (COM, "page_view", "DE", "android", 9, "https://learnlake.substack.com/p/1", "substack"),
    (COM, "login", "DE", "android", 9, None, None),  # hits but no signup: rate 0/1 and 0/0
    ("www.learnlake.net", "signup", "DE", "android", 9, None, None),  # no hits: rate x/0
]


def test_daily_growth_rates_and_zero_denominators(spark):
    got = daily_growth.transform(events(spark, ROWS), DS)
    expected = spark.createDataFrame(
        [
            (IO, 3, 1, 1, 1 / 3, 1.0, DS),
            (COM, 1, 0, 0, 0.0, None, DS),  # 0 signups: purchase rate undefined
            ("www.learnlake.net", 0, 1, 0, None, 0.0, DS),  # 0 hits: signup rate undefined
            ("all", 4, 2, 1, 0.5, 0.5, DS),  # from summed counts, not averaged rates
        ],
        daily_growth.DAILY_GROWTH.spark_schema(),
    )
    assert_df_equality(
        got.select(*expected.columns), expected, ignore_row_order=True, ignore_nullable=True
    )


def test_traffic_breakdown_by_referrer(spark):
    got = traffic_breakdown.transform(events(spark, ROWS), DS)
    expected = spark.createDataFrame(
        [
            (IO, "www.linkedin.com", "linkedin", 2, 2 / 3, DS),
            (IO, "(direct)", "(none)", 1, 1 / 3, DS),
            (COM, "learnlake.substack.com", "substack", 1, 1.0, DS),
            ("all", "www.linkedin.com", "linkedin", 2, 0.5, DS),
            ("all", "(direct)", "(none)", 1, 0.25, DS),
            ("all", "learnlake.substack.com", "substack", 1, 0.25, DS),
        ],
        traffic_breakdown.TRAFFIC_BREAKDOWN.spark_schema(),
    )
    assert_df_equality(
        got.select(*expected.columns), expected, ignore_row_order=True, ignore_nullable=True
    )


@pytest.fixture(scope="module")
def agg(spark):
    return agg_website_events.transform(events(spark, ROWS), DS).cache()


def test_agg_website_events_levels(agg):
    levels = {r.aggregation_level for r in agg.select("aggregation_level").distinct().collect()}
    assert levels == {agg_website_events.level_name(g) for g in agg_website_events.GROUPING_SETS}
    # dimensions outside a level's grouping are null, dimensions inside are not
    for grouping in agg_website_events.GROUPING_SETS:
        level = agg_website_events.level_name(grouping)
        for r in agg.where(f"aggregation_level = '{level}'").collect():
            for dim in agg_website_events.DIMENSIONS:
                assert (r[dim] is not None) == (dim in grouping), (level, dim)


def test_agg_website_events_counts_by_hand(agg):
    def counts(level, *dims):
        return {
            tuple(r[d] for d in dims): r.m_total_events
            for r in agg.where(f"aggregation_level = '{level}'").collect()
        }

    assert counts("overall") == {(): 9}
    assert counts("dim_country", "dim_country") == {("US",): 4, ("GB",): 2, ("DE",): 3}
    assert counts("event_hour", "event_hour") == {(9,): 5, (10,): 2, (11,): 2}
    assert counts("dim_action_type__dim_country", "dim_action_type", "dim_country") == {
        ("landing_page", "US"): 1,
        ("page_view", "US"): 1,
        ("page_view", "GB"): 1,
        ("page_view", "DE"): 1,
        ("signup", "GB"): 1,
        ("signup", "DE"): 1,
        ("login", "US"): 1,
        ("login", "DE"): 1,
        ("purchase", "US"): 1,
    }
    assert counts("dim_country__dim_device_brand", "dim_country", "dim_device_brand") == {
        ("US", "apple"): 4,
        ("GB", "windows"): 2,
        ("DE", "android"): 3,
    }


def test_agg_website_events_overall_is_the_largest_rollup(agg):
    from pyspark.sql import functions as F

    overall = agg.where("aggregation_level = 'overall'").first().m_total_events
    per_level = agg.groupBy("aggregation_level").agg(F.sum("m_total_events").alias("total"))
    for r in per_level.collect():
        assert r.total == overall  # every level partitions the same events
    largest_slice = agg.where("aggregation_level != 'overall'").agg(F.max("m_total_events"))
    assert largest_slice.first()[0] <= overall
