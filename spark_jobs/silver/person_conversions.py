"""silver.person_conversions: each account's earliest paid start per landing day.

Seed 001: a visitor "does not have disqualifying prior activity (for example, a conversion
long before the experiment)". The experiment tables read billing events only from the start
minus the activation look-back, so a person who paid in 2023-06 and was exposed in 2024-03,
with no account row inside that window, used to come out an eligible prospect. This job
keeps the state that rule needs, one partition per landing day (re-running a day rewrites
that day only): the accounts with a ``paid_start`` among the day's silver billing events and
the earliest one's time. ``gold.experiments.common.first_paid`` folds every partition up to a
``ds`` into each account's first conversion ever: a few rows per converting account, never
the whole billing history (``gold.experiments.base`` joins it as ``first_paid_at``).

Rows in: the distinct accounts with a paid start in the day's billing events, counted on
the input; rows out: the rows written (one per such account).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from spark_jobs.common import JobResult

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession


def transform(billing: DataFrame, ds: str) -> DataFrame:
    """One day's silver billing events -> one row per account with a paid start."""
    from pyspark.sql import functions as F

    from include.table_catalog_sources import SILVER_PERSON_CONVERSIONS

    paid = billing.where((F.col("event_type") == "paid_start") & F.col("user_id").isNotNull())
    out = paid.groupBy("user_id").agg(
        F.min("event_time").alias("first_paid_at"),
        F.count(F.lit(1)).cast("int").alias("paid_starts"),
    )
    return out.withColumn("ds", F.lit(ds)).select(*SILVER_PERSON_CONVERSIONS.columns)


def main(spark: SparkSession, ds: str, settings, params: dict | None = None) -> JobResult:
    from pyspark.sql import functions as F

    from include.table_catalog_sources import SILVER_BILLING_EVENTS, SILVER_PERSON_CONVERSIONS
    from include.tables import read_partition, validate_ds, write_partition

    validate_ds(ds)
    billing = read_partition(spark, SILVER_BILLING_EVENTS, ds, settings)
    paid = billing.where((F.col("event_type") == "paid_start") & F.col("user_id").isNotNull())
    accounts = paid.select("user_id").distinct().count()  # rows in, counted on the input
    out = write_partition(spark, transform(billing, ds), SILVER_PERSON_CONVERSIONS, ds, settings)
    result = JobResult(job="silver.person_conversions", ds=ds, rows_in=accounts)
    result.rows_out = out["rows"]
    result.versions = {SILVER_PERSON_CONVERSIONS.qualified_name: out["version"]}
    return result.check_accounting()
