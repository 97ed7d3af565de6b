"""gold.support_summary (seed 004): support tickets and NPS of one month, month-to-date.

Tickets created in the month containing ``ds`` (up to its end), counted with a CUBE over
category and priority: aggregation_level is ``overall``, ``category``, ``priority`` or
``category__priority``, and a rolled-up dimension reads ``all``. Resolution time is over
tickets resolved by the end of ``ds``; satisfaction over answered tickets. The month's NPS
(answers in the month: %promoters (9-10) - %detractors (0-6), from -100 to 100) is on the
overall row only: NPS answers are not tied to a ticket category or priority.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from include.table_catalog_finance import SUPPORT_SUMMARY
from include.table_catalog_sources import SILVER_NPS_RESPONSES, SILVER_SUPPORT_TICKETS
from spark_jobs.common import JobResult
from spark_jobs.gold.finance._common import (
    MonthWindow,
    filter_between,
    filter_landed_by,
    kept,
    read_history,
    safe_ratio,
    ts,
    with_month_columns,
    write_month,
)

if TYPE_CHECKING:
    from pyspark.sql import DataFrame

ALL = "all"


def ticket_cube(tickets: DataFrame, stop: str) -> DataFrame:
    """Ticket counts, resolution and satisfaction for every (category, priority) roll-up."""
    from pyspark.sql import functions as F

    resolved = F.col("resolved_at").isNotNull() & (F.col("resolved_at") < ts(stop))
    hours = (F.unix_timestamp("resolved_at") - F.unix_timestamp("created_at")) / 3600.0
    level = (
        F.when(F.grouping_id() == 3, "overall")
        .when(F.grouping_id() == 1, "category")
        .when(F.grouping_id() == 2, "priority")
        .otherwise("category__priority")
    )
    return (
        tickets.cube("category", "priority")
        .agg(
            level.alias("aggregation_level"),
            F.count(F.lit(1)).cast("bigint").alias("tickets"),
            F.count(F.when(resolved, True)).cast("bigint").alias("resolved_tickets"),
            F.avg(F.when(resolved, hours)).alias("avg_resolution_hours"),
            F.count("satisfaction").cast("bigint").alias("satisfaction_responses"),
            F.avg("satisfaction").cast("double").alias("avg_satisfaction"),
            F.grouping("category").alias("_all_category"),
            F.grouping("priority").alias("_all_priority"),
        )
        .withColumn(
            "category", F.when(F.col("_all_category") == 1, ALL).otherwise(F.col("category"))
        )
        .withColumn(
            "priority", F.when(F.col("_all_priority") == 1, ALL).otherwise(F.col("priority"))
        )
        .drop("_all_category", "_all_priority")
    )


def nps_summary(nps: DataFrame) -> DataFrame:
    """One row: responses, promoters, passives, detractors and the NPS score."""
    from pyspark.sql import functions as F

    s = F.col("score")
    return (
        nps.agg(
            F.count(F.lit(1)).cast("bigint").alias("nps_responses"),
            F.count(F.when(s >= 9, True)).cast("bigint").alias("promoters"),
            F.count(F.when((s >= 7) & (s <= 8), True)).cast("bigint").alias("passives"),
            F.count(F.when(s <= 6, True)).cast("bigint").alias("detractors"),
        )
        .withColumn(
            "nps_score",
            safe_ratio((F.col("promoters") - F.col("detractors")) * 100, F.col("nps_responses")),
        )
        .withColumn("aggregation_level", F.lit("overall"))
    )


def transform(tickets: DataFrame, nps: DataFrame, ds: str) -> DataFrame:
    from pyspark.sql import functions as F

    window = MonthWindow.of(ds)
    month_tickets = filter_between(
        filter_landed_by(tickets, ds), "created_at", window.start, window.stop
    )
    month_nps = filter_between(filter_landed_by(nps, ds), "responded_at", window.start, window.stop)
    # full outer: a month with NPS answers but no ticket still gets its overall row
    cube = ticket_cube(month_tickets, window.stop)
    out = cube.join(nps_summary(month_nps), "aggregation_level", "full_outer")

    filled = out.select(
        "aggregation_level",
        F.coalesce("category", F.lit(ALL)).alias("category"),
        F.coalesce("priority", F.lit(ALL)).alias("priority"),
        F.coalesce("tickets", F.lit(0).cast("bigint")).alias("tickets"),
        F.coalesce("resolved_tickets", F.lit(0).cast("bigint")).alias("resolved_tickets"),
        "avg_resolution_hours",
        F.coalesce("satisfaction_responses", F.lit(0).cast("bigint")).alias(
            "satisfaction_responses"
        ),
        "avg_satisfaction",
        "nps_responses",
        "promoters",
        "passives",
        "detractors",
        "nps_score",
    )
    return with_month_columns(filled, window)


def main(spark, ds: str, settings, params: dict | None = None) -> JobResult:
    from include.tables import table_version

    window = MonthWindow.of(ds)
    tickets = read_history(spark, SILVER_SUPPORT_TICKETS, ds, settings)
    nps = read_history(spark, SILVER_NPS_RESPONSES, ds, settings)
    out = write_month(spark, transform(tickets, nps, ds), SUPPORT_SUMMARY, window, settings)
    return JobResult(
        job="gold.finance.support_summary",
        ds=ds,
        rows_out=out["rows"],
        versions={
            c.qualified_name: table_version(spark, c, settings)
            for c in (SILVER_SUPPORT_TICKETS, SILVER_NPS_RESPONSES)
        }
        | {SUPPORT_SUMMARY.qualified_name: out["version"]},
        extra={"month": window.month, **kept(out)},
    )
