"""Derived quality checks: rules GX cannot state on one raw partition, as small frames.

Each check is one function ``check(spark, contract, ds, settings) -> Derived``: it reads what
it needs (bounded: the ds partition, at most the 7 previous ds partitions, or the month and the
month before), computes a small Spark frame (one row per aggregation level, hostname, hour,
month, offending row or offending person) and names the suite and the ``meta.check`` whose
expectations judge it (thresholds live in those expectations' kwargs, in ``expectations/``).
The pure ``*_frame`` functions take DataFrames, so they are tested without any table.

Row-rule checks (funnel ordering, one rank-1 row per person) keep only the offending rows
(at most :data:`MAX_OFFENDING` of them): a clean partition gives an empty frame, which passes.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import TYPE_CHECKING, NamedTuple

from include.contracts import TableContract

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

    from include.settings import Settings

HISTORY_DAYS = 7
MAX_OFFENDING = 1000
# week-over-week ratios are judged only for hostnames with at least this many rows at ds-7:
# a host with a handful of hits swings by 2x on noise alone
WOW_MIN_ROWS = 100


class Derived(NamedTuple):
    suite: str
    check: str
    frame: DataFrame
    index_columns: list[str]


def _day(ds: str, days: int) -> str:
    return (dt.date.fromisoformat(ds) + dt.timedelta(days=days)).isoformat()


def _read_ds_range(spark, contract: TableContract, first: str, last: str, settings):
    """Partitions first..last (inclusive) of a ds-partitioned table; None if no table yet."""
    from pyspark.sql import functions as F

    from include.tables import read_table, table_exists, validate_ds

    validate_ds(first), validate_ds(last)
    if not table_exists(spark, contract, settings):
        return None
    return read_table(spark, contract, settings).where(F.col("ds").between(first, last))


# ------------------------------------------------------------------ gold.agg_website_events
def rollup_frame(agg: DataFrame) -> DataFrame:
    """Per aggregation level: its largest m_total_events and the overall rollup's total.

    ``level_max_share`` = level max / overall total must be <= 1 (seed 003: the overall rollup
    has more data than any other); ``overall_rows`` must be 1.
    """
    from pyspark.sql import functions as F

    levels = agg.groupBy("aggregation_level").agg(
        F.max("m_total_events").alias("level_max"),
        F.sum("m_total_events").cast("bigint").alias("level_events"),
    )
    overall = agg.where(F.col("aggregation_level") == "overall").agg(
        F.max("m_total_events").alias("overall_total"),
        F.count(F.lit(1)).alias("overall_rows"),
    )
    return levels.crossJoin(overall).select(
        "aggregation_level",
        "level_max",
        "level_events",
        "overall_total",
        "overall_rows",
        (F.col("level_max") / F.col("overall_total")).alias("level_max_share"),
    )


def hourly_pattern_frame(today: DataFrame, history: DataFrame | None) -> DataFrame:
    """Per event_hour 0..23: today's share of events and the trailing days' pooled share.

    Both inputs are agg_website_events rows; only the ``event_hour`` level is used.
    ``abs_share_diff`` is null when there is no history (the rule then passes).
    """
    from pyspark.sql import functions as F

    def shares(df: DataFrame, prefix: str) -> DataFrame:
        hourly = (
            df.where(F.col("aggregation_level") == "event_hour")
            .groupBy("event_hour")
            .agg(F.sum("m_total_events").alias(f"{prefix}_events"))
        )
        total = F.sum(f"{prefix}_events").over(_whole())
        return hourly.withColumn(f"{prefix}_share", F.col(f"{prefix}_events") / total)

    spark = today.sparkSession
    hours = spark.range(24).select(F.col("id").cast("int").alias("event_hour"))
    out = hours.join(shares(today, "today"), "event_hour", "left")
    if history is not None:
        out = out.join(shares(history, "history"), "event_hour", "left").withColumn(
            "history_days", F.lit(history.select("ds").distinct().count())
        )
    else:
        out = (
            out.withColumn("history_events", F.lit(None).cast("bigint"))
            .withColumn("history_share", F.lit(None).cast("double"))
            .withColumn("history_days", F.lit(0))
        )
    has_history = F.sum(F.coalesce("history_events", F.lit(0))).over(_whole()) > 0
    today_share = F.coalesce("today_share", F.lit(0.0))
    history_share = F.coalesce("history_share", F.lit(0.0))
    return out.select(
        "event_hour",
        today_share.alias("today_share"),
        F.when(has_history, history_share).alias("history_share"),
        F.when(has_history, F.abs(today_share - history_share)).alias("abs_share_diff"),
        "history_days",
    ).orderBy("event_hour")


def _whole():
    from pyspark.sql import Window

    return Window.partitionBy()


def agg_rollup(spark, contract, ds, settings) -> Derived:
    from include.tables import read_partition

    agg = read_partition(spark, contract, ds, settings)
    return Derived(contract.suite, "rollup", rollup_frame(agg), ["aggregation_level"])


def agg_hourly_pattern(spark, contract, ds, settings) -> Derived:
    from include.tables import read_partition

    today = read_partition(spark, contract, ds, settings)
    history = _read_ds_range(spark, contract, _day(ds, -HISTORY_DAYS), _day(ds, -1), settings)
    if history is not None and history.limit(1).count() == 0:
        history = None
    return Derived(
        contract.suite, "hourly_pattern", hourly_pattern_frame(today, history), ["event_hour"]
    )


def agg_minimum_counts(spark, contract, ds, settings) -> Derived:
    """Overall-level total (and every level's sum of m_total_events, which equals it)."""
    frame = agg_rollup(spark, contract, ds, settings).frame.select(
        "aggregation_level", "level_events"
    )
    return Derived(contract.suite, "minimum_counts", frame, ["aggregation_level"])


# ------------------------------------------------------------------ silver.fct_website_events
def week_over_week_frame(
    today: DataFrame, week_ago: DataFrame | None, min_rows: int = WOW_MIN_ROWS
) -> DataFrame:
    """Per dim_hostname: today's rows, rows at ds-7 and their ratio.

    ``wow_ratio`` is null (not judged) when the host had no rows at ds-7 (no history: the
    warn rule on ``rows_week_ago`` says so) or fewer than ``min_rows``.
    """
    from pyspark.sql import functions as F

    now = today.groupBy("dim_hostname").agg(F.count(F.lit(1)).alias("rows_today"))
    if week_ago is None:
        joined = now.withColumn("rows_week_ago", F.lit(None).cast("bigint"))
    else:
        before = week_ago.groupBy("dim_hostname").agg(F.count(F.lit(1)).alias("rows_week_ago"))
        joined = now.join(before, "dim_hostname", "full_outer")
    return joined.select(
        F.coalesce("dim_hostname", F.lit("(null)")).alias("dim_hostname"),
        F.coalesce("rows_today", F.lit(0)).cast("bigint").alias("rows_today"),
        F.col("rows_week_ago").cast("bigint").alias("rows_week_ago"),
        F.when(
            F.col("rows_week_ago") >= min_rows,
            F.coalesce("rows_today", F.lit(0)) / F.col("rows_week_ago"),
        ).alias("wow_ratio"),
    )


def fct_week_over_week(spark, contract, ds, settings) -> Derived:
    from include.tables import read_partition

    today = read_partition(spark, contract, ds, settings)
    week_ago = _read_ds_range(spark, contract, _day(ds, -7), _day(ds, -7), settings)
    if week_ago is not None and week_ago.limit(1).count() == 0:
        week_ago = None
    return Derived(
        contract.suite, "week_over_week", week_over_week_frame(today, week_ago), ["dim_hostname"]
    )


# ------------------------------------------------------------------ gold.daily_growth
# Seed 003's guardrails (signup_conversion_rate, purchase_conversion_rate): "if the metric goes
# down, it will heavily impact the business". A day-over-day drop warns when it is both large
# (the rate fell by at least GUARDRAIL_MAX_DROP of the previous day's) and unlikely to be
# noise (one-sided conditional test of two Poisson rates, p < GUARDRAIL_ALPHA): a host with a
# handful of signups swings by half on noise alone, a large site moves by 5 % for real.
GUARDRAIL_MAX_DROP = 0.20
GUARDRAIL_ALPHA = 0.01
GUARDRAILS = (
    ("signup_conversion_rate", "signups", "website_hits"),
    ("purchase_conversion_rate", "purchases", "signups"),
)


def rate_drop_p_value(x_today: int, n_today: int, x_before: int, n_before: int) -> float | None:
    """One-sided p-value that today's rate x/n is below the previous day's by chance.

    Counts as Poisson with exposure n: given both days' total x, today's count is
    Binomial(x_today + x_before, n_today / (n_today + n_before)) under equal rates, and the
    p-value is P(X <= x_today) (the conditional, exact test of two Poisson rates). None when a
    day has no exposure or neither day a count (nothing to compare)."""
    from scipy.stats import binom

    if n_today <= 0 or n_before <= 0 or x_today + x_before == 0:
        return None
    share = n_today / (n_today + n_before)
    return float(binom.cdf(x_today, x_today + x_before, share))


def guardrail_drop_rows(today: list[dict], before: list[dict]) -> list[tuple]:
    """Per hostname of ``today`` and guardrail: both days' counts and rates, the relative
    change, its p-value and ``significant_drop`` (pure Python on a few collected rows).

    A hostname without a previous day, or a rate undefined on either day, is not judged
    (``relative_change`` and ``p_value`` null, ``significant_drop`` false)."""
    prev = {r["dim_hostname"]: r for r in before}
    rows = []
    for r in sorted(today, key=lambda r: r["dim_hostname"]):
        p = prev.get(r["dim_hostname"])
        for metric, num, den in GUARDRAILS:
            x1, n1 = int(r[num] or 0), int(r[den] or 0)
            x0, n0 = (int(p[num] or 0), int(p[den] or 0)) if p else (None, None)
            rate1 = x1 / n1 if n1 else None
            rate0 = x0 / n0 if n0 else None
            change = pval = None
            if rate1 is not None and rate0:  # a previous rate of 0 cannot drop
                change = rate1 / rate0 - 1.0
                pval = rate_drop_p_value(x1, n1, x0, n0)
            flag = bool(
                change is not None and pval is not None
                and change <= -GUARDRAIL_MAX_DROP and pval < GUARDRAIL_ALPHA
            )  # fmt: skip
            rows.append((r["dim_hostname"], metric, x1, n1, x0, n0, rate1, rate0, change, pval,
                         flag))  # fmt: skip
    return rows


GUARDRAIL_DROP_DDL = (
    "dim_hostname STRING, metric STRING, numerator BIGINT, denominator BIGINT, "
    "previous_numerator BIGINT, previous_denominator BIGINT, rate DOUBLE, previous_rate DOUBLE, "
    "relative_change DOUBLE, p_value DOUBLE, significant_drop BOOLEAN"
)


def guardrail_drop_frame(spark, today: DataFrame, before: DataFrame | None) -> DataFrame:
    """:func:`guardrail_drop_rows` of two ``gold.daily_growth`` partitions, as a frame."""
    cols = ("dim_hostname", "website_hits", "signups", "purchases")
    now = [r.asDict() for r in today.select(*cols).collect()]
    prev = [] if before is None else [r.asDict() for r in before.select(*cols).collect()]
    return spark.createDataFrame(guardrail_drop_rows(now, prev), GUARDRAIL_DROP_DDL)


def growth_guardrail_drop(spark, contract, ds, settings) -> Derived:
    from include.tables import read_partition

    today = read_partition(spark, contract, ds, settings)
    before = _read_ds_range(spark, contract, _day(ds, -1), _day(ds, -1), settings)
    frame = guardrail_drop_frame(spark, today, before)
    return Derived(contract.suite, "guardrail_drop", frame, ["dim_hostname", "metric"])


# --------------------------------------------------------------------------- bronze
def accounting_frame(
    spark: SparkSession, source: str, raw_lines: int, bronze_rows: int, quarantined: int
) -> DataFrame:
    """rows in = rows out + rows quarantined, per source (one row), and the quarantine rate
    quarantined / (bronze + quarantined) (null with no row at all)."""
    total = bronze_rows + quarantined
    return spark.createDataFrame(
        [(source, raw_lines, bronze_rows, quarantined, raw_lines - bronze_rows - quarantined,
          quarantined / total if total else None)],  # fmt: skip
        "source STRING, raw_lines BIGINT, bronze_rows BIGINT, quarantined_rows BIGINT, "
        "unaccounted_lines BIGINT, quarantine_rate DOUBLE",
    )


def count_raw_lines(spark, settings, source: str, ds: str) -> int:
    """Lines of the day's raw files, counted as the bronze job reads them (0 if none landed)."""
    from include.raw_reader import MissingRawData, raw_line_count, require_raw_path

    try:
        path = require_raw_path(spark, settings, source, ds)
    except MissingRawData:
        return 0
    return raw_line_count(spark, path)


# a source whose lines are mostly quarantined is a broken delivery, not a day with some bad
# rows: its gate blocks (the thresholds are the kwargs of bronze_quarantine.json)
def quarantine_rate_frame(loaded: DataFrame, quarantine: DataFrame) -> DataFrame:
    """Per bronze source: rows loaded into ``bronze.<source>`` (``loaded``: source,
    loaded_rows), rows of the day's ``bronze.quarantine`` partition for it, and
    ``quarantine_rate`` = quarantined / (loaded + quarantined), null for a source with no row
    at all (nothing to judge)."""
    from pyspark.sql import functions as F

    bad = (
        quarantine.where(F.col("layer") == "bronze")
        .groupBy("source")
        .agg(F.count(F.lit(1)).alias("quarantined_rows"))
    )
    joined = loaded.join(bad, "source", "full_outer").select(
        "source",
        F.coalesce("loaded_rows", F.lit(0)).cast("bigint").alias("loaded_rows"),
        F.coalesce("quarantined_rows", F.lit(0)).cast("bigint").alias("quarantined_rows"),
    )
    total = F.col("loaded_rows") + F.col("quarantined_rows")
    return joined.withColumn(
        "quarantine_rate", F.when(total > 0, F.col("quarantined_rows") / total)
    )


def quarantine_rate(spark, contract, ds, settings) -> Derived:
    """:func:`quarantine_rate_frame` of the non-web bronze sources with a quarantined row on
    ds (one query on the quarantine, then one count per source it names; a source without a
    quarantined row has rate 0 and is not counted). web_events has the same rule on its own
    gate (the ``row_accounting`` frame holds its counts already)."""
    from functools import reduce

    from pyspark.sql import functions as F

    from include.table_catalog_bronze_sources import BRONZE_SOURCES
    from include.tables import read_partition

    quarantine = read_partition(spark, contract, ds, settings).where(F.col("layer") == "bronze")
    tables = dict(BRONZE_SOURCES)
    quarantine = quarantine.where(F.col("source").isin(*tables))
    named = {r.source for r in quarantine.select("source").distinct().collect()}
    if not named:  # nothing quarantined: every rate is 0, nothing to count
        empty = "source STRING, loaded_rows BIGINT, quarantined_rows BIGINT, quarantine_rate DOUBLE"
        return Derived(contract.suite, "quarantine_rate", spark.createDataFrame([], empty),
                       ["source"])  # fmt: skip
    counts = [
        read_partition(spark, tables[source], ds, settings).agg(
            F.lit(source).alias("source"), F.count(F.lit(1)).alias("loaded_rows")
        )
        for source in sorted(named & set(tables))
    ]
    loaded = (
        reduce(lambda a, b: a.unionByName(b), counts)
        if counts
        else spark.createDataFrame([], "source STRING, loaded_rows BIGINT")
    )
    frame = quarantine_rate_frame(loaded, quarantine)
    return Derived(contract.suite, "quarantine_rate", frame, ["source"])


def bronze_row_accounting(spark, contract, ds, settings) -> Derived:
    from pyspark.sql import functions as F

    from include.table_catalog import QUARANTINE
    from include.tables import read_partition, table_exists

    source = contract.name
    bronze_rows = read_partition(spark, contract, ds, settings).count()
    quarantined = 0
    if table_exists(spark, QUARANTINE, settings):
        quarantined = (
            read_partition(spark, QUARANTINE, ds, settings)
            .where((F.col("layer") == "bronze") & (F.col("source") == source))
            .count()
        )
    raw = count_raw_lines(spark, settings, source, ds)
    frame = accounting_frame(spark, source, raw, bronze_rows, quarantined)
    return Derived(contract.suite, "row_accounting", frame, ["source"])


# --------------------------------------------------------------------------- gold.mrr_bridge
def previous_month(month: str) -> str:
    year, mon = int(month[:4]), int(month[5:7])
    return f"{year - 1}-12" if mon == 1 else f"{year}-{mon - 1:02d}"


def mrr_bridge_frame(bridge: DataFrame) -> DataFrame:
    """Per month: the seed 004 identity (exact, in DECIMAL) and continuity with month - 1.

    ``start_matches_previous_end`` is null when the previous month is absent or was last built
    before its final day (a month-to-date end is not the next month's start).
    """
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    implied = (
        F.col("start_mrr")
        + F.col("new_mrr")
        + F.col("expansion_mrr")
        - F.col("contraction_mrr")
        - F.col("churn_mrr")
    )
    prev = Window.orderBy("month")
    prev_month = F.date_format(
        F.add_months(F.to_date(F.concat("month", F.lit("-01"))), -1), "yyyy-MM"
    )
    with_prev = bridge.select(
        "month",
        "as_of_ds",
        "start_mrr",
        "end_mrr",
        implied.alias("implied_end_mrr"),
        F.lag("month").over(prev).alias("prev_month"),
        F.lag("end_mrr").over(prev).alias("prev_end_mrr"),
        F.lag("as_of_ds").over(prev).alias("prev_as_of_ds"),
        prev_month.alias("expected_prev_month"),
    )
    prev_complete = (F.col("prev_month") == F.col("expected_prev_month")) & (
        F.col("prev_as_of_ds")
        == F.date_format(F.last_day(F.to_date("prev_as_of_ds")), "yyyy-MM-dd")
    )
    return with_prev.select(
        "month",
        "as_of_ds",
        "start_mrr",
        "end_mrr",
        "implied_end_mrr",
        (F.col("end_mrr") - F.col("implied_end_mrr")).alias("identity_gap"),
        (F.col("end_mrr") == F.col("implied_end_mrr")).alias("identity_holds"),
        F.when(prev_complete, F.col("prev_end_mrr")).alias("previous_end_mrr"),
        F.when(prev_complete, F.col("start_mrr") == F.col("prev_end_mrr")).alias(
            "start_matches_previous_end"
        ),
    ).orderBy("month")


def mrr_bridge_identity(spark, contract, ds, settings) -> Derived:
    """The month containing ds and the month before (bounded: two partitions)."""
    from pyspark.sql import functions as F

    from include.tables import read_table, validate_ds

    month = validate_ds(ds)[:7]
    bridge = read_table(spark, contract, settings).where(
        F.col("month").isin(month, previous_month(month))
    )
    return Derived(contract.suite, "bridge_identity", mrr_bridge_frame(bridge), ["month"])


# ------------------------------------------------------------------ gold.{experiment}_outcomes
FUNNEL_RULES = (
    "conversion_not_before_exposure",
    "conversion_not_before_activation",
    "booking_not_before_conversion",
    "flags_match_dates",
    "funnel_flags_nested",
    "steps_start_before_complete",
)


def funnel_order_frame(outcomes: DataFrame) -> DataFrame:
    """Rows breaking a seed 001 ordering rule, one boolean column per rule (true = holds)."""
    from pyspark.sql import functions as F

    c = F.col
    flag_date_pairs = (
        ("is_activated", "activation_date"),
        ("is_converted", "conversion_date"),
        ("new_booking_flag", "booking_date"),
    )
    checks = {
        "conversion_not_before_exposure": c("conversion_date").isNull()
        | (c("conversion_date") >= c("exposure_date")),
        "conversion_not_before_activation": c("conversion_date").isNull()
        | c("activation_date").isNull()
        | (c("conversion_date") >= c("activation_date")),
        "booking_not_before_conversion": c("booking_date").isNull()
        | (c("conversion_date").isNotNull() & (c("booking_date") >= c("conversion_date"))),
        "flags_match_dates": _all(
            [(F.coalesce(c(f), F.lit(0)) == 1) == c(d).isNotNull() for f, d in flag_date_pairs]
        ),
        "funnel_flags_nested": _all(
            [
                (F.coalesce(c(inner), F.lit(0)) == 0) | (F.coalesce(c(outer), F.lit(0)) == 1)
                for inner, outer in (
                    ("new_booking_flag", "is_converted"),
                    ("is_converted", "is_activated"),
                    ("is_activated", "is_eligible_visitor"),
                )
            ]
        ),
        "steps_start_before_complete": _all(
            [
                c(f"{s}_start_date").isNull()
                | c(f"{s}_complete_date").isNull()
                | (c(f"{s}_start_date") <= c(f"{s}_complete_date"))
                for s in ("onboarding", "checkout")
            ]
        ),
    }
    flagged = outcomes.select(
        "unit_id", "person_id", *[F.coalesce(v, F.lit(False)).alias(k) for k, v in checks.items()]
    )
    return flagged.where(~_all([c(k) for k in checks])).orderBy("unit_id").limit(MAX_OFFENDING)


def person_rank_frame(outcomes: DataFrame) -> DataFrame:
    """People without exactly one duplication_rank = 1 row (the clean cohort's one row)."""
    from pyspark.sql import functions as F

    per_person = outcomes.groupBy("person_id").agg(
        F.count(F.when(F.col("duplication_rank") == 1, True)).alias("rank_one_rows"),
        F.count(F.lit(1)).alias("rows"),
    )
    return (
        per_person.where(F.col("rank_one_rows") != 1)
        .select(
            F.coalesce("person_id", F.lit("(null)")).alias("person_id"), "rank_one_rows", "rows"
        )
        .orderBy("person_id")
        .limit(MAX_OFFENDING)
    )


def _all(conditions):
    from functools import reduce

    return reduce(lambda a, b: a & b, conditions)


def outcomes_funnel_order(spark, contract, ds, settings) -> Derived:
    from include.tables import read_partition

    frame = funnel_order_frame(read_partition(spark, contract, ds, settings))
    return Derived(contract.suite, "funnel_order", frame, ["unit_id"])


def outcomes_person_rank(spark, contract, ds, settings) -> Derived:
    from include.tables import read_partition

    frame = person_rank_frame(read_partition(spark, contract, ds, settings))
    return Derived(contract.suite, "one_primary_row_per_person", frame, ["person_id"])


# --------------------------------------------------------------------------- registry
Check = Callable[["SparkSession", TableContract, str, "Settings"], Derived]

DERIVED_CHECKS: dict[str, dict[str, Check]] = {
    "gold_agg_website_events": {
        "rollup": agg_rollup,
        "hourly_pattern": agg_hourly_pattern,
        "minimum_counts": agg_minimum_counts,
    },
    "silver_fct_website_events": {"week_over_week": fct_week_over_week},
    "gold_daily_growth": {"guardrail_drop": growth_guardrail_drop},
    "bronze_web_events": {"row_accounting": bronze_row_accounting},
    "bronze_quarantine": {"quarantine_rate": quarantine_rate},
    "gold_mrr_bridge": {"bridge_identity": mrr_bridge_identity},
    "gold_experiment_outcomes": {
        "funnel_order": outcomes_funnel_order,
        "one_primary_row_per_person": outcomes_person_rank,
    },
}


def derived_checks(suite: str) -> dict[str, Check]:
    """The derived checks of a suite (empty when it has only row-level rules)."""
    return DERIVED_CHECKS.get(suite, {})
