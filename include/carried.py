"""Carried state: fold one day's partitions into yesterday's state instead of re-reading all.

An experiment-to-date table as of ``ds`` is a function of every input partition from the
experiment's start to ds. When that function is a merge of per-key aggregates (min, min-by,
distinct sets), the aggregates of ``[start, ds]`` equal the merge of the aggregates of
``[start, ds - 1]`` (yesterday's *state*) with those of ds alone. A job then reads its state
partition of ds - 1 and the day's partitions, not the whole window.

Yesterday's state is used only when it is still true. A state partition records the last
input partition it folded (``through``) and the Delta version of every input table it read
(``input_versions``). Before folding, :func:`stale_inputs` reads each input table's commits
after that version; a commit that rewrote (or restored) a partition on or before
``through`` (a backfill, a re-run of an earlier day) makes the state stale, and the job
rebuilds from the whole window instead. So does a commit it cannot attribute to one
partition, a missing or empty state, or history it cannot read back to the recorded
version: the fallback is always the full recompute, never a guess.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from include.tables import table_exists, table_location, validate_ds

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

    from include.contracts import TableContract

# write_partition / restore_partition tag every commit: "write:<table>:<predicate>:<token>"
_TAG = re.compile(r"^(write|restore):(?P<table>[a-z_.]+):(?P<predicate>.*):[^:]*$")
_DS = re.compile(r"\bds = '(\d{4}-\d{2}-\d{2})'")


def input_versions(
    spark: SparkSession, contracts: list[TableContract], settings
) -> dict[str, int]:
    """``{qualified name: current version}`` of the inputs (-1 for a table not created yet)."""
    from include.tables import table_version

    return {
        c.qualified_name: table_version(spark, c, settings)
        if table_exists(spark, c, settings)
        else -1
        for c in contracts
    }


def commit_partition(user_metadata: str | None) -> str | None:
    """The ``ds`` a tagged commit replaced, or None when the commit names no single ds."""
    match = _TAG.match(user_metadata or "")
    if not match:
        return None
    days = _DS.findall(match.group("predicate"))
    return days[0] if len(days) == 1 else None


def stale_inputs(
    spark: SparkSession,
    contracts: list[TableContract],
    recorded: dict[str, int],
    through: str,
    settings,
) -> list[str]:
    """Why a state that folded inputs up to ``through`` at ``recorded`` versions is stale.

    Empty list = every commit since touched only partitions after ``through``.
    """
    from delta.tables import DeltaTable

    from include.tables import table_version

    validate_ds(through)
    reasons = []
    for c in contracts:
        name = c.qualified_name
        if name not in recorded:
            reasons.append(f"{name}: no recorded version")
            continue
        if not table_exists(spark, c, settings):
            if recorded[name] != -1:
                reasons.append(f"{name}: table gone")
            continue
        current = table_version(spark, c, settings)
        since = recorded[name]
        if current == since:
            continue
        if current < since:
            reasons.append(f"{name}: version {current} is older than recorded {since}")
            continue
        history = (
            DeltaTable.forPath(spark, table_location(c, settings))
            .history(current - max(since, -1))
            .select("version", "userMetadata")
            .collect()
        )
        seen = {int(r["version"]) for r in history}
        if not set(range(max(since, -1) + 1, current + 1)) <= seen:
            reasons.append(f"{name}: commits after {since} no longer in the log")
            continue
        for row in history:
            if int(row["version"]) <= since:
                continue
            day = commit_partition(row["userMetadata"])
            if day is None:
                reasons.append(f"{name}: commit {row['version']} names no single ds")
            elif day <= through:
                reasons.append(f"{name}: ds={day} rewritten at version {row['version']}")
    return reasons


def read_state(
    spark: SparkSession,
    contract: TableContract,
    ds: str,
    experiment: str,
    settings,
) -> DataFrame | None:
    """The state partition (ds, experiment), or None when the table or partition is empty."""
    from pyspark.sql import functions as F

    from include.tables import read_partition

    if not table_exists(spark, contract, settings):
        return None
    state = read_partition(spark, contract, ds, settings).where(
        F.col("experiment") == experiment
    )
    return None if state.isEmpty() else state


def state_meta(state: DataFrame) -> tuple[str, dict[str, int]]:
    """``(through, input_versions)`` of a state partition (the same on every row)."""
    import json

    from pyspark.sql import functions as F

    meta = F.to_json(F.map_entries("input_versions")).alias("versions")
    rows = state.select("through", meta).distinct().limit(2).collect()
    if len(rows) != 1:
        raise ValueError(f"state partition carries {len(rows)} different metadata rows")
    pairs = json.loads(rows[0]["versions"])
    return rows[0]["through"], {p["key"]: int(p["value"]) for p in pairs}


def with_meta(state: DataFrame, through: str, versions: dict[str, int]) -> DataFrame:
    """Stamp ``through`` and ``input_versions`` on every state row."""
    from pyspark.sql import functions as F

    validate_ds(through)
    pairs = [x for k, v in sorted(versions.items()) for x in (F.lit(k), F.lit(v).cast("bigint"))]
    return state.withColumn("through", F.lit(through)).withColumn(
        "input_versions", F.create_map(*pairs)
    )
