"""silver.fct_website_events (seed 003): conformance, dedup, enrichment, by hand.

``pseudonym_key`` (tests/conftest.py) is the tests' fixed, public pseudonym key. The job-level
privacy checks (quarantine rows, plans, a missing key) are in ``test_ip_never_in_silver.py``.
"""

from __future__ import annotations

import datetime as dt

import pytest
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


def test_conformance_reasons(spark, pseudonym_key):
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
    facts, quarantine = transform(bronze, DS, spark, pseudonym_key)
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


def test_duplicate_event_id_keeps_one_and_quarantines_the_rest(spark, pseudonym_key):
    bronze = _bronze(
        spark,
        [
            {"event_id": "a", "_record_hash": "h1"},
            {"event_id": "a", "_record_hash": "h2"},
            {"event_id": "a", "_record_hash": "h3"},
        ],
    )
    facts, quarantine = transform(bronze, DS, spark, pseudonym_key)
    assert facts.count() == 1
    assert sorted(r.reason for r in quarantine.collect()) == ["duplicate_event"] * 2
    assert facts.collect()[0].other_properties["event_id"] == "a"


def test_distinct_events_colliding_on_primary_key(spark, pseudonym_key):
    # Two different events, same device (ip + UA) and same millisecond: seed 003's key
    # (logged_out_user_id, event_timestamp) admits one; the other is quarantined, not lost.
    bronze = _bronze(
        spark,
        [
            {"event_id": "a", "_record_hash": "h1"},
            {"event_id": "b", "_record_hash": "h2"},
        ],
    )
    facts, quarantine = transform(bronze, DS, spark, pseudonym_key)
    assert facts.count() == 1
    assert [r.reason for r in quarantine.collect()] == ["duplicate_primary_key"]


def test_enrichment_and_no_raw_ip(spark, pseudonym_key):
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
    facts, _ = transform(bronze, DS, spark, pseudonym_key)
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
    # murmur3 of the keyed SHA-256 digest, spelled out with literals
    material = F.lit(f"{pseudonym_key}:8:81.2.3.4{IPHONE}")
    expected = spark.range(1).select(F.hash(F.sha2(material, 256)).cast("bigint")).first()[0]
    assert rows["a"].logged_out_user_id == expected
    unkeyed = spark.range(1).select(F.hash(F.lit("81.2.3.4"), F.lit(IPHONE))).first()[0]
    assert expected != unkeyed  # the old, reversible id
    assert "ip" not in facts.columns
    assert not any("81.2.3.4" in str(v) for r in facts.collect() for v in r)


def _ids(spark, key, ds=DS, **event):
    facts, _ = transform(
        _bronze(spark, [{"ip": "81.2.3.4", "user_agent": IPHONE, **event}]), ds, spark, key
    )
    return [r.logged_out_user_id for r in facts.collect()]


def test_the_key_changes_every_id(spark, pseudonym_key):
    other_key = "another-key-of-sixteen-chars-or-more"
    (a,), (b,) = _ids(spark, pseudonym_key), _ids(spark, other_key)
    assert a != b
    assert isinstance(a, int) and -(2**31) <= a < 2**31  # murmur3's 32 bits, as BIGINT


def test_the_same_key_gives_a_visitor_the_same_id_every_day(spark, pseudonym_key):
    day1 = _ids(spark, pseudonym_key)
    day2 = _ids(
        spark,
        pseudonym_key,
        ds="2024-01-06",
        event_timestamp=dt.datetime(2024, 1, 6, 9),
        event_id="e2",
        _record_hash="h9",
    )
    assert day1 == day2 and len(day1) == 1
    # ...and only the device (ip + user agent) decides it
    assert _ids(spark, pseudonym_key, user_agent=WIN) != day1
    assert _ids(spark, pseudonym_key, ip="81.2.3.5") != day1


@pytest.mark.parametrize("key", [None, "", "short-key-15-ch"])
def test_a_missing_or_short_key_fails_before_spark_work(key):
    with pytest.raises(RuntimeError, match="LAKEHOUSE_PSEUDONYM_KEY is (not set|too short)"):
        transform(None, DS, None, key)  # no frame, no session: it fails before using them


def _at(hour):
    return {"event_timestamp": dt.datetime(2024, 1, 5, hour), "_record_hash": f"h{hour}"}


def test_properties_naming_or_holding_an_ip_never_reach_silver(spark, pseudonym_key):
    events = [
        {"event_id": "a", "properties": {"ip": "81.2.3.4", "plan": "pro"}},
        {"event_id": "b", "properties": {"ref": "10.0.0.1"}},
        {"event_id": "c", "properties": {"peer": "2001:db8::7", "X-Forwarded-For": "a proxy"}},
        {
            "event_id": "d",
            "properties": {
                "build": "v1.2.3.4-beta",
                "version": "1.2.3",
                "zip": "12345",
                "clientIp": "hidden",
                "hops": "81.2.3.4, 10.0.0.1",
            },
        },
        # a carried column whose whole value is an IP is dropped too
        {"event_id": "e", "utm_source": "81.2.3.4"},
    ]
    # one device: a distinct time (and record hash) each, so that all five are facts
    bronze = _bronze(spark, [{**_at(hour), **event} for hour, event in enumerate(events)])
    facts, _ = transform(bronze, DS, spark, pseudonym_key)
    props = {r.other_properties["event_id"]: r.other_properties for r in facts.collect()}
    carried = {"url": "u", "session_id": "s"}
    assert props["a"] == {"plan": "pro", "event_id": "a", **carried}
    assert props["b"] == {"event_id": "b", **carried}
    assert props["c"] == {"event_id": "c", **carried}
    # kept: not a whole address ("v1.2.3.4-beta"), not four numbers ("1.2.3"), not "_ip"
    assert props["d"] == {
        "build": "v1.2.3.4-beta",
        "version": "1.2.3",
        "zip": "12345",
        "event_id": "d",
        **carried,
    }
    assert props["e"] == {"event_id": "e", **carried}
    text = str(facts.collect())
    for address in ("81.2.3.4", "10.0.0.1", "2001:db8::7"):
        assert address not in text
