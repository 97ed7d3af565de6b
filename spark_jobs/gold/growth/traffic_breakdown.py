"""gold.traffic_breakdown (seed 003): COUNT(website_hits) GROUP BY referrer, per day.

Where traffic comes from (LinkedIn? Substack?): website hits (page_view + landing_page) by
referrer domain and utm_source, both read from ``other_properties`` of
silver.fct_website_events. The referrer is reduced to its host (``https://t.co/abc`` ->
``t.co``) so one source is one row; a missing referrer reads ``(direct)`` and a missing
utm_source ``(none)``. Rows per hostname and for ``dim_hostname = 'all'``; share_of_hits is
the row's hits over its hostname's hits.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from include.table_catalog import FCT_WEBSITE_EVENTS
from include.table_catalog_finance import TRAFFIC_BREAKDOWN
from spark_jobs.common import JobResult
from spark_jobs.gold.growth._common import ALL_HOSTS, filter_hits

if TYPE_CHECKING:
    from pyspark.sql import DataFrame

DIRECT = "(direct)"
NO_UTM = "(none)"


def with_traffic_source(events: DataFrame) -> DataFrame:
    """Add ``referrer_domain`` and ``utm_source`` from ``other_properties``."""
    from pyspark.sql import functions as F

    props = F.col("other_properties")
    host = F.lower(
        F.regexp_extract(props.getItem("referrer"), r"^[A-Za-z][A-Za-z0-9+.-]*://([^/:?#]+)", 1)
    )
    utm = F.lower(F.trim(props.getItem("utm_source")))
    return events.withColumn(
        "referrer_domain", F.when(host != "", host).otherwise(F.lit(DIRECT))
    ).withColumn("utm_source", F.when(utm != "", utm).otherwise(F.lit(NO_UTM)))


def transform(events: DataFrame, ds: str) -> DataFrame:
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    from include.tables import validate_ds

    validate_ds(ds)
    hits = with_traffic_source(filter_hits(events))
    per_host = hits.groupBy("dim_hostname", "referrer_domain", "utm_source").agg(
        F.count(F.lit(1)).cast("bigint").alias("website_hits")
    )
    all_hosts = (
        per_host.groupBy("referrer_domain", "utm_source")
        .agg(F.sum("website_hits").cast("bigint").alias("website_hits"))
        .withColumn("dim_hostname", F.lit(ALL_HOSTS))
    )
    rows = per_host.unionByName(all_hosts)
    host_total = F.sum("website_hits").over(Window.partitionBy("dim_hostname"))
    return rows.withColumn(
        "share_of_hits", F.col("website_hits").cast("double") / host_total
    ).withColumn("ds", F.lit(ds))


def main(spark, ds: str, settings, params: dict | None = None) -> JobResult:
    from include.tables import read_partition, table_version, write_partition

    events = read_partition(spark, FCT_WEBSITE_EVENTS, ds, settings)
    out = write_partition(spark, transform(events, ds), TRAFFIC_BREAKDOWN, ds, settings)
    return JobResult(
        job="gold.growth.traffic_breakdown",
        ds=ds,
        rows_out=out["rows"],
        versions={
            FCT_WEBSITE_EVENTS.qualified_name: table_version(spark, FCT_WEBSITE_EVENTS, settings),
            TRAFFIC_BREAKDOWN.qualified_name: out["version"],
        },
    )
