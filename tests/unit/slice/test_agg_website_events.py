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
