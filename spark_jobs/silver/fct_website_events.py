"""silver.fct_website_events (seed 003): conformed, deduplicated, enriched website events.

From ``bronze.web_events`` for ``ds``:
- conformance: rows without a timestamp, with a malformed hostname, an action type outside
  the enumeration, no IP / user agent, or a bot user agent go to quarantine with the reason;
- deduplication: one row per ``event_id`` (duplicate deliveries -> quarantine
  ``duplicate_event``), then one row per primary key (``logged_out_user_id``,
  ``event_timestamp``) (-> ``duplicate_primary_key``);
- enrichment: ``dim_country`` from the IP, ``dim_device_brand`` from the user agent,
  ``logged_out_user_id`` = murmur3 hash of IP and user agent as BIGINT; the raw IP is dropped.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from include.enrichment import HOSTNAME_PATTERN, device_brand, is_bot, with_country
from include.raw_sources import ACTION_TYPES
from include.table_catalog import BRONZE_WEB_EVENTS, FCT_WEBSITE_EVENTS, QUARANTINE
from spark_jobs.common import JobResult, quarantine_rows

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

SOURCE = "web_events"
# Columns of the raw event kept in other_properties (seed 003: "any other valid properties").
CARRIED_PROPERTIES = ("event_id", "url", "referrer", "utm_source", "session_id")


def with_conformance_reason(df: DataFrame) -> DataFrame:
    from pyspark.sql import functions as F

    return df.withColumn(
        "reason",
        F.when(F.col("event_timestamp").isNull(), F.lit("missing_event_time"))
        .when(F.col("hostname").isNull(), F.lit("missing_hostname"))
        .when(~F.col("hostname").rlike(HOSTNAME_PATTERN), F.lit("bad_hostname"))
        .when(F.col("action_type").isNull(), F.lit("missing_action_type"))
        .when(~F.col("action_type").isin(*ACTION_TYPES), F.lit("unknown_action_type"))
        .when(F.col("ip").isNull() | F.col("user_agent").isNull(), F.lit("missing_ip_or_ua"))
        .when(is_bot(F.col("user_agent")), F.lit("bot_traffic")),
    )


def with_rank(df: DataFrame, keys: list, name: str) -> DataFrame:
    """Deterministic rank within ``keys``: earliest event first, then by raw-record hash."""
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    window = Window.partitionBy(*keys).orderBy("event_timestamp", "_record_hash")
    return df.withColumn(name, F.row_number().over(window))


def with_enrichment(df: DataFrame, spark: SparkSession) -> DataFrame:
    from pyspark.sql import functions as F

    return with_country(df, "ip", spark).select(
        "*",
        F.hash(F.col("ip"), F.col("user_agent")).cast("bigint").alias("logged_out_user_id"),
        device_brand(F.col("user_agent")).alias("dim_device_brand"),
    )


def with_other_properties(df: DataFrame) -> DataFrame:
    from pyspark.sql import functions as F

    carried = F.create_map(*[x for c in CARRIED_PROPERTIES for x in (F.lit(c), F.col(c))])
    own = F.map_filter("properties", lambda k, _: ~k.isin(*CARRIED_PROPERTIES))
    return df.withColumn(
        "other_properties",
        F.map_concat(own, F.map_filter(carried, lambda _, v: v.isNotNull())),
    )


def label(bronze: DataFrame, spark: SparkSession) -> DataFrame:
    """Every bronze row, enriched, with ``reason`` why it is rejected (null: it is a fact).

    In order: a conformance rule; ``duplicate_event`` for all but the first delivery of an
    ``event_id`` among conforming rows; ``duplicate_primary_key`` for all but the first of
    the remaining rows sharing (``logged_out_user_id``, ``event_timestamp``). One frame, so
    the job computes the ranks once and writes the facts and the quarantine from it.
    """
    from pyspark.sql import functions as F

    checked = with_enrichment(with_conformance_reason(bronze), spark)
    conforming = F.col("reason").isNull()
    ranked = with_rank(
        checked.withColumn("_conforming", conforming), ["_conforming", "event_id"], "_event_rank"
    )
    candidate = F.col("_conforming") & (F.col("_event_rank") == 1)
    ranked = with_rank(
        ranked.withColumn("_candidate", candidate),
        ["_candidate", "logged_out_user_id", "event_timestamp"],
        "_pk_rank",
    )
    return ranked.withColumn(
        "reason",
        F.when(~F.col("_conforming"), F.col("reason"))
        .when(F.col("_event_rank") > 1, F.lit("duplicate_event"))
        .when(F.col("_pk_rank") > 1, F.lit("duplicate_primary_key")),
    ).drop("_conforming", "_candidate", "_event_rank", "_pk_rank")


def split(labeled: DataFrame, bronze_columns: list[str], ds: str) -> tuple[DataFrame, DataFrame]:
    """``label``'s rows -> (fct_website_events rows for ds, quarantine rows)."""
    from pyspark.sql import functions as F

    facts = with_other_properties(labeled.where(F.col("reason").isNull())).select(
        "user_id",
        "logged_out_user_id",
        F.col("hostname").alias("dim_hostname"),
        "dim_country",
        "dim_device_brand",
        F.col("action_type").alias("dim_action_type"),
        "event_timestamp",
        "other_properties",
        F.lit(ds).alias("ds"),
    )
    # The quarantined record drops the raw IP too: it must not outlive bronze.
    record = F.to_json(F.struct(*[c for c in bronze_columns if c not in ("ip", "ds")]))
    quarantine = quarantine_rows(
        labeled.where(F.col("reason").isNotNull()),
        source=SOURCE,
        layer="silver",
        reason=F.col("reason"),
        ds=ds,
        record=record,
        source_file=F.col("_source_file"),
        record_hash=F.col("_record_hash"),
    )
    return facts, quarantine


def transform(bronze: DataFrame, ds: str, spark: SparkSession) -> tuple[DataFrame, DataFrame]:
    """Returns (fct_website_events rows for ds, quarantine rows)."""
    return split(label(bronze, spark), bronze.columns, ds)


def main(spark: SparkSession, ds: str, settings, params: dict | None = None) -> JobResult:
    from include.tables import read_partition, table_version, write_partition

    bronze = read_partition(spark, BRONZE_WEB_EVENTS, ds, settings)
    # Labelled once: the count and both writes read the persisted rows (before, the
    # quarantine write ranked and enriched the day's events a second time).
    labeled = label(bronze, spark).persist()
    try:  # a failure must not leave the day's rows persisted for a later run in this session
        result = JobResult(job="silver.fct_website_events", ds=ds, rows_in=labeled.count())
        facts, quarantine = split(labeled, bronze.columns, ds)
        out = write_partition(spark, facts, FCT_WEBSITE_EVENTS, ds, settings)
        q = write_partition(
            spark, quarantine, QUARANTINE, ds, settings, {"layer": "silver", "source": SOURCE}
        )
    finally:
        labeled.unpersist()
    result.rows_out, result.rows_quarantined = out["rows"], q["rows"]
    result.versions = {
        BRONZE_WEB_EVENTS.qualified_name: table_version(spark, BRONZE_WEB_EVENTS, settings),
        FCT_WEBSITE_EVENTS.qualified_name: out["version"],
    }
    return result.check_accounting()
