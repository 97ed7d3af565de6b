"""gold.{experiment}_details: seed 000's deep-dive table of a SaaS-funnel experiment, as of ds.

One row per clean-cohort eligible visitor of ``{experiment}_outcomes`` (``is_eligible_visitor
= 1``, ``duplication_rank = 1``, ``contamination_flag = 'Not Contaminated'``), with:

- **tenure**: ``tenure_days`` = exposure date - signup date (of the account as of ds);
  negative when the visitor signed up after the exposure (most prospects), null without an
  account. ``tenure_bucket``: 'no_account', 'signed_up_after_exposure', '0-13d' (the 14-day
  trial), '14-29d', '30-89d', '90-179d', '180-364d', '365d+'. ``signup_cohort`` = signup
  month 'YYYY-MM';
- **conversion**: ``converted_at`` = the instant of the paid start that made the conversion
  (the earliest paid start on ``conversion_date``, which the outcomes rules chose);
- **promo_type**: ``promo_code`` of that paid_start billing event, 'none' when it has none,
  null when not converted;
- **retention** (``silver.billing_events``, where ``mrr`` is the MRR after each event): the
  MRR state at an instant is the ``mrr`` of the account's latest billing event at or before
  it (ties: largest billing_event_id), 0 without one. ``m{k}_retained`` = 1 when the MRR
  state at ``converted_at + k calendar months`` (clamped to the month's last day) is > 0,
  else 0; null when not converted, or when that instant is after the end of ds (not yet
  observable). A customer who cancelled and came back before the instant counts as
  retained: it is a state, not a survival flag;
- **usage** (``silver.product_usage``, daily rows per account): over usage dates in
  [exposure date, exposure date + 30 days) and on/before ds: ``logins`` and ``emails_sent``
  summed, ``features_adopted`` = the highest adopted-features level reached (the source
  reports a cumulative level, not daily adoptions), ``usage_days`` = days with activity;
  0 for an account without usage, null without an account. ``usage_window_complete`` says
  whether all 30 days are on/before ds.

Reads (bounded): ``{experiment}_outcomes`` and ``{experiment}_base`` partition ds (base holds
the signup time and paid start times); billing events from the start date to
``min(ds, end + 2 months + 1 day)`` (the conversion is on/after the start; the last
retention instant is 2 months after the end); usage from the start to ``min(ds, end + 30
days)``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from include.experiments import RETENTION_MONTHS, USAGE_DAYS, ExperimentSpec
from spark_jobs.common import JobResult
from spark_jobs.gold.experiments.common import (
    NOT_CONTAMINATED,
    capped,
    cast_to_contract,
    day_after,
    distinct_count,
    spec_from_params,
)

if TYPE_CHECKING:
    from pyspark.sql import Column, DataFrame, SparkSession


def read_bounds(spec: ExperimentSpec, ds: str) -> dict[str, tuple[str, str]]:
    """Silver partitions the job reads as of ``ds``, per source."""
    lo = spec.start_date.isoformat()
    return {
        "billing": (lo, capped(ds, spec.retention_last_day)),
        "usage": (lo, capped(ds, spec.usage_last_day)),
    }


def filter_clean_cohort(outcomes: DataFrame) -> DataFrame:
    from pyspark.sql import functions as F

    return outcomes.where(
        (F.col("is_eligible_visitor") == 1)
        & (F.col("duplication_rank") == 1)
        & (F.col("contamination_flag") == NOT_CONTAMINATED)
    )


def tenure_bucket(days: Column, has_account: Column) -> Column:
    from pyspark.sql import functions as F

    return (
        F.when(~has_account, F.lit("no_account"))
        .when(days < 0, F.lit("signed_up_after_exposure"))
        .when(days < 14, F.lit("0-13d"))
        .when(days < 30, F.lit("14-29d"))
        .when(days < 90, F.lit("30-89d"))
        .when(days < 180, F.lit("90-179d"))
        .when(days < 365, F.lit("180-364d"))
        .otherwise(F.lit("365d+"))
    )


def with_tenure(df: DataFrame) -> DataFrame:
    from pyspark.sql import functions as F

    days = F.datediff(F.col("exposure_date"), F.to_date("signup_at"))
    return (
        df.withColumn("tenure_days", days)
        .withColumn("tenure_bucket", tenure_bucket(days, F.col("signup_at").isNotNull()))
        .withColumn("signup_cohort", F.date_format("signup_at", "yyyy-MM"))
    )


def with_converted_at(df: DataFrame) -> DataFrame:
    """The paid-start instant behind ``conversion_date`` (earliest paid start that day)."""
    from pyspark.sql import functions as F

    chosen = F.array_min(
        F.filter("paid_start_times", lambda t: F.to_date(t) == F.col("conversion_date"))
    )
    return df.withColumn("converted_at", F.when(F.col("is_converted") == 1, chosen))


def billing_states(converted: DataFrame, billing: DataFrame, ds: str) -> DataFrame:
    """Per converted unit: promo type and the M1/M2 flags (null while unobservable)."""
    from pyspark.sql import functions as F

    known_until = F.to_timestamp(F.lit(day_after(ds)))
    instants = converted.select(
        "unit_id",
        "user_id",
        "converted_at",
        *[
            (F.col("converted_at") + F.expr(f"INTERVAL {k} MONTHS")).alias(f"_t{k}")
            for k in RETENTION_MONTHS
        ],
    )
    events = billing.select(
        "user_id", "event_type", "event_time", "billing_event_id", "mrr", "promo_code"
    )
    order = F.struct("event_time", "billing_event_id")
    is_start = (F.col("event_type") == "paid_start") & (
        F.col("event_time") == F.col("converted_at")
    )
    promo = F.when(is_start, F.coalesce("promo_code", F.lit("none")))
    aggs = [F.max_by(promo, F.when(is_start, order)).alias("promo_type")]
    for k in RETENTION_MONTHS:
        t = F.col(f"_t{k}")
        aggs.append(F.max_by("mrr", F.when(F.col("event_time") <= t, order)).alias(f"_mrr{k}"))
        aggs.append(F.first(t < known_until).alias(f"_seen{k}"))
    states = instants.join(events, "user_id", "left").groupBy("unit_id").agg(*aggs)
    return states.select(
        "unit_id",
        "promo_type",
        *[
            F.when(F.col(f"_seen{k}"), (F.coalesce(f"_mrr{k}", F.lit(0)) > 0).cast("int")).alias(
                f"m{k}_retained"
            )
            for k in RETENTION_MONTHS
        ],
    )


def usage_totals(units: DataFrame, usage: DataFrame, ds: str) -> DataFrame:
    """Per unit with an account: usage over [exposure date, + 30 days), up to ds."""
    from pyspark.sql import functions as F

    day = F.col("usage_date")
    window = (
        (day >= F.col("exposure_date"))
        & (day < F.date_add("exposure_date", USAGE_DAYS))
        & (day <= F.lit(ds).cast("date"))
    )
    joined = units.select("unit_id", "user_id", "exposure_date").join(
        usage.select("user_id", "usage_date", "logins", "emails_sent", "features_adopted"),
        "user_id",
    )
    return (
        joined.where(window)
        .groupBy("unit_id")
        .agg(
            F.sum("logins").alias("logins"),
            F.sum("emails_sent").alias("emails_sent"),
            F.max("features_adopted").alias("features_adopted"),
            F.countDistinct("usage_date").alias("usage_days"),
        )
    )


def transform(
    spec: ExperimentSpec,
    ds: str,
    outcomes: DataFrame,
    base: DataFrame,
    billing: DataFrame,
    usage: DataFrame,
) -> DataFrame:
    """Outcome and base rows of ds + bounded billing / usage -> details rows (pure)."""
    from pyspark.sql import functions as F

    from include.table_catalog_experiments import details_contract

    units = (
        filter_clean_cohort(outcomes)
        .select(
            "experiment",
            "unit_id",
            "person_id",
            "user_id",
            "variant",
            "first_exposure_at",
            "exposure_date",
            "is_converted",
            "conversion_date",
        )
        .join(base.select("unit_id", "signup_at", "paid_start_times"), "unit_id", "left")
        .transform(with_tenure)
        .transform(with_converted_at)
    )
    converted = units.where(F.col("converted_at").isNotNull())
    has_account = F.col("user_id").isNotNull()

    def per_account(column: str) -> Column:
        return F.when(has_account, F.coalesce(F.col(column), F.lit(0)))

    last_usage_day = F.date_add("exposure_date", USAGE_DAYS - 1)
    out = (
        units.join(billing_states(converted, billing, ds), "unit_id", "left")
        .join(usage_totals(units.where(has_account), usage, ds), "unit_id", "left")
        .select(
            "experiment",
            "unit_id",
            "person_id",
            "user_id",
            "variant",
            "first_exposure_at",
            "exposure_date",
            "signup_at",
            "signup_cohort",
            "tenure_days",
            "tenure_bucket",
            "is_converted",
            "converted_at",
            "conversion_date",
            "promo_type",
            *[f"m{k}_retained" for k in RETENTION_MONTHS],
            per_account("logins").alias("logins"),
            per_account("emails_sent").alias("emails_sent"),
            per_account("features_adopted").alias("features_adopted"),
            per_account("usage_days").alias("usage_days"),
            (last_usage_day <= F.lit(ds).cast("date")).alias("usage_window_complete"),
            F.lit(ds).alias("ds"),
        )
    )
    return cast_to_contract(out, details_contract(spec.name))


def main(spark: SparkSession, ds: str, settings, params: dict | None = None) -> JobResult:
    from include.table_catalog_experiments import contract_for
    from include.table_catalog_sources import SILVER_BILLING_EVENTS, SILVER_PRODUCT_USAGE
    from include.tables import read_partition, write_partition
    from spark_jobs.gold.experiments.common import read_range

    spec = spec_from_params(params, ds)
    contract = contract_for(spec.name, "details")
    bounds = read_bounds(spec, ds)
    outcomes = read_partition(spark, contract_for(spec.name, "outcomes"), ds, settings)
    base = read_partition(spark, contract_for(spec.name, "base"), ds, settings)
    billing = read_range(spark, SILVER_BILLING_EVENTS, *bounds["billing"], settings)
    usage = read_range(spark, SILVER_PRODUCT_USAGE, *bounds["usage"], settings)
    out = write_partition(
        spark, transform(spec, ds, outcomes, base, billing, usage), contract, ds, settings
    )
    # rows in: the clean-cohort outcome rows (one details row each), counted on the input
    clean_units = distinct_count(filter_clean_cohort(outcomes), "unit_id")
    result = JobResult(job="gold.experiments.details", ds=ds, rows_in=clean_units)
    result.rows_out = out["rows"]
    result.versions = {contract.qualified_name: out["version"]}
    result.extra = {"experiment": spec.name, "read_ranges": bounds}
    return result.check_accounting()
