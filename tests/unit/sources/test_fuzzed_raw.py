"""Fuzzed raw files through the bronze jobs: every line ends in bronze or in quarantine with a
reason, or the job fails clearly; rows in = rows out + rows quarantined, always.

Files on a local raw root, read by the jobs' own ``main`` (the text reader, the encoding
check, the drift policy, the writes): truncated JSON, wrong types, a 2 MB field, unknown
keys, blank lines, non-UTF-8 bytes (quarantined as ``bad_encoding``, never replaced in a
loaded row), binary junk, empty files (counted, not fatal: the generator lands them), a day
with no file at all. Random lines (hypothesis) go through the pure transforms with the same
accounting.
"""

from __future__ import annotations

import hashlib
import json
import logging
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from include.raw_sources import RAW_SOURCES
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


def _quarantined(spark, settings, source: str) -> dict[str, tuple[str, str]]:
    """``{record_hash: (reason, record)}`` of the source's bronze quarantine rows."""
    q = read_partition(spark, QUARANTINE, DS, settings).where(
        f"layer = 'bronze' AND source = '{source}'"
    )
    return {r.record_hash: (r.reason, r.record) for r in q.collect()}


def _sha(line: bytes) -> str:
    return hashlib.sha256(line).hexdigest()


def test_fuzzed_web_events_file(spark, lakehouse_env):
    from spark_jobs.bronze import web_events

    good = [json.dumps(_event(i)).encode() for i in range(30)]
    latin1 = json.dumps(_event(202, url="/cafX")).encode().replace(b"cafX", b"caf\xe9")
    bad = {  # line -> the reason worked out by hand (first rule broken, bytes first)
        json.dumps(_event(100))[:50].encode(): "unparsable_json",  # truncated
        json.dumps(_event(101, user_id="abc")).encode(): "bad_user_id",
        json.dumps(_event(102, event_time="yesterday")).encode(): "bad_event_time",
        json.dumps(_event(103, event_id=None)).encode(): "missing_event_id",
        b"[1, 2, 3]": "unparsable_json",  # JSON, not an object
        bytes(range(1, 9)) + b"\xff\xfe": "bad_encoding",  # binary junk
        b"   ": "empty_line",
        latin1: "bad_encoding",  # a latin-1 byte: never loaded with U+FFFD in its place
        latin1[: latin1.index(b"\xe9") + 3]: "bad_encoding",  # truncated too: bytes first
        json.dumps(_event(104, properties="spring")).encode(): "bad_properties",  # 1 of 37
    }
    odd_but_valid = [
        json.dumps(_event(200, url="/" + "x" * 2_000_000)).encode(),  # a 2 MB field
        json.dumps(_event(201, campaign="spring")).encode(),  # an unknown key
        # a U+FFFD the source encoded validly (EF BF BD) is text as delivered: loads as is
        json.dumps(_event(203, url="/ok\ufffd"), ensure_ascii=False).encode(),
    ]
    assert latin1[: latin1.index(b"\xe9") + 3].endswith(b'caf\xe9",')
    lines = good + list(bad) + odd_but_valid
    _write(lakehouse_env, "web_events", "part-00000.jsonl", b"\n".join(lines) + b"\n")
    _write(lakehouse_env, "web_events", "part-00001.jsonl", b"")  # an empty file

    result = web_events.main(spark, DS, lakehouse_env)  # checks the accounting itself

    assert (result.rows_in, result.rows_out, result.rows_quarantined) == (43, 33, 10)
    assert result.rows_in == len(lines) and result.rows_out == len(good) + len(odd_but_valid)
    quarantined = _quarantined(spark, lakehouse_env, "web_events")
    assert {h: reason for h, (reason, _) in quarantined.items()} == {
        _sha(line): reason for line, reason in bad.items()
    }
    # the quarantine keeps a bad_encoding line readable (U+FFFD for the undecodable byte,
    # as the reason says); its record_hash is the sha256 of the bytes as delivered
    assert quarantined[_sha(latin1)][1] == latin1.decode("utf-8", "replace")
    assert quarantined[_sha(latin1)][1].endswith('"/caf\ufffd", "referrer": null, '
                                                 '"utm_source": null, "session_id": "s202", '
                                                 '"action_type": "page_view", '
                                                 '"properties": {}}')  # fmt: skip
    assert result.extra == {
        "schema_drift": {"added": {"campaign": 1}}, "empty_files": 1, "raw_lines": 43,
    }  # fmt: skip
    rows = read_partition(spark, BRONZE_WEB_EVENTS, DS, lakehouse_env)
    assert rows.where("length(url) > 1000000").count() == 1
    assert rows.where("event_id = 'e202'").count() == 0
    assert rows.where("event_id = 'e203'").first().url == "/ok\ufffd"
    assert rows.where("url LIKE '%\ufffd%'").count() == 1  # only the validly encoded one


