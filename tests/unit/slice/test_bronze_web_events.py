"""bronze.web_events: parsing rules, quarantine reasons and row accounting, by hand."""

from __future__ import annotations

import json

from spark_jobs.bronze.web_events import transform

DS = "2024-01-05"


def _line(**overrides) -> str:
    record = {
        "event_id": "e1",
        "event_time": "2024-01-05T10:00:00.000Z",
        "user_id": 42,
        "ip": "23.1.2.3",
        "user_agent": "Mozilla/5.0 (Windows NT 10.0; Win64; x64)",
        "hostname": "www.learnlake.io",
        "url": "https://www.learnlake.io/",
        "referrer": None,
        "utm_source": "linkedin",
        "session_id": "s1",
        "action_type": "page_view",
        "properties": {"k": "v"},
    }
    record.update(overrides)
    return json.dumps(record)


def _lines(spark, values):
    return spark.createDataFrame(
        [(v, "f.jsonl") for v in values], "value STRING, source_file STRING"
    )


def test_each_bad_line_is_quarantined_with_its_reason(spark):
    values = [
        _line(),
        _line(event_id="e2", user_id=None),  # logged out: fine
        '{"event_id": "e3", "event_time": "2024-01-05T10:0',  # truncated JSON
        _line(event_id=None),
        _line(event_id="e5", event_time=None),
        _line(event_id="e6", event_time="yesterday"),
        _line(event_id="e7", user_id="abc"),
        "",
    ]
    good, bad = transform(_lines(spark, values), DS)
    assert sorted(r.event_id for r in good.collect()) == ["e1", "e2"]
    reasons = sorted(r.reason for r in bad.collect())
    assert reasons == sorted(
        [
            "unparsable_json",
            "missing_event_id",
            "missing_event_time",
            "bad_event_time",
            "bad_user_id",
            "empty_line",
        ]
    )
    assert good.count() + bad.count() == len(values)  # nothing lost


def test_typed_columns_and_metadata(spark):
    good, _ = transform(_lines(spark, [_line()]), DS)
    row = good.collect()[0]
    assert row.user_id == 42
    assert str(row.event_timestamp) == "2024-01-05 10:00:00"
    assert row.properties == {"k": "v"}
    assert row.ds == DS and row._source_file == "f.jsonl" and len(row._record_hash) == 64


def test_duplicates_are_kept_in_bronze(spark):
    good, bad = transform(_lines(spark, [_line(), _line()]), DS)
    assert good.count() == 2 and bad.count() == 0
