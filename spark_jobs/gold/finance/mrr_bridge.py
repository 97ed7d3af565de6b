"""gold.mrr_bridge and gold.mrr_snapshot_user_month (seed 004): the MRR bridge of one month.

A run for ``ds`` rebuilds the month containing ``ds`` from the billing history that landed by
``ds`` (see ``_common`` for the snapshot rule and how the read is bounded). Each account is
classified once from its two snapshots, so
``end = start + new + expansion - contraction - churn`` holds exactly in DECIMAL: a
customer who churns and comes back inside one month is flat, expansion or contraction, and
one who starts and cancels inside the month moves nothing, exactly as the snapshots say.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from include.engine import keep
from include.table_catalog_finance import MRR_BRIDGE, MRR_SNAPSHOT_USER_MONTH
from include.table_catalog_sources import SILVER_BILLING_EVENTS
from spark_jobs.common import JobResult
from spark_jobs.gold.finance._common import (
    MONEY,
    MonthWindow,
    filter_landed_by,
    kept,
    read_history,
    user_month_snapshots,
    with_month_columns,
    write_month,
)

if TYPE_CHECKING:
    from pyspark.sql import DataFrame


def transform_snapshots(billing: DataFrame, ds: str) -> DataFrame:
    """Per account: start and end MRR of the month containing ``ds`` and its category."""
    window = MonthWindow.of(ds)
    snaps = user_month_snapshots(filter_landed_by(billing, ds), window)
    return with_month_columns(snaps, window)


def bridge_from_snapshots(snapshots: DataFrame) -> DataFrame:
    """Sum per-account snapshots into the one-row bridge of their month.

    end_mrr is summed independently of the movements, so the identity is a real check.
    """
    from pyspark.sql import functions as F

    s, e, cat = F.col("start_mrr"), F.col("end_mrr"), F.col("mrr_category")
    zero = F.lit(0).cast(MONEY)

    def total(value, when=None):
        picked = value if when is None else F.when(when, value).otherwise(zero)
        return F.coalesce(F.sum(picked), zero).cast(MONEY)

    def count(when):
        return F.count(F.when(when, True)).cast("bigint")

    return snapshots.groupBy("as_of_ds", "month").agg(
        total(s).alias("start_mrr"),
        total(e, cat == "new").alias("new_mrr"),
        total(e - s, cat == "expansion").alias("expansion_mrr"),
        total(s - e, cat == "contraction").alias("contraction_mrr"),
        total(s, cat == "churn").alias("churn_mrr"),
        total(e).alias("end_mrr"),
        count(s > 0).alias("start_customers"),
        count(cat == "new").alias("new_customers"),
        count(cat == "expansion").alias("expansion_customers"),
        count(cat == "contraction").alias("contraction_customers"),
        count(cat == "churn").alias("churned_customers"),
        count(cat == "flat").alias("flat_customers"),
        count(e > 0).alias("end_customers"),
    )


def transform(billing: DataFrame, ds: str) -> DataFrame:
    """The one-row MRR bridge of the month containing ``ds`` (zeros when nobody pays).

    A month with no paying account still gets its row, so the table has no holes.
    """
    from pyspark.sql import functions as F

    window = MonthWindow.of(ds)
    bridge = bridge_from_snapshots(transform_snapshots(billing, ds))
    spark = billing.sparkSession
    empty = with_month_columns(spark.range(1).select(), window)
    return empty.join(bridge, ["as_of_ds", "month"], "left").select(
        *[
            F.coalesce(F.col(c), F.lit(0).cast(t)).alias(c)
            for c, t in (
                ("start_mrr", MONEY),
                ("new_mrr", MONEY),
                ("expansion_mrr", MONEY),
                ("contraction_mrr", MONEY),
                ("churn_mrr", MONEY),
                ("end_mrr", MONEY),
                ("start_customers", "bigint"),
                ("new_customers", "bigint"),
                ("expansion_customers", "bigint"),
                ("contraction_customers", "bigint"),
                ("churned_customers", "bigint"),
                ("flat_customers", "bigint"),
                ("end_customers", "bigint"),
            )
        ],
        "as_of_ds",
        "month",
    )


def main(spark, ds: str, settings, params: dict | None = None) -> JobResult:
    from include.tables import table_version

    window = MonthWindow.of(ds)
    billing = keep(read_history(spark, SILVER_BILLING_EVENTS, ds, settings))
    try:
        # the bridge's state guards both: they are written together, snapshots first
        snaps = write_month(spark, transform_snapshots(billing, ds), MRR_SNAPSHOT_USER_MONTH,
                            window, settings, guard=MRR_BRIDGE)  # fmt: skip
        bridge = write_month(spark, transform(billing, ds), MRR_BRIDGE, window, settings)
    finally:
        billing.unpersist()
    return JobResult(
        job="gold.finance.mrr_bridge",
        ds=ds,
        rows_out=bridge["rows"],
        versions={
            SILVER_BILLING_EVENTS.qualified_name: table_version(
                spark, SILVER_BILLING_EVENTS, settings
            ),
            MRR_SNAPSHOT_USER_MONTH.qualified_name: snaps["version"],
            MRR_BRIDGE.qualified_name: bridge["version"],
        },
        extra={"month": window.month, "snapshot_rows": snaps["rows"], **kept(bridge)},
    )
