"""Fuzzed raw files through the bronze jobs: every line ends in bronze or in quarantine with a
reason, or the job fails clearly; rows in = rows out + rows quarantined, always.

Files on a local raw root, read by the jobs' own ``main`` (the text reader, UTF-8 decoding,
the drift policy, the writes): truncated JSON, wrong types, a 2 MB field, unknown keys,
blank lines, non-UTF-8 bytes, binary junk, an empty file, a day with no file at all.
Random lines (hypothesis) go through the pure transforms with the same accounting.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from include.table_catalog import BRONZE_WEB_EVENTS, QUARANTINE
from include.tables import read_partition

DS = "2024-01-05"


def _event(i: int, **change) -> dict:
    row = {
        "event_id": f"e{i}", "event_time": "2024-01-05T10:00:00.000Z", "user_id": 100 + i,
        "ip": "23.1.2.3", "user_agent": "Mozilla/5.0 (iPhone)", "hostname": "www.learnlake.io",
        "url": "/", "referrer": None, "utm_source": None, "session_id": f"s{i}",
        "action_type": "page_view", "properties": {},
    }  # fmt: skip
    row.update(change)
    return row


def _write(settings, source: str, name: str, data: bytes) -> Path:
    folder = Path(settings.raw_path(source, DS).removeprefix("file://"))
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_bytes(data)
    return folder / name


def _reasons(spark, settings, source: str) -> list[str]:
    q = read_partition(spark, QUARANTINE, DS, settings).where(
        f"layer = 'bronze' AND source = '{source}'"
    )
    return sorted(r.reason for r in q.collect())


def test_fuzzed_web_events_file(spark, lakehouse_env):
    from spark_jobs.bronze import web_events

    good = [json.dumps(_event(i)).encode() for i in range(30)]
    bad = {
        "truncated": json.dumps(_event(100))[:50].encode(),
        "wrong type": json.dumps(_event(101, user_id="abc")).encode(),
        "bad time": json.dumps(_event(102, event_time="yesterday")).encode(),
        "no id": json.dumps(_event(103, event_id=None)).encode(),
        "not an object": b"[1, 2, 3]",
        "binary junk": bytes(range(1, 9)) + b"\xff\xfe",
        "blank": b"   ",
    }
    odd_but_valid = [
        json.dumps(_event(200, url="/" + "x" * 2_000_000)).encode(),  # a 2 MB field
        json.dumps(_event(201, campaign="spring")).encode(),  # an unknown key
        json.dumps(_event(202, url="/cafX")).encode().replace(b"cafX", b"caf\xe9"),  # latin-1
    ]
    lines = good + list(bad.values()) + odd_but_valid
    _write(lakehouse_env, "web_events", "part-00000.jsonl", b"\n".join(lines) + b"\n")
    _write(lakehouse_env, "web_events", "part-00001.jsonl", b"")  # an empty file

    result = web_events.main(spark, DS, lakehouse_env)  # checks the accounting itself

    assert result.rows_in == len(lines)
    assert result.rows_out == len(good) + len(odd_but_valid)
    assert _reasons(spark, lakehouse_env, "web_events") == sorted(
        ["unparsable_json", "bad_user_id", "bad_event_time", "missing_event_id",
         "unparsable_json", "unparsable_json", "empty_line"]
    )  # fmt: skip
    assert result.extra["schema_drift"] == {"added": {"campaign": 1}}
    rows = read_partition(spark, BRONZE_WEB_EVENTS, DS, lakehouse_env)
    assert rows.where("length(url) > 1000000").count() == 1
    # the undecodable byte is replaced (U+FFFD), not dropped: the row is there, marked
    assert rows.where("event_id = 'e202'").first().url.endswith("\ufffd")


def test_fuzzed_csv_source_file(spark, lakehouse_env):
    from spark_jobs.bronze import billing_events

    header = b"billing_event_id,user_id,event_type,event_time,plan,mrr,previous_mrr,promo_code"
    t = b"2024-01-05T13:04:11.123Z"
    good = [b"be_%d,%d,booking,%s,pro,49.00,0.00," % (i, 100 + i, t) for i in range(30)]
    bad = [
        b"be_x,abc,booking," + t + b",pro,49.00,0.00,",  # wrong type
        b"be_y,101,booking," + t + b",pro",  # truncated
        b'be_z,102,booking,' + t + b',"pro,49.00,0.00,',  # unbalanced quote
        b"\xff\xfe\x00junk",  # binary junk
        b"",  # blank
    ]
    lines = [header, *good, *bad]
    _write(lakehouse_env, "billing_events", "part-00000.csv", b"\n".join(lines) + b"\n")

    result = billing_events.main(spark, DS, lakehouse_env)

    assert (result.rows_in, result.rows_out) == (len(good) + len(bad), len(good))
    assert result.rows_quarantined == len(bad)
    assert _reasons(spark, lakehouse_env, "billing_events") == sorted(
        ["bad_user_id", "wrong_field_count", "unbalanced_quote", "wrong_field_count",
         "empty_line"]
    )  # fmt: skip


def test_a_missing_source_day_fails_clearly(spark, lakehouse_env):
    from spark_jobs.bronze import orders
    from spark_jobs.raw import MissingRawData

    with pytest.raises(MissingRawData, match="no raw orders for ds=2024-01-05"):
        orders.main(spark, DS, lakehouse_env)


_LINE = st.one_of(
    st.text(max_size=80),
    st.builds(
        json.dumps,
        st.fixed_dictionaries(
            {},
            optional={
                "event_id": st.one_of(st.none(), st.text(max_size=5), st.integers()),
                "event_time": st.one_of(st.none(), st.just("2024-01-05T10:00:00.000Z"),
                                        st.text(max_size=10)),
                "user_id": st.one_of(st.none(), st.integers(), st.text(max_size=5)),
                "properties": st.one_of(st.none(), st.dictionaries(st.text(max_size=3),
                                                                   st.text(max_size=3))),
            },
        ),
    ),
)  # fmt: skip


@hsettings(max_examples=8, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.lists(_LINE, min_size=1, max_size=40))
def test_random_lines_are_all_accounted_for(spark, lines):
    from spark_jobs.bronze import raw_files, web_events

    df = spark.createDataFrame(
        [(v.replace("\n", " "), "f") for v in lines], "value STRING, source_file STRING"
    ).cache()
    good, bad = web_events.transform(df, DS)
    assert good.count() + bad.count() == len(lines)
    assert bad.where("reason IS NULL").count() == 0
    good, bad = raw_files.transform(df, "experiment_assignments", DS)
    assert good.count() + bad.count() == len(lines)
    df.unpersist()
