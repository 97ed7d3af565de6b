"""The quality.gate job end to end on bronze.web_events: row-level suite + derived row
accounting, results in gold.quality_results, a blocking failure names table, ds, rule and
rows, and the gated partition stays readable."""

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
            "action_type": "page_view",
        }
    )


def test_bronze_gate_passes_then_blocks_on_lost_lines(spark, settings):
    from include.tables import read_partition
    from spark_jobs.bronze import web_events

    folder = Path(settings.raw_path("web_events", DS))
    folder.mkdir(parents=True)
    raw = folder / "part-00000.jsonl"
    raw.write_text("\n".join([_line("e1"), _line("e2"), "{not json"]) + "\n")
    web_events.main(spark, DS, settings)

    out = gate.main(spark, DS, settings, {"table": "bronze.web_events"})
    assert out.extra["status"] == "pass" and out.extra["rules"] == 6
    results = read_partition(spark, QUALITY_RESULTS, DS, settings).collect()
    assert len(results) == 6 and all(r.success for r in results)
    assert {r.suite for r in results} == {"bronze_web_events"}

    # a line lands after bronze ran: raw no longer equals bronze + quarantine
    raw.write_text(raw.read_text() + _line("e3") + "\n")
    with pytest.raises(QualityGateFailed) as err:
        gate.main(spark, DS, settings, {"table": "bronze.web_events"})
    text = str(err.value)
    assert "bronze.web_events" in text and DS in text and RULE in text
    assert "'unaccounted_lines': 1" in text

    failed = [
        r for r in read_partition(spark, QUALITY_RESULTS, DS, settings).collect() if not r.success
    ]
    assert [(r.rule, r.severity) for r in failed] == [(RULE, "block")]
    # the gate never deletes: the partition it judged is still there
    assert read_partition(spark, BRONZE_WEB_EVENTS, DS, settings).count() == 2
