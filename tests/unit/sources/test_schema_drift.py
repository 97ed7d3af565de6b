"""The schema-drift policy of bronze (spark_jobs/bronze/drift.py), one case per kind of change.

Hand-made raw lines of billing_events (CSV) and experiment_assignments / web_events (JSON):
reordered columns load by name, an added field loads the contract and is reported, a field
gone fails the job naming it, a changed type fails the job while a few bad values are only
quarantined. The last test runs the bronze job on files: a drifted day writes nothing.
"""

from __future__ import annotations

import json
import re
from decimal import Decimal
from pathlib import Path

import pytest

from spark_jobs.bronze import raw_files
from spark_jobs.bronze.drift import MIN_VALUES, SchemaDrift

DS = "2024-01-05"
CONTRACT = "billing_event_id,user_id,event_type,event_time,plan,mrr,previous_mrr,promo_code"
T = "2024-01-05T13:04:11.123Z"


def _lines(spark, files: dict[str, list[str]]):
    rows = [(line, path) for path, lines in files.items() for line in lines]
    return spark.createDataFrame(rows, "value STRING, source_file STRING")


def _load(spark, files):
    """What run_source does before writing: drift policy, header removal, transform."""
    raw = _lines(spark, files)
    report, headers = raw_files.check_drift(raw, "billing_events")
    records = raw_files.filter_records(raw, "billing_events", headers)
    raw_files.check_types(raw_files.parse(records, "billing_events", headers), "billing_events")
    good, bad = raw_files.transform(records, "billing_events", DS, headers)
    return report, records, good, bad


def _by_id(df, *cols):
    return {r.billing_event_id: tuple(r[c] for c in cols) for r in df.collect()}


def test_reordered_columns_load_by_name(spark):
    files = {
        "a.csv": [CONTRACT, f"be_1,101,paid_start,{T},pro,49.00,0.00,"],
        # same fields, plan and mrr swapped, promo_code moved first
        "b.csv": [
            "promo_code,billing_event_id,user_id,event_type,event_time,mrr,plan,previous_mrr",
            f"SPRING,be_2,102,booking,{T},99.00,team,49.00",
        ],
    }
    report, records, good, bad = _load(spark, files)
    assert report == {"b.csv": {"added": [], "reordered": True}}
    assert records.count() == 2 and bad.count() == 0
    assert _by_id(good, "plan", "mrr", "previous_mrr", "promo_code") == {
        "be_1": ("pro", Decimal("49.00"), Decimal("0.00"), None),
        "be_2": ("team", Decimal("99.00"), Decimal("49.00"), "SPRING"),
    }


def test_an_added_column_loads_the_contract_and_is_reported(spark):
    files = {"a.csv": [CONTRACT + ",currency", f"be_1,101,paid_start,{T},pro,49.00,0.00,,EUR"]}
    report, records, good, bad = _load(spark, files)
    assert report == {"a.csv": {"added": ["currency"], "reordered": False}}
    assert _by_id(good, "plan", "mrr") == {"be_1": ("pro", Decimal("49.00"))}
    assert bad.count() == 0 and "currency" not in good.columns


def test_a_renamed_column_fails_naming_the_file_and_fields(spark):
    renamed = CONTRACT.replace(",mrr,", ",amount,")
    files = {"ok.csv": [CONTRACT], "renamed.csv": [renamed, f"be_1,101,paid_start,{T},pro,49,0,"]}
    with pytest.raises(SchemaDrift) as err:
        raw_files.check_drift(_lines(spark, files), "billing_events")
    text = str(err.value)
    assert "renamed.csv" in text and "['mrr']" in text and "['amount']" in text
    assert "ok.csv" not in text


def test_a_changed_type_fails_but_a_few_bad_values_are_quarantined(spark):
    n = MIN_VALUES + 5
    changed = [CONTRACT] + [f"be_{i},{100 + i},booking,{T},pro,USD 49.00,0.00," for i in range(n)]
    with pytest.raises(SchemaDrift, match=rf"mrr: {n} of {n} values do not parse"):
        _load(spark, {"a.csv": changed})

    few_bad = [CONTRACT] + [
        f"be_{i},{100 + i},booking,{T},pro,{'USD 49.00' if i < 3 else '49.00'},0.00,"
        for i in range(n)
    ]
    report, records, good, bad = _load(spark, {"a.csv": few_bad})
    assert report == {}
    assert good.count() == n - 3
    assert sorted(r.reason for r in bad.collect()) == ["bad_mrr"] * 3


