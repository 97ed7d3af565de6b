"""gold.churn_flags (seed 004): who churned, when, and their last NPS answer, as of ``ds``.

Per account with billing history landed by ``ds`` (events up to the end of ``ds``): the MRR
state is replayed in event order; a *drop* is an event that takes MRR from > 0 to 0.
churned = paid once and MRR is 0 now; churn_month / churned_at are those of the latest drop
when churned (null otherwise); times_churned counts every drop, so a customer who churned and
came back has churned = false and times_churned = 1. The last NPS answer up to ``ds`` gives
nps_category (promoter 9-10, passive 7-8, detractor 0-6) and low_nps (a detractor), the
planted churn driver.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from include.table_catalog_finance import CHURN_FLAGS
from include.table_catalog_sources import SILVER_BILLING_EVENTS, SILVER_NPS_RESPONSES
from spark_jobs.common import JobResult
from spark_jobs.gold.finance._common import (
    MonthWindow,
    filter_landed_by,
    read_history,
    ts,
)

if TYPE_CHECKING:
    from pyspark.sql import DataFrame


def with_drops(billing: DataFrame) -> DataFrame:
    """Add ``is_drop``: this event took the account's MRR from > 0 to 0."""
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    order = Window.partitionBy("user_id").orderBy("event_time", "billing_event_id")
    before = F.coalesce(F.lag("mrr").over(order), F.lit(0))
    return billing.withColumn("is_drop", (before > 0) & (F.col("mrr") == 0))


def last_nps(nps: DataFrame, stop: str) -> DataFrame:
    """``(user_id, last_nps_score, last_nps_at)``: each account's latest answer before stop."""
    from pyspark.sql import functions as F

    return (
        nps.where(F.col("responded_at") < ts(stop))
        .groupBy("user_id")
        .agg(
            F.max_by("score", F.struct("responded_at", "response_id")).alias("last_nps_score"),
            F.max("responded_at").alias("last_nps_at"),
        )
    )


def transform(billing: DataFrame, nps: DataFrame, ds: str) -> DataFrame:
    from pyspark.sql import functions as F

    window = MonthWindow.of(ds)
    events = filter_landed_by(billing, ds).where(F.col("event_time") < ts(window.stop))
    state = (
        with_drops(events)
        .groupBy("user_id")
        .agg(
            F.max(F.col("mrr") > 0).alias("ever_paid"),
            F.max_by("mrr", F.struct("event_time", "billing_event_id")).alias("current_mrr"),
            F.max(F.when(F.col("is_drop"), F.col("event_time"))).alias("last_drop_at"),
            F.count(F.when(F.col("is_drop"), True)).cast("int").alias("times_churned"),
        )
    )
    churned = F.col("ever_paid") & (F.col("current_mrr") == 0)
    score = F.col("last_nps_score")
    category = (
        F.when(score >= 9, "promoter").when(score >= 7, "passive").when(score >= 0, "detractor")
    )
    return state.join(last_nps(filter_landed_by(nps, ds), window.stop), "user_id", "left").select(
        "user_id",
        "ever_paid",
        churned.alias("churned"),
        F.when(churned, F.col("last_drop_at")).alias("churned_at"),
        F.when(churned, F.date_format("last_drop_at", "yyyy-MM")).alias("churn_month"),
        "times_churned",
        score.cast("int").alias("last_nps_score"),
        "last_nps_at",
        category.alias("nps_category"),
        F.when(score.isNotNull(), score <= 6).alias("low_nps"),
        F.lit(ds).alias("ds"),
    )


def main(spark, ds: str, settings, params: dict | None = None) -> JobResult:
    from include.tables import table_version, write_partition

    billing = read_history(spark, SILVER_BILLING_EVENTS, ds, settings)
    nps = read_history(spark, SILVER_NPS_RESPONSES, ds, settings)
    out = write_partition(spark, transform(billing, nps, ds), CHURN_FLAGS, ds, settings)
    return JobResult(
        job="gold.finance.churn_flags",
        ds=ds,
        rows_out=out["rows"],
        versions={
            c.qualified_name: table_version(spark, c, settings)
            for c in (SILVER_BILLING_EVENTS, SILVER_NPS_RESPONSES)
        }
        | {CHURN_FLAGS.qualified_name: out["version"]},
    )
