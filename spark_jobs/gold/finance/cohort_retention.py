"""gold.cohort_retention (seed 004, PK cohort + month_offset): paying-customer retention.

cohort = the calendar month of an account's first paid MRR (its first billing event with
mrr > 0); an account is retained at month_offset k when it pays (MRR > 0) at the end of
month cohort + k, month-to-date while that month is open. A customer who churns and comes
back counts as retained again once paying. retention_rate = retained / cohort size, so
offset 0 is below 1 only for customers who left within their first month.

A run for ``ds`` writes the cells whose calendar month (cohort + month_offset) is the month
of ``ds``, for every cohort up to it: the table is partitioned by that calendar month, so the
union of partitions is the whole heatmap with each cell once.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from include.table_catalog_finance import COHORT_RETENTION
from include.table_catalog_sources import SILVER_BILLING_EVENTS
from spark_jobs.common import JobResult
from spark_jobs.gold.finance._common import (
    MONEY,
    MonthWindow,
    filter_landed_by,
    kept,
    mrr_at,
    read_history,
    safe_ratio,
    ts,
    with_month_columns,
    write_month,
)

if TYPE_CHECKING:
    from pyspark.sql import DataFrame


def with_paid_cohort(billing: DataFrame, stop: str) -> DataFrame:
    """``(user_id, first_paid_at, cohort)`` of every account that paid before ``stop``."""
    from pyspark.sql import functions as F

    return (
        billing.where((F.col("mrr") > 0) & (F.col("event_time") < ts(stop)))
        .groupBy("user_id")
        .agg(F.min("event_time").alias("first_paid_at"))
        .withColumn("cohort", F.date_format("first_paid_at", "yyyy-MM"))
    )


def transform(billing: DataFrame, ds: str) -> DataFrame:
    """Retention of every cohort at the month containing ``ds``."""
    from pyspark.sql import functions as F

    window = MonthWindow.of(ds)
    history = filter_landed_by(billing, ds)
    cohorts = with_paid_cohort(history, window.stop)
    now = mrr_at(history, window.stop)
    paying = F.coalesce(F.col("mrr"), F.lit(0)) > 0
    cells = (
        cohorts.join(now, "user_id", "left")
        .groupBy("cohort")
        .agg(
            F.count(F.lit(1)).cast("bigint").alias("cohort_customers"),
            F.count(F.when(paying, True)).cast("bigint").alias("retained_customers"),
            F.coalesce(F.sum(F.when(paying, F.col("mrr"))), F.lit(0))
            .cast(MONEY)
            .alias("retained_mrr"),
        )
    )
    offset = F.months_between(
        F.to_date(F.lit(window.start)), F.to_date(F.concat("cohort", F.lit("-01")))
    ).cast("int")
    out = cells.select(
        "cohort",
        offset.alias("month_offset"),
        "cohort_customers",
        "retained_customers",
        safe_ratio(F.col("retained_customers"), F.col("cohort_customers")).alias("retention_rate"),
        "retained_mrr",
    )
    return with_month_columns(out, window)


def main(spark, ds: str, settings, params: dict | None = None) -> JobResult:
    from include.tables import table_version

    window = MonthWindow.of(ds)
    billing = read_history(spark, SILVER_BILLING_EVENTS, ds, settings)
    out = write_month(spark, transform(billing, ds), COHORT_RETENTION, window, settings)
    return JobResult(
        job="gold.finance.cohort_retention",
        ds=ds,
        rows_out=out["rows"],
        versions={
            SILVER_BILLING_EVENTS.qualified_name: table_version(
                spark, SILVER_BILLING_EVENTS, settings
            ),
            COHORT_RETENTION.qualified_name: out["version"],
        },
        extra={"month": window.month, **kept(out)},
    )