def _assignment(i: int, **extra) -> str:
    row = {
        "assignment_id": f"as_{i}",
        "experiment": "homepage_cta_test",
        "variant": "control",
        "user_id": None,
        "anonymous_id": f"a{i}",
        "assigned_at": T,
        **extra,
    }
    return json.dumps({k: v for k, v in row.items() if v != "<drop>"})


def test_json_new_key_is_reported_with_its_line_count(spark):
    lines = [_assignment(1, campaign="spring"), _assignment(2, campaign="x"), _assignment(3)]
    raw = _lines(spark, {"f.jsonl": lines + ['{"assignment_id": "as_4", "exper']})
    report, headers = raw_files.check_drift(raw, "experiment_assignments")
    assert report == {"added": {"campaign": 2}} and headers is None
    good, bad = raw_files.transform(raw, "experiment_assignments", DS)
    assert good.count() == 3 and [r.reason for r in bad.collect()] == ["unparsable_json"]


def test_json_key_gone_from_every_line_fails(spark):
    lines = [_assignment(i, variant="<drop>", arm="control") for i in range(3)]
    with pytest.raises(SchemaDrift, match=r"no line of the day has \['variant'\].*\['arm'\]"):
        raw_files.check_drift(_lines(spark, {"f.jsonl": lines}), "experiment_assignments")


def test_json_key_missing_from_some_lines_is_bad_input_not_drift(spark):
    lines = [_assignment(1), _assignment(2, variant="<drop>")]
    raw = _lines(spark, {"f.jsonl": lines})
    assert raw_files.check_drift(raw, "experiment_assignments") == ({}, None)
    _, bad = raw_files.transform(raw, "experiment_assignments", DS)
    assert [r.reason for r in bad.collect()] == ["missing_variant"]


def test_web_events_user_id_turned_into_strings_fails(spark):
    from spark_jobs.bronze import web_events

    def event(i, user_id):
        return json.dumps({
            "event_id": f"e{i}", "event_time": "2024-01-05T10:00:00.000Z", "user_id": user_id,
            "ip": "23.1.2.3", "user_agent": "ua", "hostname": "www.learnlake.io", "url": "/",
            "referrer": None, "utm_source": None, "session_id": "s", "action_type": "page_view",
            "properties": {},
        })  # fmt: skip

    n = MIN_VALUES + 1
    ok = _lines(spark, {"w.jsonl": [event(i, 100 + i) for i in range(n)]})
    assert web_events.check_drift(web_events.parse(ok)) == {}
    changed = _lines(spark, {"w.jsonl": [event(i, f"u-{i}") for i in range(n)]})
    with pytest.raises(SchemaDrift, match=rf"user_id: {n} of {n} values do not parse"):
        web_events.check_drift(web_events.parse(changed))


def _web_event(i: int, **extra) -> str:
    row = {
        "event_id": f"e{i}", "event_time": T, "user_id": 100 + i, "ip": "23.1.2.3",
        "user_agent": "ua", "hostname": "www.learnlake.io", "url": "/", "referrer": None,
        "utm_source": None, "session_id": "s", "action_type": "page_view", "properties": {},
        **extra,
    }  # fmt: skip
    return json.dumps({k: v for k, v in row.items() if v != "<drop>"})


def test_web_events_keys_are_counted_from_the_single_parse(spark):
    from spark_jobs.bronze import web_events

    lines = [
        _web_event(1, campaign="spring"),
        _web_event(2, campaign="x"),
        json.dumps(dict(reversed(json.loads(_web_event(3, campaign="y")).items()))),
        _web_event(4),
        '{"event_id": "e5", "event_ti',  # not JSON: no keys
        "[1, 2]",  # JSON, not an object: no keys
    ]
    parsed = web_events.parse(_lines(spark, {"w.jsonl": lines}))
    # one keyset per key order; the two lines that are not objects carry none
    assert parsed.where("keyset IS NULL").count() == 2
    assert web_events.check_drift(parsed) == {"added": {"campaign": 3}}
    good, bad = web_events.split(parsed, DS)
    assert good.count() == 4
    assert sorted((r.reason, r.record) for r in bad.collect()) == [
        ("unparsable_json", "[1, 2]"),
        ("unparsable_json", '{"event_id": "e5", "event_ti'),
    ]