def test_fuzzed_csv_source_file(spark, lakehouse_env):
    from spark_jobs.bronze import billing_events

    header = b"billing_event_id,user_id,event_type,event_time,plan,mrr,previous_mrr,promo_code"
    t = b"2024-01-05T13:04:11.123Z"
    good = [b"be_%d,%d,booking,%s,pro,49.00,0.00," % (i, 100 + i, t) for i in range(30)]
    latin1 = b"be_l,150,booking," + t + b",pr\xe9,49.00,0.00,"  # valid but for one byte
    bad = {  # line -> the reason worked out by hand (first rule broken, bytes first)
        b"be_x,abc,booking," + t + b",pro,49.00,0.00,": "bad_user_id",
        b"be_y,101,booking," + t + b",pro": "wrong_field_count",  # truncated
        b"be_z,102,booking," + t + b',"pro,49.00,0.00,': "unbalanced_quote",
        b"\xff\xfe\x00junk": "bad_encoding",  # binary junk: not wrong_field_count
        latin1: "bad_encoding",
        b"": "empty_line",
    }
    # a U+FFFD the source encoded validly (EF BF BD) is text as delivered: loads as is
    fffd = b"be_u,151,booking," + t + b",pro \xef\xbf\xbd,49.00,0.00,"
    lines = [header, *good, fffd, *bad]
    _write(lakehouse_env, "billing_events", "part-00000.csv", b"\n".join(lines) + b"\n")

    result = billing_events.main(spark, DS, lakehouse_env)

    assert (result.rows_in, result.rows_out, result.rows_quarantined) == (37, 31, 6)
    assert (result.extra["raw_lines"], result.extra["header_lines"]) == (38, 1)
    quarantined = _quarantined(spark, lakehouse_env, "billing_events")
    assert {h: reason for h, (reason, _) in quarantined.items()} == {
        _sha(line): reason for line, reason in bad.items()
    }
    assert quarantined[_sha(latin1)][1] == f"be_l,150,booking,{t.decode()},pr\ufffd,49.00,0.00,"
    assert "empty_files" not in result.extra
    from include.table_catalog_bronze_sources import BRONZE_SOURCES

    rows = read_partition(spark, BRONZE_SOURCES["billing_events"], DS, lakehouse_env)
    assert rows.where("billing_event_id = 'be_l'").count() == 0
    assert rows.where("billing_event_id = 'be_u'").first().plan == "pro \ufffd"


