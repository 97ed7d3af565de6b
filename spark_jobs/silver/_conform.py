"""Shared silver logic of the non-web sources: conform, deduplicate on the key, quarantine.

Each silver table holds what landed on ``ds`` (partition = landing day):
- conformance: rows breaking a source rule (unknown enumeration value, negative money, a
  score out of range, ...) go to ``bronze.quarantine`` (layer ``silver``) with the reason;
- deduplication on the contract's primary key: the latest row wins (``order_by`` desc, e.g.
  ``updated_at``), ties broken by the raw record hash so re-runs pick the same row; losers
  go to quarantine with reason ``duplicate_key``.
``rows in = rows out + rows quarantined`` holds per source and ds.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from include.engine import keep
from include.table_catalog import QUARANTINE
from include.table_catalog_bronze_sources import BRONZE_SOURCES, SILVER_OF_SOURCE
from spark_jobs.common import JobResult, quarantine_rows

if TYPE_CHECKING:
    from pyspark.sql import Column, DataFrame, SparkSession


@dataclass(frozen=True)
class SourceRules:
    """What silver enforces for one source."""

    source: str
    order_by: str  # latest wins among rows sharing the primary key
    rules: Callable[[], Sequence[tuple[str, Column]]]  # (reason, column true when broken)


def with_conformance_reason(df: DataFrame, rules: Sequence[tuple[str, Column]]) -> DataFrame:
    """``reason`` = the first rule the row breaks (null for a conforming row)."""
    from pyspark.sql import functions as F

    reason = F.lit(None).cast("string")
    for name, broken in reversed(list(rules)):
        reason = F.when(F.coalesce(broken, F.lit(False)), F.lit(name)).otherwise(reason)
    return df.withColumn("reason", reason)


def with_key_rank(df: DataFrame, keys: Sequence[str], order_by: str) -> DataFrame:
    """``_key_rank`` 1 = the row kept for its key: latest ``order_by``, then smallest hash."""
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    window = Window.partitionBy(*keys).orderBy(
        F.col(order_by).desc_nulls_last(), F.col("_record_hash")
    )
    return df.withColumn("_key_rank", F.row_number().over(window))


def conform_and_dedupe(
    bronze: DataFrame, spec: SourceRules, ds: str
) -> tuple[DataFrame, DataFrame]:
    """(conforming rows, one per key, with bronze columns) and quarantine rows."""
    from pyspark.sql import functions as F

    keys = SILVER_OF_SOURCE[spec.source].primary_key
    checked = with_conformance_reason(bronze, spec.rules())
    ranked = with_key_rank(checked.where(F.col("reason").isNull()), keys, spec.order_by)
    kept = ranked.where("_key_rank = 1").drop("_key_rank", "reason")
    rejected = checked.where(F.col("reason").isNotNull()).unionByName(
        ranked.where("_key_rank > 1").drop("_key_rank").withColumn("reason", F.lit("duplicate_key"))
    )
    record = F.to_json(F.struct(*[c for c in bronze.columns if c != "ds"]))
    quarantine = quarantine_rows(
        rejected,
        source=spec.source,
        layer="silver",
        reason=F.col("reason"),
        ds=ds,
        record=record,
        source_file=F.col("_source_file"),
        record_hash=F.col("_record_hash"),
    )
    return kept, quarantine


def to_silver(kept: DataFrame, source: str, ds: str) -> DataFrame:
    """Select the silver contract's columns (``ds`` set to the run's ds)."""
    from pyspark.sql import functions as F

    contract = SILVER_OF_SOURCE[source]
    return kept.withColumn("ds", F.lit(ds)).select(*contract.columns)


def run_silver(
    spark: SparkSession,
    ds: str,
    settings,
    spec: SourceRules,
    transform: Callable[..., tuple[DataFrame, DataFrame]],
    extra_inputs: dict | None = None,
) -> JobResult:
    """Read bronze for ds, transform, write the silver partition and its quarantine slice."""
    from include.tables import read_partition, table_version, write_partition

    bronze_contract = BRONZE_SOURCES[spec.source]
    silver_contract = SILVER_OF_SOURCE[spec.source]
    bronze = keep(read_partition(spark, bronze_contract, ds, settings))
    result = JobResult(job=f"silver.{spec.source}", ds=ds, rows_in=bronze.count())
    facts, quarantine = transform(bronze, ds, **(extra_inputs or {}))
    out = write_partition(spark, facts, silver_contract, ds, settings)
    q = write_partition(
        spark, quarantine, QUARANTINE, ds, settings, {"layer": "silver", "source": spec.source}
    )
    bronze.unpersist()
    result.rows_out, result.rows_quarantined = out["rows"], q["rows"]
    result.versions = {
        bronze_contract.qualified_name: table_version(spark, bronze_contract, settings),
        silver_contract.qualified_name: out["version"],
    }
    return result.check_accounting()
