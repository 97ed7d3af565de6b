"""include.delta_log: the newest commits read from the log in storage agree with Delta's own
``DESCRIBE HISTORY``, past a checkpoint (only the commits after it are listed)."""

from __future__ import annotations

import json
from pathlib import Path

from include.delta_log import latest_version, newest_commits


def _history(spark, location: str) -> list[tuple]:
    rows = spark.sql(f"DESCRIBE HISTORY delta.`{location}`").collect()
    return sorted(((r["version"], r["userMetadata"], dict(r["operationMetrics"] or {}))
                   for r in rows), reverse=True)  # fmt: skip


def test_newest_commits_match_describe_history_across_a_checkpoint(spark, tmp_path):
    location = str(tmp_path / "t")
    assert latest_version(location) is None and newest_commits(location, 3) == []
    for i in range(12):  # Delta checkpoints every 10th commit: version 10
        (spark.range(i + 1).selectExpr("id", "'2024-01-01' AS ds").write.format("delta")
         .mode("overwrite").option("replaceWhere", "ds = '2024-01-01'")
         .option("userMetadata", f"write-{i}").partitionBy("ds").save(location))
    log = Path(location, "_delta_log")
    assert json.loads((log / "_last_checkpoint").read_text())["version"] == 10
    assert latest_version(location) == 11
    ours = [(c["version"], c.get("userMetadata"), c.get("operationMetrics"))
            for c in newest_commits(location, 4)]  # fmt: skip
    assert ours == _history(spark, location)[:4]
    assert [v for v, _, _ in ours] == [11, 10, 9, 8]
    assert ours[0][1] == "write-11" and ours[0][2]["numOutputRows"] == "12"


def test_an_older_commit_of_the_table_is_read_by_version(spark, tmp_path):
    from include.delta_log import commit_info

    location = str(tmp_path / "t")
    spark.range(3).write.format("delta").option("userMetadata", "first").save(location)
    spark.range(5).write.format("delta").mode("append").save(location)
    assert commit_info(location, 0)["userMetadata"] == "first"
    assert commit_info(location, 0)["operationMetrics"]["numOutputRows"] == "3"
    assert commit_info(location, 1)["operation"] == "WRITE"
