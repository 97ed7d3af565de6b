"""gold.agg_website_events (seed 003): GROUPING SETS over the day's website events.

One pass computes every slice; ``aggregation_level`` names the grouping (``overall``, one
dimension, or dimensions joined by ``__``), and dimensions outside a grouping are null.
``m_total_events`` counts the slice's events (hits), ``m_distinct_users`` the people behind
them (seed 003: "how many people are going to xx.com"): distinct ``logged_out_user_id`` (the
seed's hash of IP address and device, set on every event, logged in or not), so a visitor
with ten events counts once; the same person on two devices counts twice.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from include.table_catalog import AGG_WEBSITE_EVENTS, FCT_WEBSITE_EVENTS
from spark_jobs.common import JobResult

if TYPE_CHECKING:
    from pyspark.sql import DataFrame

DIMENSIONS = ("dim_action_type", "dim_country", "dim_device_brand", "event_hour")
GROUPING_SETS: tuple[tuple[str, ...], ...] = (
    (),
    ("dim_action_type",),
    ("dim_country",),
    ("dim_device_brand",),
    ("event_hour",),
    ("dim_action_type", "dim_country"),
    ("dim_action_type", "dim_device_brand"),
    ("dim_action_type", "event_hour"),
    ("dim_country", "dim_device_brand"),
)


def level_name(grouping: tuple[str, ...]) -> str:
    return "__".join(grouping) if grouping else "overall"


def _grouping_id(grouping: tuple[str, ...]) -> int:
    """Spark's grouping_id(): bit i from the left set = dimension i of DIMENSIONS rolled up."""
    bits = ["0" if d in grouping else "1" for d in DIMENSIONS]
    return int("".join(bits), 2)


def transform(events: DataFrame, ds: str) -> DataFrame:
    from pyspark.sql import functions as F

    from include.tables import validate_ds

    validate_ds(ds)  # it is interpolated into the SQL below
    sets = ", ".join("(" + ", ".join(g) + ")" for g in GROUPING_SETS)
    level = (
        "CASE grouping_id() "
        + " ".join(f"WHEN {_grouping_id(g)} THEN '{level_name(g)}'" for g in GROUPING_SETS)
        + " END"
    )
    hourly = events.withColumn("event_hour", F.hour("event_timestamp").cast("int"))
    hourly.createOrReplaceTempView("_fct_website_events_day")
    return hourly.sparkSession.sql(
        f"""
        SELECT dim_action_type, dim_country, dim_device_brand, event_hour,
               CAST(COUNT(*) AS BIGINT) AS m_total_events,
               CAST(COUNT(DISTINCT logged_out_user_id) AS BIGINT) AS m_distinct_users,
               {level} AS aggregation_level,
               '{ds}' AS ds
        FROM _fct_website_events_day
        GROUP BY GROUPING SETS ({sets})
        """
    )


def main(spark, ds: str, settings, params: dict | None = None) -> JobResult:
    from include.tables import read_partition, table_version, write_partition

    events = read_partition(spark, FCT_WEBSITE_EVENTS, ds, settings)
    out = write_partition(spark, transform(events, ds), AGG_WEBSITE_EVENTS, ds, settings)
    return JobResult(
        job="gold.agg_website_events",
        ds=ds,
        rows_out=out["rows"],
        versions={
            FCT_WEBSITE_EVENTS.qualified_name: table_version(spark, FCT_WEBSITE_EVENTS, settings),
            AGG_WEBSITE_EVENTS.qualified_name: out["version"],
        },
    )
