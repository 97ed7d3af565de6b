"""The quality.gate job end to end on bronze.web_events: row-level suite + derived row
accounting, every rule in gold.quality_results, a blocking failure names table, ds, rule and
rows, and a rejected partition is put back to its previous good state."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from include.quality import QualityGateFailed
from include.table_catalog import BRONZE_WEB_EVENTS, QUALITY_RESULTS
from spark_jobs.quality import gate

DS = "2024-01-05"
RULE = "row accounting: raw lines = bronze rows + quarantined rows"


def _line(event_id: str) -> str:
    return json.dumps(
        {
            "event_id": event_id,
            "event_time": "2024-01-05T10:00:00.000Z",
            "user_id": 1,
            "ip": "23.1.2.3",
            "user_agent": "UA",
            "hostname": "www.learnlake.io",
            "url": "/",
            "referrer": None,
            "utm_source": None,
            "session_id": "s1",
            "action_type": "page_view",
            "properties": {},
        }  # every contract field present (include/raw_sources.py), null where unknown
    )


def _ids(spark, settings, **read_options):
    from include.tables import table_location

    reader = spark.read.format("delta")
    for key, value in read_options.items():
        reader = reader.option(key, value)
    df = reader.load(table_location(BRONZE_WEB_EVENTS, settings)).where(f"ds = '{DS}'")
    return sorted(r.event_id for r in df.select("event_id").collect())


WARN_QUARANTINE = "quarantine rate <= 5 %"


def test_bronze_gate_blocks_on_lost_lines_and_puts_back_the_previous_good_partition(
    spark, settings
):
    from include.tables import read_partition
    from spark_jobs.bronze import web_events

    folder = Path(settings.raw_path("web_events", DS))
    folder.mkdir(parents=True)
    raw = folder / "part-00000.jsonl"
    # a good day: gated, passes its blocking rules (1 line of 3 quarantined: 33 %, over the
    # 5 % warning and under the 50 % block of the quarantine rate)
    raw.write_text("\n".join([_line("e1"), _line("e2"), "{not json"]) + "\n")
    web_events.main(spark, DS, settings)
    passed = gate.main(spark, DS, settings, {"tables": ["bronze.web_events"]})
    assert passed.extra["tables"]["bronze.web_events"]["status"] == "warn"
    assert passed.extra["tables"]["bronze.web_events"]["warnings"] == [WARN_QUARANTINE]

    # the day is delivered again with two more events, and a line lands after bronze ran:
    # raw no longer equals bronze + quarantine
    raw.write_text("\n".join([_line("e1"), _line("e2"), _line("e4"), "{not json"]) + "\n")
    written = web_events.main(spark, DS, settings)
    assert written.rows_out == 3
    raw.write_text(raw.read_text() + _line("e3") + "\n")

    with pytest.raises(QualityGateFailed) as err:
        gate.main(spark, DS, settings, {"table": "bronze.web_events"})
    text = str(err.value)
    assert "bronze.web_events" in text and DS in text and RULE in text
    assert "'unaccounted_lines': 1" in text
    assert "previous good rows (2) are back" in text
    # what the failure alert names (include/alerts.py)
    assert (err.value.table, err.value.ds, err.value.rules) == ("bronze.web_events", DS, (RULE,))
    assert err.value.suite == "bronze_web_events" and err.value.data_docs.endswith("index.html")

    # every rule (4 row-level + 4 derived) is recorded; only the accounting one blocked (1 of
    # 4 lines quarantined: the quarantine rate warns)
    results = read_partition(spark, QUALITY_RESULTS, DS, settings).collect()
    assert len(results) == 8 and {r.suite for r in results} == {"bronze_web_events"}
    assert sorted((r.rule, r.severity) for r in results if not r.success) == [
        (WARN_QUARANTINE, "warn"), (RULE, "block")
    ]
    # readers see the last good partition; the rejected one is kept for inspection
    assert _ids(spark, settings) == ["e1", "e2"]
    rejected = int(text.split("VERSION AS OF ")[1].split(".")[0])
    assert _ids(spark, settings, versionAsOf=rejected) == ["e1", "e2", "e4"]


def test_a_rejected_new_partition_is_removed_again(spark, settings):
    from spark_jobs.bronze import web_events

    folder = Path(settings.raw_path("web_events", DS))
    folder.mkdir(parents=True)
    raw = folder / "part-00000.jsonl"
    raw.write_text(_line("e1") + "\n")
    web_events.main(spark, DS, settings)
    raw.write_text(raw.read_text() + _line("e2") + "\n")

    with pytest.raises(QualityGateFailed, match="held no rows for it, so it is empty again"):
        gate.main(spark, DS, settings, {"tables": ["bronze.web_events"]})
    assert _ids(spark, settings) == []


def test_month_partitioned_tables_gate_the_month_of_ds():
    from include.contracts import get_contract

    assert gate.partition_value(get_contract("gold.mrr_bridge"), "2024-03-31") == "2024-03"
    assert gate.partition_value(get_contract("bronze.web_events"), "2024-03-31") == "2024-03-31"


def test_every_suite_of_a_contract_exists_and_its_derived_checks_have_rules():
    from include.contracts import all_contracts
    from include.quality import load_suite_file, suite_checks
    from include.quality_checks import derived_checks

    suites = {c.suite for c in all_contracts() if c.suite}
    assert {"gold_agg_website_events", "gold_mrr_bridge", "bronze_web_events"} <= suites
    assert "gold_experiment_outcomes" in suites
    for suite in suites:
        spec = load_suite_file(suite)  # exists, every rule has a severity
        assert set(suite_checks(spec)) == set(derived_checks(suite)), suite


def test_sources_gate_blocks_a_source_whose_lines_are_mostly_quarantined(spark, settings):
    """Delta partitions made by hand: bronze.orders holds 2 rows for DS and the quarantine 3
    bronze rows of orders (3 / 5 = 60 % > 50 %) and 1 silver row (not counted). The gate of
    bronze.quarantine (the one sources.gate runs) blocks, naming orders and its rate; the
    quarantine rows stay (the evidence is not undone: many jobs wrote that partition)."""
    from include.table_catalog import QUARANTINE
    from include.table_catalog_bronze_sources import BRONZE_SOURCES
    from include.tables import read_partition, write_partition

    orders = BRONZE_SOURCES["orders"]
    good = spark.createDataFrame(
        [{**{f.name: None for f in orders.spark_schema().fields}, "ds": DS} for _ in range(2)],
        orders.spark_schema(),
    )
    write_partition(spark, good, orders, DS, settings)

    def bad(n, layer):
        rows = [("orders", layer, "unparseable", "{oops", "f.csv", f"h{i}", DS) for i in range(n)]
        write_partition(spark, spark.createDataFrame(rows, QUARANTINE.spark_schema()),
                        QUARANTINE, DS, settings, {"layer": layer, "source": "orders"})  # fmt: skip

    bad(3, "bronze")
    bad(1, "silver")
    with pytest.raises(QualityGateFailed) as err:
        gate.main(spark, DS, settings, {"table": "bronze.quarantine"})
    text = str(err.value)
    assert "mostly quarantined" in text and "'source': 'orders'" in text
    assert "quarantine rate per non-web bronze source <= 50 %" in err.value.rules[0]
    assert read_partition(spark, QUARANTINE, DS, settings).count() == 4


def test_one_gate_task_records_all_its_tables_in_one_commit(spark, settings):
    """A gate of two tables (as sources.gate gates four) writes both suites' results to
    gold.quality_results in one Delta commit; a second run replaces them (same rows)."""
    from include.tables import read_partition, table_version
    from spark_jobs.bronze import web_events

    folder = Path(settings.raw_path("web_events", DS))
    folder.mkdir(parents=True)
    lines = [_line(f"e{i}") for i in range(30)] + ["{not json"]
    (folder / "part-00000.jsonl").write_text("\n".join(lines) + "\n")
    web_events.main(spark, DS, settings)
    params = {"tables": ["bronze.web_events", "bronze.quarantine"]}

    def suites():
        rows = read_partition(spark, QUALITY_RESULTS, DS, settings).collect()
        return sorted((r.suite, r.rule) for r in rows)

    gate.main(spark, DS, settings, params)
    first = table_version(spark, QUALITY_RESULTS, settings)
    recorded = suites()
    assert {s for s, _ in recorded} == {"bronze_web_events", "bronze_quarantine"}
    gate.main(spark, DS, settings, params)
    assert table_version(spark, QUALITY_RESULTS, settings) == first + 1  # one commit a run
    assert suites() == recorded  # replaced, not appended
