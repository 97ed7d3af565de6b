"""gold.user_master (seed 004, PK user_id): one row per account as of the end of ``ds``.

Demographics come from the latest CRM row (silver.accounts, latest updated_at, then latest
landing ds) landed by ``ds``; billing state from silver.billing_events up to the end of ``ds``:
current_mrr (latest event's mrr), first_paid_at and paid_cohort (its month), is_paying,
churned (paid once, 0 now). current_plan is the plan of the latest billing event while
paying (the billing system is the record of what is paid for), else the CRM plan (free /
trial plan). cohort_month is the signup month, the seed's join key to monthly_funnel.
Accounts without a CRM row are not listed: the CRM is the system of record of accounts.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from include.table_catalog_finance import USER_MASTER
from include.table_catalog_sources import SILVER_ACCOUNTS, SILVER_BILLING_EVENTS
from spark_jobs.common import JobResult
from spark_jobs.gold.finance._common import (
    MONEY,
    MonthWindow,
    filter_landed_by,
    read_history,
    ts,
)

if TYPE_CHECKING:
    from pyspark.sql import DataFrame


def filter_latest_account(accounts: DataFrame) -> DataFrame:
    """Keep each user's latest CRM row (latest updated_at, then latest landing ds)."""
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    order = Window.partitionBy("user_id").orderBy(F.desc("updated_at"), F.desc("ds"))
    return (
        accounts.withColumn("_rank", F.row_number().over(order))
        .where(F.col("_rank") == 1)
        .drop("_rank")
    )


def billing_state(billing: DataFrame, stop: str) -> DataFrame:
    """``(user_id, current_mrr, paid_plan, ever_paid, first_paid_at)`` before ``stop``."""
    from pyspark.sql import functions as F

    latest = F.struct("event_time", "billing_event_id")
    return (
        billing.where(F.col("event_time") < ts(stop))
        .groupBy("user_id")
        .agg(
            F.max_by("mrr", latest).alias("current_mrr"),
            F.max_by("plan", latest).alias("paid_plan"),
            F.max(F.col("mrr") > 0).alias("ever_paid"),
            F.min(F.when(F.col("mrr") > 0, F.col("event_time"))).alias("first_paid_at"),
        )
    )


def transform(accounts: DataFrame, billing: DataFrame, ds: str) -> DataFrame:
    from pyspark.sql import functions as F

    window = MonthWindow.of(ds)
    crm = filter_latest_account(filter_landed_by(accounts, ds)).drop("ds")
    state = billing_state(filter_landed_by(billing, ds), window.stop)
    mrr = F.coalesce(F.col("current_mrr"), F.lit(0)).cast(MONEY)
    paying = mrr > 0
    return crm.join(state, "user_id", "left").select(
        "user_id",
        "signup_at",
        F.date_format("signup_at", "yyyy-MM").alias("cohort_month"),
        "customer_type",
        "region",
        "country",
        "acquisition_channel",
        "device_type",
        F.when(paying, F.col("paid_plan")).otherwise(F.col("plan")).alias("current_plan"),
        "package",
        "list_size",
        "is_fraud",
        "is_closed",
        "closed_at",
        "first_paid_at",
        F.date_format("first_paid_at", "yyyy-MM").alias("paid_cohort"),
        mrr.alias("current_mrr"),
        paying.alias("is_paying"),
        (F.coalesce(F.col("ever_paid"), F.lit(False)) & ~paying).alias("churned"),
        F.lit(ds).alias("ds"),
    )


def main(spark, ds: str, settings, params: dict | None = None) -> JobResult:
    from include.tables import table_version, write_partition

    accounts = read_history(spark, SILVER_ACCOUNTS, ds, settings)
    billing = read_history(spark, SILVER_BILLING_EVENTS, ds, settings)
    out = write_partition(spark, transform(accounts, billing, ds), USER_MASTER, ds, settings)
    return JobResult(
        job="gold.finance.user_master",
        ds=ds,
        rows_out=out["rows"],
        versions={
            c.qualified_name: table_version(spark, c, settings)
            for c in (SILVER_ACCOUNTS, SILVER_BILLING_EVENTS)
        }
        | {USER_MASTER.qualified_name: out["version"]},
    )
