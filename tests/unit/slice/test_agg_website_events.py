"""gold.agg_website_events: grouping-set levels and counts worked out by hand."""

from __future__ import annotations

import datetime as dt

from include.table_catalog import FCT_WEBSITE_EVENTS
from spark_jobs.gold.agg_website_events import GROUPING_SETS, level_name, transform

DS = "2024-01-05"


def test_levels_and_counts(spark):
    def ev(action, country, brand, hour):
        return (
            None,
            1,
            "www.learnlake.io",
            country,
            brand,
            action,
            dt.datetime(2024, 1, 5, hour),
            {},
            DS,
        )

    events = spark.createDataFrame(
        [
            ev("signup", "US", "apple", 9),
            ev("signup", "US", "windows", 9),
            ev("page_view", "GB", "apple", 10),
        ],
        FCT_WEBSITE_EVENTS.spark_schema(),
    )
    rows = transform(events, DS).collect()
    levels = {r.aggregation_level for r in rows}
    assert levels == {level_name(g) for g in GROUPING_SETS}
    by = {
        (
            r.aggregation_level,
            r.dim_action_type,
            r.dim_country,
            r.dim_device_brand,
            r.event_hour,
        ): r.m_total_events
        for r in rows
    }
    assert by[("overall", None, None, None, None)] == 3
    assert by[("dim_action_type", "signup", None, None, None)] == 2
    assert by[("dim_country", None, "GB", None, None)] == 1
    assert by[("event_hour", None, None, None, 9)] == 2
    assert by[("dim_action_type__dim_country", "signup", "US", None, None)] == 2
    # every level partitions the same 3 events
    for level in levels:
        assert sum(r.m_total_events for r in rows if r.aggregation_level == level) == 3


def test_distinct_users_next_to_hits(spark):
    """Seed 003 "how many people": visitors by logged_out_user_id, worked out by hand.

    A (1): signup US apple 09h, page_view US apple 10h; B (2): signup US windows 09h;
    C (3): page_view GB apple 10h. 4 events, 3 people.
    """

    def ev(visitor, action, country, brand, hour):
        return (None, visitor, "www.learnlake.io", country, brand, action,
                dt.datetime(2024, 1, 5, hour), {}, DS)  # fmt: skip

    events = spark.createDataFrame(
        [
            ev(1, "signup", "US", "apple", 9),
            ev(1, "page_view", "US", "apple", 10),
            ev(2, "signup", "US", "windows", 9),
            ev(3, "page_view", "GB", "apple", 10),
        ],
        FCT_WEBSITE_EVENTS.spark_schema(),
    )
    got = {
        (r.aggregation_level, r.dim_action_type or r.dim_country or r.dim_device_brand
         or r.event_hour): (r.m_total_events, r.m_distinct_users)
        for r in transform(events, DS).collect()
        if r.aggregation_level in ("overall", "dim_action_type", "dim_country",
                                   "dim_device_brand", "event_hour")
    }  # fmt: skip
    assert got == {
        ("overall", None): (4, 3),
        ("dim_action_type", "signup"): (2, 2),
        ("dim_action_type", "page_view"): (2, 2),
        ("dim_country", "US"): (3, 2),
        ("dim_country", "GB"): (1, 1),
        ("dim_device_brand", "apple"): (3, 2),
        ("dim_device_brand", "windows"): (1, 1),
        ("event_hour", 9): (2, 2),
        ("event_hour", 10): (2, 2),
    }
