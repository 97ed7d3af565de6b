"""gold.monthly_revenue (seed 004, PK month): subscription and shop revenue of one month.

Built from the same snapshots as gold.mrr_bridge (recomputed here rather than read, so the
job does not depend on another job's run order): mrr = MRR at month end (month-to-date while
open), ARR = 12 x MRR, ARPU = MRR / paying customers, the bridge movements, churn rates
against the start of the month, new bookings, and completed shop orders in the month.
total_revenue = mrr + shop_revenue (subscription revenue is recognised as the month's MRR).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from include.table_catalog_finance import MONTHLY_REVENUE
from include.table_catalog_sources import SILVER_BILLING_EVENTS, SILVER_ORDERS
from spark_jobs.common import JobResult
from spark_jobs.gold.finance import mrr_bridge
from spark_jobs.gold.finance._common import (
    MONEY,
    MonthWindow,
    filter_between,
    filter_landed_by,
    kept,
    read_history,
    safe_ratio,
    write_month,
)

if TYPE_CHECKING:
    from pyspark.sql import DataFrame


def transform(billing: DataFrame, orders: DataFrame, ds: str) -> DataFrame:
    """One row for the month containing ``ds``."""
    from pyspark.sql import functions as F

    window = MonthWindow.of(ds)
    bridge = mrr_bridge.transform(billing, ds)
    bookings = filter_between(
        filter_landed_by(billing, ds), "event_time", window.start, window.stop
    ).agg(
        F.count(F.when(F.col("event_type") == "booking", True))
        .cast("bigint")
        .alias("new_bookings"),
        F.coalesce(F.sum(F.when(F.col("event_type") == "booking", F.col("mrr"))), F.lit(0))
        .cast(MONEY)
        .alias("new_booking_mrr"),
    )
    shop = filter_between(filter_landed_by(orders, ds), "ordered_at", window.start, window.stop)
    shop = shop.where(F.col("status") == "completed").agg(
        F.count(F.lit(1)).cast("bigint").alias("shop_orders"),
        F.coalesce(F.sum("amount"), F.lit(0)).cast(MONEY).alias("shop_revenue"),
    )
    b = F.col
    return (
        bridge.crossJoin(bookings)
        .crossJoin(shop)
        .select(
            b("end_mrr").alias("mrr"),
            (b("end_mrr") * 12).cast(MONEY).alias("arr"),
            b("end_customers").alias("paying_customers"),
            F.when(b("end_customers") > 0, b("end_mrr") / b("end_customers"))
            .cast(MONEY)
            .alias("arpu"),
            "new_mrr",
            "expansion_mrr",
            "contraction_mrr",
            "churn_mrr",
            safe_ratio(b("churned_customers"), b("start_customers")).alias("customer_churn_rate"),
            safe_ratio(b("churn_mrr"), b("start_mrr")).alias("revenue_churn_rate"),
            safe_ratio(
                b("start_mrr") + b("expansion_mrr") - b("contraction_mrr") - b("churn_mrr"),
                b("start_mrr"),
            ).alias("net_revenue_retention"),
            "new_bookings",
            "new_booking_mrr",
            "shop_orders",
            "shop_revenue",
            (b("end_mrr") + b("shop_revenue")).cast(MONEY).alias("total_revenue"),
            "as_of_ds",
            "month",
        )
    )


def main(spark, ds: str, settings, params: dict | None = None) -> JobResult:
    from include.tables import table_version

    window = MonthWindow.of(ds)
    billing = read_history(spark, SILVER_BILLING_EVENTS, ds, settings)
    orders = read_history(spark, SILVER_ORDERS, ds, settings)
    out = write_month(spark, transform(billing, orders, ds), MONTHLY_REVENUE, window, settings)
    return JobResult(
        job="gold.finance.monthly_revenue",
        ds=ds,
        rows_out=out["rows"],
        versions={
            c.qualified_name: table_version(spark, c, settings)
            for c in (SILVER_BILLING_EVENTS, SILVER_ORDERS)
        }
        | {MONTHLY_REVENUE.qualified_name: out["version"]},
        extra={"month": window.month, **kept(out)},
    )
