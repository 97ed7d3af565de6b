"""gold.monthly_funnel (seed 004): the subscription funnel of one month, month-to-date.

Counts billing lifecycle events whose event_time falls in the month containing ``ds`` (up to
the end of ``ds``): signups = trial starts (every signup starts the strict 14-day trial),
activations, paid_conversions = paid starts, bookings and the MRR they booked. Counts are of
events in the month, not of a cohort: a trial started in January that converts in February
counts as a February conversion.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from include.table_catalog_finance import MONTHLY_FUNNEL
from include.table_catalog_sources import SILVER_BILLING_EVENTS
from spark_jobs.common import JobResult
from spark_jobs.gold.finance._common import (
    MONEY,
    MonthWindow,
    filter_between,
    filter_landed_by,
    kept,
    read_history,
    with_month_columns,
    write_month,
)

if TYPE_CHECKING:
    from pyspark.sql import DataFrame


def transform(billing: DataFrame, ds: str) -> DataFrame:
    """One row: the month's funnel counts (zeros when nothing happened)."""
    from pyspark.sql import functions as F

    window = MonthWindow.of(ds)
    events = filter_between(filter_landed_by(billing, ds), "event_time", window.start, window.stop)
    kind = F.col("event_type")

    def n(event_type: str):
        return F.count(F.when(kind == event_type, True)).cast("bigint")

    funnel = events.agg(
        n("trial_start").alias("signups"),
        n("activation").alias("activations"),
        n("paid_start").alias("paid_conversions"),
        n("booking").alias("bookings"),
        F.coalesce(F.sum(F.when(kind == "booking", F.col("mrr"))), F.lit(0))
        .cast(MONEY)
        .alias("booking_mrr"),
        # a cancellation with no MRR before it ends a trial, not a subscription
        F.count(F.when((kind == "cancellation") & (F.col("previous_mrr") == 0), True))
        .cast("bigint")
        .alias("trial_cancellations"),
    )
    return with_month_columns(funnel, window)


def main(spark, ds: str, settings, params: dict | None = None) -> JobResult:
    from include.tables import table_version

    window = MonthWindow.of(ds)
    billing = read_history(spark, SILVER_BILLING_EVENTS, ds, settings)
    out = write_month(spark, transform(billing, ds), MONTHLY_FUNNEL, window, settings)
    return JobResult(
        job="gold.finance.monthly_funnel",
        ds=ds,
        rows_out=out["rows"],
        versions={
            SILVER_BILLING_EVENTS.qualified_name: table_version(
                spark, SILVER_BILLING_EVENTS, settings
            ),
            MONTHLY_FUNNEL.qualified_name: out["version"],
        },
        extra={"month": window.month, **kept(out)},
    )