def test_fuzzed_jsonl_source_file(spark, lakehouse_env):
    """The generic JSON path (raw_files): the same rules, in the same order, as web_events."""
    from include.table_catalog_bronze_sources import BRONZE_SOURCES
    from spark_jobs.bronze import experiment_assignments

    def line(i: int, variant: str = "control") -> bytes:
        return json.dumps({
            "assignment_id": f"as_{i}", "experiment": "homepage_cta_test", "variant": variant,
            "user_id": None, "anonymous_id": f"a{i}", "assigned_at": "2024-01-05T10:00:00.000Z",
        }, ensure_ascii=False).encode()  # fmt: skip

    good = [line(i) for i in range(3)]
    latin1 = line(10, "contr\u00f4le").replace("\u00f4".encode(), b"\xf4")  # latin-1 o-circ
    bad = {
        latin1: "bad_encoding",
        latin1[:-20]: "bad_encoding",  # truncated and undecodable: bytes first
        line(11)[:-20]: "unparsable_json",  # truncated, valid UTF-8
        b" ": "empty_line",
    }
    fffd = line(12, "control\ufffd")  # validly encoded U+FFFD: loads as delivered
    lines = [*good, *bad, fffd]
    assert latin1.count(b"\xf4") == 1 and latin1[:-20].count(b"\xf4") == 1
    _write(lakehouse_env, "experiment_assignments", "part-00000.jsonl", b"\n".join(lines) + b"\n")
    _write(lakehouse_env, "experiment_assignments", "part-00001.jsonl", b"")

    result = experiment_assignments.main(spark, DS, lakehouse_env)

    assert (result.rows_in, result.rows_out, result.rows_quarantined) == (8, 4, 4)
    assert result.extra == {"empty_files": 1, "raw_lines": 8}
    quarantined = _quarantined(spark, lakehouse_env, "experiment_assignments")
    assert {h: reason for h, (reason, _) in quarantined.items()} == {
        _sha(raw): reason for raw, reason in bad.items()
    }
    rows = read_partition(spark, BRONZE_SOURCES["experiment_assignments"], DS, lakehouse_env)
    assert sorted((r.assignment_id, r.variant) for r in rows.collect()) == [
        ("as_0", "control"), ("as_1", "control"), ("as_12", "control\ufffd"), ("as_2", "control"),
    ]  # fmt: skip


def test_a_missing_source_day_fails_clearly(spark, lakehouse_env):
    from include.raw_reader import MissingRawData
    from spark_jobs.bronze import orders

    with pytest.raises(MissingRawData, match="no raw orders for ds=2024-01-05"):
        orders.main(spark, DS, lakehouse_env)


def test_a_day_of_empty_files_loads_zero_rows_counted_and_logged(spark, lakehouse_env, caplog):
    """Empty files are legitimate upstream output (the generator lands them): not fatal,
    but counted in the result and logged, never a silent 0. Blank lines are records."""
    from spark_jobs.bronze import orders

    header = ",".join(RAW_SOURCES["orders"].fields).encode()
    _write(lakehouse_env, "orders", "part-00000.csv", header + b"\n")  # header only
    _write(lakehouse_env, "orders", "part-00001.csv", b"")  # 0 bytes
    _write(lakehouse_env, "orders", "_part-00002.csv", b"x\n")  # hidden: Spark skips it

    with caplog.at_level(logging.WARNING, logger="spark_jobs.raw"):
        result = orders.main(spark, DS, lakehouse_env)

    assert (result.rows_in, result.rows_out, result.rows_quarantined) == (0, 0, 0)
    assert result.extra == {"empty_files": 2, "raw_lines": 1, "header_lines": 1}
    assert (
        "raw orders ds=2024-01-05: all 2 files are empty (no record): the day loads 0 rows; "
        "['part-00000.csv', 'part-00001.csv']"
    ) in caplog.messages

    caplog.clear()
    _write(lakehouse_env, "orders", "part-00001.csv", b"\n")  # one blank line: a record
    with caplog.at_level(logging.WARNING, logger="spark_jobs.raw"):
        result = orders.main(spark, DS, lakehouse_env)
    assert (result.rows_in, result.rows_out, result.rows_quarantined) == (1, 0, 1)
    assert result.extra == {"empty_files": 1, "raw_lines": 2, "header_lines": 1}
    assert _reasons(spark, lakehouse_env, "orders") == ["empty_line"]
    assert (
        "raw orders ds=2024-01-05: 1 of 2 files are empty (no record): ['part-00000.csv']"
    ) in caplog.messages


