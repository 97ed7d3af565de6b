"""gold.daily_growth (seed 003): daily traffic, signups, purchases and their conversion rates.

Per ``ds`` and hostname, plus a ``dim_hostname = 'all'`` row computed from the summed counts
(rates are never averaged across hostnames):

- website_hits: page_view + landing_page events (page loads; see ``_common.HIT_ACTIONS``);
- signups: signup events; purchases: purchase events;
- signup_conversion_rate = signups / website_hits (guardrail);
- purchase_conversion_rate = purchases / signups (guardrail; the seed's same-day ratio of
  counts, not a cohort rate: a purchase today may come from an earlier signup).

A rate with a 0 denominator is null (undefined), not 0 and not a division error.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from include.table_catalog import FCT_WEBSITE_EVENTS
from include.table_catalog_finance import DAILY_GROWTH
from spark_jobs.common import JobResult
from spark_jobs.gold.growth._common import ALL_HOSTS, HIT_ACTIONS

if TYPE_CHECKING:
    from pyspark.sql import DataFrame


def with_conversion_rates(counts: DataFrame) -> DataFrame:
    """Add both seed 003 guardrail rates, null when their denominator is 0."""
    from pyspark.sql import functions as F

    def ratio(num: str, den: str):
        return F.when(F.col(den) > 0, F.col(num).cast("double") / F.col(den).cast("double"))

    return counts.withColumn("signup_conversion_rate", ratio("signups", "website_hits")).withColumn(
        "purchase_conversion_rate", ratio("purchases", "signups")
    )


def transform(events: DataFrame, ds: str) -> DataFrame:
    """One row per hostname of the day's events, and one for all hostnames."""
    from pyspark.sql import functions as F

    from include.tables import validate_ds

    validate_ds(ds)
    action = F.col("dim_action_type")

    def n(cond):
        return F.count(F.when(cond, True)).cast("bigint")

    counts = (
        events.rollup("dim_hostname")
        .agg(
            n(action.isin(*HIT_ACTIONS)).alias("website_hits"),
            n(action == "signup").alias("signups"),
            n(action == "purchase").alias("purchases"),
            F.grouping("dim_hostname").alias("_rolled_up"),
        )
        .withColumn(
            "dim_hostname",
            F.when(F.col("_rolled_up") == 1, ALL_HOSTS).otherwise(F.col("dim_hostname")),
        )
        .drop("_rolled_up")
    )
    return with_conversion_rates(counts).withColumn("ds", F.lit(ds))


def main(spark, ds: str, settings, params: dict | None = None) -> JobResult:
    from include.tables import read_partition, table_version, write_partition

    events = read_partition(spark, FCT_WEBSITE_EVENTS, ds, settings)
    out = write_partition(spark, transform(events, ds), DAILY_GROWTH, ds, settings)
    return JobResult(
        job="gold.growth.daily_growth",
        ds=ds,
        rows_out=out["rows"],
        versions={
            FCT_WEBSITE_EVENTS.qualified_name: table_version(spark, FCT_WEBSITE_EVENTS, settings),
            DAILY_GROWTH.qualified_name: out["version"],
        },
    )
