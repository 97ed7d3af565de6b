"""silver.fct_website_events (seed 003): conformance, dedup, enrichment, by hand."""

from __future__ import annotations

import datetime as dt

from pyspark.sql import functions as F

from include.table_catalog import BRONZE_WEB_EVENTS
from spark_jobs.silver.fct_website_events import transform

DS = "2024-01-05"
WIN = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36"
IPHONE = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15"


def _bronze(spark, rows):
    base = dict(
        event_id="e",
        event_time="t",
        event_timestamp=dt.datetime(2024, 1, 5, 10),
        user_id=None,
        ip="23.1.2.3",
        user_agent=WIN,
        hostname="www.learnlake.io",
        url="u",
        referrer=None,
        utm_source=None,
        session_id="s",
        action_type="page_view",
        properties={},
        _source_file="f",
        _record_hash="h",
        ds=DS,
    )
    data = [{**base, **r} for r in rows]
    return spark.createDataFrame(data, BRONZE_WEB_EVENTS.spark_schema())


def test_conformance_reasons(spark):
    bronze = _bronze(
        spark,
        [
            {"event_id": "ok", "_record_hash": "h1"},
            {"event_id": "b1", "hostname": "www..learnlake", "_record_hash": "h2"},
            {"event_id": "b2", "hostname": "learnlake", "_record_hash": "h3"},
            {"event_id": "b3", "action_type": "clik", "_record_hash": "h4"},
            {
                "event_id": "b4",
                "user_agent": "Googlebot/2.1 (+http://www.google.com/bot.html)",
                "_record_hash": "h5",
            },
            {"event_id": "b5", "hostname": None, "_record_hash": "h6"},
            {"event_id": "b6", "ip": None, "_record_hash": "h7"},
        ],
    )
    facts, quarantine = transform(bronze, DS, spark)
    assert facts.count() == 1
    got = {r.record_hash: r.reason for r in quarantine.collect()}
    assert got == {
        "h2": "bad_hostname",
        "h3": "bad_hostname",
        "h4": "unknown_action_type",
        "h5": "bot_traffic",
        "h6": "missing_hostname",
        "h7": "missing_ip_or_ua",
    }


def test_duplicate_event_id_keeps_one_and_quarantines_the_rest(spark):
    bronze = _bronze(
        spark,
        [
            {"event_id": "a", "_record_hash": "h1"},
            {"event_id": "a", "_record_hash": "h2"},
            {"event_id": "a", "_record_hash": "h3"},
        ],
    )
    facts, quarantine = transform(bronze, DS, spark)
    assert facts.count() == 1
    assert sorted(r.reason for r in quarantine.collect()) == ["duplicate_event"] * 2
    assert facts.collect()[0].other_properties["event_id"] == "a"


def test_distinct_events_colliding_on_primary_key(spark):
    # Two different events, same device (ip + UA) and same millisecond: seed 003's key
    # (logged_out_user_id, event_timestamp) admits one; the other is quarantined, not lost.
    bronze = _bronze(
        spark,
        [
            {"event_id": "a", "_record_hash": "h1"},
            {"event_id": "b", "_record_hash": "h2"},
        ],
    )
    facts, quarantine = transform(bronze, DS, spark)
    assert facts.count() == 1
    assert [r.reason for r in quarantine.collect()] == ["duplicate_primary_key"]


def test_enrichment_and_no_raw_ip(spark):
    bronze = _bronze(
        spark,
        [
            {
                "event_id": "a",
                "ip": "81.2.3.4",
                "user_agent": IPHONE,
                "_record_hash": "h1",
                "user_id": 7,
                "utm_source": "substack",
                "properties": {"experiment": "x"},
            },
            {"event_id": "b", "ip": "8.8.8.8", "_record_hash": "h2"},
        ],
    )
    facts, _ = transform(bronze, DS, spark)
    rows = {r.other_properties["event_id"]: r for r in facts.collect()}
    assert rows["a"].dim_country == "GB" and rows["a"].dim_device_brand == "iphone"
    assert rows["b"].dim_country == "unknown" and rows["b"].dim_device_brand == "windows"
    assert rows["a"].other_properties == {
        "experiment": "x",
        "event_id": "a",
        "url": "u",
        "utm_source": "substack",
        "session_id": "s",
    }
    expected = (
        spark.range(1)
        .select(F.hash(F.lit("81.2.3.4"), F.lit(IPHONE)).cast("bigint").alias("h"))
        .collect()[0]
        .h
    )
    assert rows["a"].logged_out_user_id == expected
    assert "ip" not in facts.columns
    assert not any("81.2.3.4" in str(v) for r in facts.collect() for v in r)