def test_the_generator_lands_empty_files_and_bronze_counts_them(spark, lakehouse_env):
    """The policy's premise, pinned: on 2024-04-01 at 1000 events/day (the DAG's smallest
    scale) no experiment runs, so experiment_assignments lands a 0-byte file, and no order is
    placed, so orders lands its header only. Both bronze jobs load 0 rows and count 1 file."""
    from include.generator import GeneratorConfig, write_day
    from spark_jobs.bronze import experiment_assignments, orders

    ds = "2024-04-01"
    write_day(ds, lakehouse_env.raw_root, GeneratorConfig(events_per_day=1000))
    raw = Path(lakehouse_env.raw_root)
    assert (raw / f"experiment_assignments/ds={ds}/part-00000.jsonl").read_bytes() == b""
    assert (raw / f"orders/ds={ds}/part-00000.csv").read_bytes().count(b"\n") == 1

    # the 0-byte file has no line; the orders file has one, its header
    expected = {
        experiment_assignments: {"empty_files": 1, "raw_lines": 0},
        orders: {"empty_files": 1, "raw_lines": 1, "header_lines": 1},
    }
    for job, extra in expected.items():
        result = job.main(spark, ds, lakehouse_env)
        assert (result.rows_in, result.rows_out, result.rows_quarantined) == (0, 0, 0)
        assert result.extra == extra


def _drop_first_record(frame_fn):
    """``frame_fn`` whose frame loses one record line before the split (a stand-in for a
    filter or parse bug that drops lines on the way from the file to the writes)."""

    def lossy(*args, **kwargs):
        frame = frame_fn(*args, **kwargs)
        return frame.where(~frame["source_file"].endswith("part-00000.jsonl")).unionByName(
            frame.where(frame["source_file"].endswith("part-00000.jsonl")).limit(1)
        )

    return lossy


def test_a_line_lost_before_the_split_breaks_the_accounting(spark, lakehouse_env, monkeypatch):
    """Rows in come from a read of the files of their own (4 lines, worked out from the
    bytes written), not from the frame the job parses and splits: a parse that loses lines
    fails the job instead of loading 1 row and counting 1 in."""
    from spark_jobs.bronze import web_events

    lines = [json.dumps(_event(i)).encode() for i in range(4)]
    _write(lakehouse_env, "web_events", "part-00000.jsonl", b"\n".join(lines) + b"\n")
    assert web_events.main(spark, DS, lakehouse_env).rows_in == 4  # the honest job

    monkeypatch.setattr(web_events, "parse", _drop_first_record(web_events.parse))
    with pytest.raises(RuntimeError, match="row accounting broken: in=4 out=1 quarantined=0"):
        web_events.main(spark, DS, lakehouse_env)


def test_a_line_lost_in_a_generic_source_breaks_the_accounting(spark, lakehouse_env, monkeypatch):
    """The same for the generic sources (raw_files): 3 record lines in, the lossy parse
    keeps 1; and a CSV header repeated inside a file is not dropped silently either."""
    from spark_jobs.bronze import experiment_assignments, orders, raw_files

    def line(i: int) -> bytes:
        return json.dumps({
            "assignment_id": f"as_{i}", "experiment": "homepage_cta_test", "variant": "control",
            "user_id": None, "anonymous_id": f"a{i}", "assigned_at": "2024-01-05T10:00:00.000Z",
        }).encode()  # fmt: skip

    lines = [line(i) for i in range(3)]
    _write(lakehouse_env, "experiment_assignments", "part-00000.jsonl", b"\n".join(lines))
    with monkeypatch.context() as m:
        m.setattr(raw_files, "parse", _drop_first_record(raw_files.parse))
        with pytest.raises(RuntimeError, match="in=3 out=1 quarantined=0"):
            experiment_assignments.main(spark, DS, lakehouse_env)

    header = ",".join(RAW_SOURCES["orders"].fields).encode()
    # two files concatenated: 3 lines (header, a blank line, the header again); one header
    # per file is expected, so 2 lines are records and only the blank one is accounted for
    _write(lakehouse_env, "orders", "part-00000.csv", header + b"\n" + b"\n" + header + b"\n")
    with pytest.raises(RuntimeError, match="in=2 out=0 quarantined=1"):
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