@pytest.mark.parametrize(
    ("properties", "sample"),
    [
        ("spring", "spring"),  # a plain string
        (json.dumps({"experiment": "x"}), '{"experiment": "x"}'),  # the object, JSON-encoded
        (7, "7"),
    ],
)
def test_web_events_properties_turned_into_another_type_fails(spark, properties, sample):
    """properties is the contract's JSON object of strings: a string (even one holding JSON)
    or a number on every line is a changed type, like user_id turned into strings."""
    from spark_jobs.bronze import web_events

    n = 30  # >= MIN_VALUES: 30 of 30 values do not parse, 100% > TYPE_CHANGE_SHARE
    ok = _lines(spark, {"w.jsonl": [_web_event(i, properties={"k": "v"}) for i in range(n)]})
    assert web_events.check_drift(web_events.parse(ok)) == {}
    changed = _lines(spark, {"w.jsonl": [_web_event(i, properties=properties) for i in range(n)]})
    message = rf"properties: {n} of {n} values do not parse \(e\.g\. {re.escape(repr(sample))}\)"
    with pytest.raises(SchemaDrift, match=message):
        web_events.check_drift(web_events.parse(changed))


def test_web_events_a_few_bad_properties_are_quarantined_not_drift(spark):
    from spark_jobs.bronze import web_events

    n = MIN_VALUES + 5
    lines = [_web_event(i, properties="spring" if i < 3 else {"k": "v"}) for i in range(n)]
    lines += [_web_event(100, properties=None), _web_event(101, properties="<drop>")]
    parsed = web_events.parse(_lines(spark, {"w.jsonl": lines}))
    # 3 of 25 values do not parse (12%): bad input; JSON null / absent is no value at all
    assert web_events.check_drift(parsed) == {}
    good, bad = web_events.split(parsed, DS)
    assert sorted((r.reason, r.record) for r in bad.collect()) == [
        ("bad_properties", lines[i]) for i in range(3)
    ]
    props = {r.event_id: r.properties for r in good.collect()}
    assert len(props) == n - 3 + 2
    assert props["e3"] == {"k": "v"} and props["e100"] == {} and props["e101"] == {}


def test_the_web_events_job_writes_nothing_when_properties_changed_type(spark, lakehouse_env):
    from include.table_catalog import BRONZE_WEB_EVENTS, QUARANTINE
    from include.tables import table_exists
    from spark_jobs.bronze import web_events

    folder = Path(lakehouse_env.raw_path("web_events", DS).removeprefix("file://"))
    folder.mkdir(parents=True, exist_ok=True)
    lines = [_web_event(i, properties="spring") for i in range(30)]
    (folder / "part-00000.jsonl").write_text("\n".join(lines) + "\n")
    with pytest.raises(SchemaDrift, match=r"raw web_events: .*properties: 30 of 30 values"):
        web_events.main(spark, DS, lakehouse_env)
    assert not table_exists(spark, BRONZE_WEB_EVENTS, lakehouse_env)
    assert not table_exists(spark, QUARANTINE, lakehouse_env)


def test_web_events_key_renamed_in_every_line_fails(spark):
    from spark_jobs.bronze import web_events

    lines = [_web_event(i, session_id="<drop>", sessionId="s") for i in range(3)]
    parsed = web_events.parse(_lines(spark, {"w.jsonl": lines}))
    with pytest.raises(SchemaDrift, match=r"no line of the day has \['session_id'\].*sessionId"):
        web_events.check_drift(parsed)


def test_the_bronze_job_writes_nothing_on_drift_and_reports_additive_drift(spark, lakehouse_env):
    from include.table_catalog_bronze_sources import BRONZE_SOURCES
    from include.tables import read_partition, table_exists
    from spark_jobs.bronze import billing_events

    settings = lakehouse_env
    folder = settings.raw_path("billing_events", DS).removeprefix("file://")
    part = Path(folder) / "part-00000.csv"
    part.parent.mkdir(parents=True, exist_ok=True)
    contract = BRONZE_SOURCES["billing_events"]

    part.write_text(CONTRACT.replace(",mrr,", ",amount,") + f"\nbe_1,101,paid_start,{T},pro,1,0,\n")
    with pytest.raises(SchemaDrift):
        billing_events.main(spark, DS, settings)
    assert not table_exists(spark, contract, settings)

    part.write_text(CONTRACT + ",currency" + f"\nbe_1,101,paid_start,{T},pro,49.00,0.00,,EUR\n")
    result = billing_events.main(spark, DS, settings)
    [(path, change)] = result.extra["schema_drift"].items()
    assert path.endswith("part-00000.csv")
    assert change == {"added": ["currency"], "reordered": False}
    assert (result.rows_in, result.rows_out, result.rows_quarantined) == (1, 1, 0)
    assert read_partition(spark, contract, DS, settings).first().mrr == Decimal("49.00")
